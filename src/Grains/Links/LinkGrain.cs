using Orleans.Serialization;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Links;

[GenerateSerializer, Alias("vetrina.link-state")]
public sealed class LinkState
{
    [Id(0)] public LinkDefinition? Definition { get; set; }
    [Id(1)] public long Clicks { get; set; }
    [Id(2)] public UniqueCounter Shoppers { get; set; } = new();
    [Id(3)] public long Orders { get; set; }
    [Id(4)] public long Units { get; set; }
    [Id(5)] public long GmvMinor { get; set; }
    [Id(6)] public long CommissionMinor { get; set; }
    [Id(7)] public AppliedOperations Applied { get; set; } = new();
    [Id(8)] public JournalWatermarks Projected { get; set; } = new();
}

/// <summary>
/// A short code tying one creator to one product: counts clicks (tallied per silo by <see cref="ClickTally"/>)
/// and the sales they drive. A viral link takes
/// every click and sale of a video, so it is reentrant and its writes are group-committed: each change is made
/// in memory in one turn and answered once a batched write containing it is durable.
/// </summary>
[Reentrant]
public sealed class LinkGrain(
    [PersistentState("link", StateStorage.Name)] IPersistentState<LinkState> state,
    CommerceClock clock,
    IOptions<GroupCommitOptions> groupCommit,
    DeepCopier copier) : Grain, ILinkGrain
{
    private LinkState? _live;

    /// <summary>The live state every call changes; storage gets copies of it (see <see cref="DurableState.GroupCommit{T}"/>).</summary>
    private LinkState S => _live ??= state.State;
    private string Code => this.GetPrimaryKeyString();
    private LinkStats _publishedStats = new(0, 0, 0, 0, 0, 0);
    private GroupCommit? _commit;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var stats = Stats();
        return () => _publishedStats = stats;
    });

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _publishedStats = Stats();
        return Task.CompletedTask;
    }

    public async Task<Outcome<LinkView>> CreateAsync(LinkDefinition definition)
    {
        if (S.Definition is not null)
        {
            return Failure.Conflict($"Link code '{Code}' is taken.");
        }
        S.Definition = definition;
        await Commit.DurableAsync();
        return Outcome<LinkView>.Ok(View());
    }

    public Task<LinkView?> GetAsync() => Task.FromResult(S.Definition is null ? Unknown<LinkView>() : View());

    public Task<Outcome<LinkStats>> GetStatsAsync(string? actingCreatorId)
    {
        if (S.Definition is null)
        {
            this.DeactivateOnIdle();
            return Task.FromResult<Outcome<LinkStats>>(Failure.NotFound($"Link '{Code}'"));
        }
        if (actingCreatorId is not null && actingCreatorId != S.Definition.CreatorId)
        {
            return Task.FromResult<Outcome<LinkStats>>(Failure.Forbidden("The link belongs to another creator."));
        }
        return Task.FromResult(Outcome<LinkStats>.Ok(_publishedStats));
    }

    public Task<LinkDefinition?> GetDefinitionAsync() => Task.FromResult(S.Definition ?? Unknown<LinkDefinition>());

    /// <summary>A made-up code: leave memory at once, so that a flood of them cannot fill the silo.</summary>
    private T? Unknown<T>() where T : class
    {
        this.DeactivateOnIdle();
        return null;
    }

    public async Task AddClicksAsync(ClickBatch batch)
    {
        S.Clicks += batch.Clicks;
        foreach (var hash in batch.ShopperHashes)
        {
            S.Shoppers.AddHash(hash);
        }
        await Commit.DurableAsync();
    }

    public Task ApplyAsync(LinkSaleEntry entry) =>
        S.Applied.EffectAsync(entry.OperationId, () => Add(entry), Commit, GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow);

    public Task ProjectAsync(JournalPosition position, LinkSaleEntry entry) => S.Projected.BatchAsync(position, () => Add(entry), Commit);

    private void Add(LinkSaleEntry entry)
    {
        S.Orders += entry.OrdersDelta;
        S.Units += entry.UnitsDelta;
        S.GmvMinor += entry.GmvDelta;
        S.CommissionMinor += entry.CommissionDelta;
    }

    public Task ForgetOperationsAsync(string[] operationIds) => S.Applied.ForgetAsync(operationIds, Commit);

    /// <summary>Forgotten ids that no write carried yet are written now, so stored state does not keep growing.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Commit.WriteLazyChangesAsync(reason);

    private LinkView View() => new(Code, S.Definition!.ProductId, S.Definition.CreatorId, Active: true);

    private LinkStats Stats() =>
        new(S.Clicks, S.Shoppers.Estimate(), S.Orders, S.Units, S.GmvMinor, S.CommissionMinor);
}
