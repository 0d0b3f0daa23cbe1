using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;
using Vetrina.Grains.Links;

namespace Vetrina.Grains.Creators;

[GenerateSerializer, Immutable, Alias("vetrina.creator-registration")]
public sealed record CreatorRegistration(
    [property: Id(0)] string Handle,
    [property: Id(1)] long Followers,
    [property: Id(2)] string? ShopperId,
    [property: Id(3)] string ApiKeyHash);

[GenerateSerializer, Immutable, Alias("vetrina.creator-view")]
public sealed record CreatorView(
    [property: Id(0)] string CreatorId,
    [property: Id(1)] string Handle,
    [property: Id(2)] long Followers,
    [property: Id(3)] string? ShopperId,
    [property: Id(4)] DateTimeOffset CreatedAt);

/// <summary>
/// A creator's commission in one currency, by stage of its lifecycle. <c>FrozenMinor</c> is held out of settlement
/// and payouts while the platform reviews it; <c>CarryMinor</c> is what the creator owes back (commission reversed
/// after it was paid out), which later payouts net first. What the creator is owed is
/// <c>pending + settled + frozen − carry</c>, the closing of its statement.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.commission-balance")]
public sealed record CommissionBalance(
    [property: Id(0)] string Currency,
    [property: Id(1)] long PendingMinor,
    [property: Id(2)] long SettledMinor,
    [property: Id(3)] long PaidMinor,
    [property: Id(4)] long ReversedMinor,
    [property: Id(5)] long FrozenMinor = 0,
    [property: Id(6)] long CarryMinor = 0)
{
    /// <summary>What the creator is owed now: the balance its statement closes on.</summary>
    public long OwedMinor => PendingMinor + SettledMinor + FrozenMinor - CarryMinor;
}

/// <summary>
/// A change to one creator's ledger caused by one order event; applied at most once. <c>Movements</c> are the
/// statement entries it makes (one per order and kind).
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.ledger-entry")]
public sealed record LedgerEntry(
    [property: Id(0)] string OperationId,
    [property: Id(1)] string Currency,
    [property: Id(2)] long PendingDelta,
    [property: Id(3)] long SettledDelta,
    [property: Id(4)] long ReversedDelta,
    [property: Id(5)] long FrozenDelta = 0,
    [property: Id(6)] IReadOnlyList<LedgerMovement>? Movements = null);

/// <summary>A payout made to a creator in a payout run.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.payout")]
public sealed record Payout(
    [property: Id(0)] string PayoutId,
    [property: Id(1)] string RunId,
    [property: Id(2)] string CreatorId,
    [property: Id(3)] string Currency,
    [property: Id(4)] long AmountMinor,
    [property: Id(5)] DateTimeOffset CreatedAt);

/// <summary>What a payout run asks of one creator: pay, once per run, its settled unfrozen commission less carry when that reaches the minimum.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.payout-order")]
public sealed record PayoutOrder(
    [property: Id(0)] string RunId,
    [property: Id(1)] string Currency,
    [property: Id(2)] long MinimumMinor,
    [property: Id(3)] DateTimeOffset At);

[Alias("vetrina.creator")]
public interface ICreatorGrain : IEffectTarget
{
    [Alias("register")]
    Task<Outcome<CreatorView>> RegisterAsync(CreatorRegistration registration);

    [AlwaysInterleave, Alias("get")]
    Task<CreatorView?> GetAsync();

    [AlwaysInterleave, Alias("has-key")]
    Task<bool> HasKeyAsync(string apiKeyHash);

    [Alias("create-link")]
    Task<Outcome<LinkView>> CreateLinkAsync(string productId);

    /// <summary>Schedules a live session of this creator.</summary>
    [Alias("create-live")]
    Task<Outcome<Live.LiveSessionView>> CreateLiveAsync(string title, DateTimeOffset? scheduledFor);

    /// <summary>The ids of the creator's live sessions, oldest first.</summary>
    [AlwaysInterleave, Alias("live-session-ids")]
    Task<IReadOnlyList<string>> LiveSessionIdsAsync();

    [AlwaysInterleave, Alias("earnings")]
    Task<IReadOnlyList<CommissionBalance>> GetEarningsAsync();

    [Alias("apply")]
    Task ApplyAsync(LedgerEntry entry);

    /// <summary>Pays out, once per run: a repeat of the run answers the same payout (or none).</summary>
    [Alias("pay-out")]
    Task<Payout?> PayOutAsync(PayoutOrder order);

    [AlwaysInterleave, Alias("payouts")]
    Task<IReadOnlyList<Payout>> GetPayoutsAsync();

    /// <summary>The creator's statement in one currency over a period, from its books.</summary>
    [AlwaysInterleave, Alias("statement")]
    Task<Statement> GetStatementAsync(string currency, StatementPeriod period, int maxEntries);

    /// <summary>Adds a journal batch's commission to the ledger, once (see <see cref="ExactlyOnce.JournalWatermarks"/>).</summary>
    [Alias("project")]
    Task ProjectAsync(Journal.JournalPosition position, IReadOnlyList<LedgerEntry> entries);

    /// <summary>A targeted collaboration plan naming this creator, as it is now (by plan id).</summary>
    [Alias("put-plan-offer")]
    Task PutPlanOfferAsync(Collaborations.PlanOffer offer);

    /// <summary>
    /// What the creator would earn now on each product it may promote: the products it links and those of the active
    /// plans open to it (targeted at it, or open to all), highest rate first, at most <paramref name="limit"/>.
    /// </summary>
    [AlwaysInterleave, Alias("offers")]
    Task<IReadOnlyList<Collaborations.Offer>> GetOffersAsync(int limit);
}
