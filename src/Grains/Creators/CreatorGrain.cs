using Orleans.Serialization;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Collaborations;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Creators;

[GenerateSerializer, Alias("vetrina.creator-state")]
public sealed class CreatorState
{
    [Id(0)] public CreatorView? Creator { get; set; }
    [Id(1)] public string? ApiKeyHash { get; set; }
    [Id(2)] public CommissionLedger Ledger { get; set; } = new();
    [Id(3)] public AppliedOperations Applied { get; set; } = new();
    [Id(4)] public JournalWatermarks Projected { get; set; } = new();

    /// <summary>Every payout made to the creator, one per run at most.</summary>
    [Id(5)] public List<Payout> Payouts { get; set; } = [];

    /// <summary>When the creator first linked each product it links: the rate lock starts from there.</summary>
    [Id(6)] public Dictionary<string, DateTimeOffset> LinkedProducts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The targeted plans naming the creator that have not ended.</summary>
    [Id(7)] public List<PlanOffer> PlanOffers { get; set; } = [];

    /// <summary>The creator's live sessions, oldest first (for its console).</summary>
    [Id(8)] public List<string> LiveSessionIds { get; set; } = [];
}

/// <summary>
/// A creator: profile, key hash and the commission ledger that orders feed exactly once. A viral creator's ledger
/// takes an entry per sale, so the grain is reentrant and its writes are group-committed. Each movement of the ledger
/// goes to the creator's books (its statement) before the change is applied: the books keep a movement once by its
/// key, so a retried entry never writes one twice and an applied one is never missing from them.
/// </summary>
[Reentrant]
public sealed class CreatorGrain(
    [PersistentState("creator", StateStorage.Name)] IPersistentState<CreatorState> state,
    CommerceClock clock,
    IOptions<GroupCommitOptions> groupCommit,
    ICreatorBooks books,
    DeepCopier copier) : Grain, ICreatorGrain
{
    private const int LinkCodeAttempts = 5;
    private IReadOnlyList<CommissionBalance> _publishedEarnings = [];
    private IReadOnlyList<Payout> _publishedPayouts = [];
    private GroupCommit? _commit;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var earnings = S.Ledger.Snapshot();
        var payouts = S.Payouts.ToArray();
        return () => (_publishedEarnings, _publishedPayouts) = (earnings, payouts);
    });

    private CreatorState? _live;

    private string CreatorId => this.GetPrimaryKeyString();

    /// <summary>The live state every call changes; storage gets copies of it (see <see cref="DurableState.GroupCommit{T}"/>).</summary>
    private CreatorState S => _live ??= state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _publishedEarnings = S.Ledger.Snapshot();
        _publishedPayouts = S.Payouts.ToArray();
        return Task.CompletedTask;
    }

    public async Task<Outcome<CreatorView>> RegisterAsync(CreatorRegistration registration)
    {
        if (S.Creator is not null)
        {
            return Failure.Conflict("The creator already exists.");
        }
        if (registration.Followers < 0)
        {
            return Failure.Invalid("followers must not be negative.");
        }
        S.Creator = new CreatorView(CreatorId, registration.Handle, registration.Followers, registration.ShopperId, clock.UtcNow);
        S.ApiKeyHash = registration.ApiKeyHash;
        await Commit.DurableAsync();
        return Outcome<CreatorView>.Ok(S.Creator);
    }

    public Task<CreatorView?> GetAsync() => Task.FromResult(S.Creator);

    public Task<bool> HasKeyAsync(string apiKeyHash)
    {
        if (S.ApiKeyHash is null)
        {
            // Nobody registered under this id: a guessed key. Leave memory at once, so that a flood of made-up ids
            // cannot fill the silo with empty activations.
            this.DeactivateOnIdle();
            return Task.FromResult(false);
        }
        return Task.FromResult(ApiKeys.HashMatches(S.ApiKeyHash, apiKeyHash));
    }

    public async Task<Outcome<LinkView>> CreateLinkAsync(string productId)
    {
        var creator = S.Creator;
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
        if (!S.LinkedProducts.TryGetValue(productId, out var linkedAt))
        {
            S.LinkedProducts[productId] = linkedAt = clock.UtcNow;
            await Commit.DurableAsync();
        }
        var definition = new LinkDefinition(CreatorId, creator.ShopperId, productId, quote.BrandId, quote.Terms.AttributionWindowHours, linkedAt);
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

    public async Task<Outcome<LiveSessionView>> CreateLiveAsync(string title, DateTimeOffset? scheduledFor)
    {
        if (S.Creator is not { } creator)
        {
            return Failure.NotFound($"Creator '{CreatorId}'");
        }
        var created = await GrainFactory.GetGrain<ILiveSessionGrain>(Identifiers.NewRandom(IdPrefixes.LiveSession))
            .CreateAsync(new LiveDefinition(CreatorId, creator.ShopperId, title, scheduledFor));
        if (created.Value is { } session)
        {
            S.LiveSessionIds.Add(session.SessionId);
            await Commit.DurableAsync();
        }
        return created;
    }

    public Task<IReadOnlyList<string>> LiveSessionIdsAsync() => Task.FromResult<IReadOnlyList<string>>([.. S.LiveSessionIds]);

    public Task<IReadOnlyList<CommissionBalance>> GetEarningsAsync() => Task.FromResult(_publishedEarnings);

    public async Task ApplyAsync(LedgerEntry entry)
    {
        if (entry.Movements is { Count: > 0 } movements)
        {
            await books.RecordAsync(CreatorId, movements);
        }
        if (await S.Applied.EffectAsync(entry.OperationId, () => S.Ledger.Apply(entry), Commit, GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow))
        {
            VetrinaMetrics.LedgerApplied(entry);
        }
    }

    public async Task ProjectAsync(JournalPosition position, IReadOnlyList<LedgerEntry> entries)
    {
        var movements = entries.SelectMany(e => e.Movements ?? []).ToArray();
        if (movements.Length > 0)
        {
            await books.RecordAsync(CreatorId, movements);
        }
        if (await S.Projected.BatchAsync(position, () => entries.ToList().ForEach(S.Ledger.Apply), Commit))
        {
            foreach (var entry in entries)
            {
                VetrinaMetrics.LedgerApplied(entry);
            }
        }
    }

    public Task<IReadOnlyList<Payout>> GetPayoutsAsync() => Task.FromResult(_publishedPayouts);

    public Task<Statement> GetStatementAsync(string currency, StatementPeriod period, int maxEntries) =>
        books.StatementAsync(CreatorId, currency, period, maxEntries);

    public async Task<Payout?> PayOutAsync(PayoutOrder order)
    {
        var payout = S.Payouts.FirstOrDefault(p => p.RunId == order.RunId);
        var made = payout is null;
        if (payout is null)
        {
            var payable = S.Ledger.Payable(order.Currency);
            if (S.Creator is null || payable <= 0 || payable < order.MinimumMinor)
            {
                return null;
            }
            // Decided and changed within this turn (the grain is reentrant): a concurrent call of the same run finds
            // the payout made, and no other change can come between reading what is payable and paying it.
            payout = new Payout(Identifiers.Derived(IdPrefixes.Payout, order.RunId, CreatorId), order.RunId, CreatorId, order.Currency, payable, order.At);
            S.Ledger.PayOut(order.Currency, payable);
            S.Payouts.Add(payout);
        }
        // The payout is durable before its statement entry exists; a repeat of the run writes the entry again if a
        // crash came in between.
        await Commit.DurableAsync();
        await books.RecordAsync(CreatorId, [new LedgerMovement($"payout/{payout.PayoutId}", LedgerMovementKind.Paid, payout.Currency,
            payout.AmountMinor, payout.CreatedAt, null, payout.PayoutId, payout.RunId)]);
        if (made)
        {
            VetrinaMetrics.PaidOut(payout.Currency, payout.AmountMinor);
        }
        return payout;
    }

    public async Task PutPlanOfferAsync(PlanOffer offer)
    {
        var now = clock.UtcNow;
        S.PlanOffers.RemoveAll(o => o.PlanId == offer.PlanId || o.StopsAt <= now);
        if (offer.StopsAt is not { } stops || stops > now)
        {
            S.PlanOffers.Add(offer);
        }
        await Commit.DurableAsync();
    }

    public async Task<IReadOnlyList<Offer>> GetOffersAsync(int limit)
    {
        var now = clock.UtcNow;
        var open = await GrainFactory.GetGrain<IOpenPlansGrain>(IOpenPlansGrain.Key).ActiveAsync();
        var products = S.LinkedProducts.Keys
            .Concat(S.PlanOffers.Concat(open).Where(o => o.ActiveAt(now)).SelectMany(o => o.ProductIds))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var linked = new Dictionary<string, DateTimeOffset>(S.LinkedProducts, StringComparer.Ordinal);
        var decisions = await Task.WhenAll(products.Select(async productId =>
            (ProductId: productId, Rate: await GrainFactory.GetGrain<IProductGrain>(productId).OfferAsync(CreatorId, linked.TryGetValue(productId, out var at) ? at : null))));
        return decisions
            .Where(d => d.Rate is not null)
            .Select(d => new Offer(d.ProductId, d.Rate!.CommissionBps, d.Rate.Source, d.Rate.LockedUntil))
            .OrderByDescending(o => o.CommissionBps).ThenBy(o => o.ProductId, StringComparer.Ordinal)
            .Take(limit)
            .ToArray();
    }

    public Task ForgetOperationsAsync(string[] operationIds) => S.Applied.ForgetAsync(operationIds, Commit);

    /// <summary>Forgotten ids that no write carried yet are written now, so stored state does not keep growing.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Commit.WriteLazyChangesAsync(reason);
}
