using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;

namespace Vetrina.Grains.Creators;

[GenerateSerializer, Alias("vetrina.creator-state")]
public sealed class CreatorState
{
    [Id(0)] public CreatorView? Creator { get; set; }
    [Id(1)] public string? ApiKeyHash { get; set; }
    [Id(2)] public CommissionLedger Ledger { get; set; } = new();
    [Id(3)] public AppliedOperations Applied { get; set; } = new();
}

/// <summary>
/// A creator: profile, key hash and the commission ledger that orders feed exactly once. A viral creator's ledger
/// takes an entry per sale, so the grain is reentrant and its writes are group-committed.
/// </summary>
[Reentrant]
public sealed class CreatorGrain(
    [PersistentState("creator", StateStorage.Name)] IPersistentState<CreatorState> state,
    CommerceClock clock,
    IOptions<GroupCommitOptions> groupCommit) : Grain, ICreatorGrain
{
    private const int LinkCodeAttempts = 5;
    private IReadOnlyList<CommissionBalance> _publishedEarnings = [];
    private GroupCommit? _commit;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, () =>
    {
        var earnings = state.State.Ledger.Snapshot();
        return () => _publishedEarnings = earnings;
    });

    private string CreatorId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _publishedEarnings = state.State.Ledger.Snapshot();
        return Task.CompletedTask;
    }

    public async Task<Outcome<CreatorView>> RegisterAsync(CreatorRegistration registration)
    {
        if (state.State.Creator is not null)
        {
            return Failure.Conflict("The creator already exists.");
        }
        if (registration.Followers < 0)
        {
            return Failure.Invalid("followers must not be negative.");
        }
        state.State.Creator = new CreatorView(CreatorId, registration.Handle, registration.Followers, registration.ShopperId, clock.UtcNow);
        state.State.ApiKeyHash = registration.ApiKeyHash;
        await Commit.DurableAsync();
        return Outcome<CreatorView>.Ok(state.State.Creator);
    }

    public Task<CreatorView?> GetAsync() => Task.FromResult(state.State.Creator);

    public Task<bool> HasKeyAsync(string apiKeyHash) => Task.FromResult(ApiKeys.HashMatches(state.State.ApiKeyHash, apiKeyHash));

    public async Task<Outcome<LinkView>> CreateLinkAsync(string productId)
    {
        var creator = state.State.Creator;
        if (creator is null)
        {
            return Failure.NotFound($"Creator '{CreatorId}'");
        }
        var quote = await GrainFactory.GetGrain<IProductGrain>(productId).QuoteAsync();
        if (quote is null)
        {
            return Failure.NotFound($"Product '{productId}'");
        }
        if (quote.Status != ProductStatus.Active)
        {
            return Failure.Conflict($"Product '{productId}' is archived.");
        }
        var definition = new LinkDefinition(CreatorId, creator.ShopperId, productId, quote.BrandId, quote.Terms.AttributionWindowHours);
        for (var attempt = 0; attempt < LinkCodeAttempts; attempt++)
        {
            var code = Identifiers.RandomBase62(IdPrefixes.LinkCodeLength);
            var created = await GrainFactory.GetGrain<ILinkGrain>(code).CreateAsync(definition);
            if (created.Succeeded)
            {
                return created;
            }
        }
        return new Failure(FailureKind.Unavailable, "No link code", "Could not find a free link code; try again.");
    }

    public Task<IReadOnlyList<CommissionBalance>> GetEarningsAsync() => Task.FromResult(_publishedEarnings);

    public async Task ApplyAsync(LedgerEntry entry)
    {
        if (state.State.Applied.Contains(entry.OperationId))
        {
            // Applied in memory, perhaps not yet durable: answer only once it is.
            await Commit.SettledAsync();
            return;
        }
        state.State.Ledger.Apply(entry);
        state.State.Applied.Record(entry.OperationId, clock.UtcNow);
        state.State.Applied.PruneOlderThan(clock.UtcNow - AppliedOperations.Retention);
        await Commit.DurableAsync();
        VetrinaMetrics.LedgerApplied(entry.Currency, entry.PendingDelta, entry.SettledDelta, entry.ReversedDelta);
    }

    public Task ForgetOperationsAsync(string[] operationIds)
    {
        state.State.Applied.Forget(operationIds);
        return Task.CompletedTask;
    }
}
