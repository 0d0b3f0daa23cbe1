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

/// <summary>A creator's commission in one currency, by stage of its lifecycle.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.commission-balance")]
public sealed record CommissionBalance(
    [property: Id(0)] string Currency,
    [property: Id(1)] long PendingMinor,
    [property: Id(2)] long SettledMinor,
    [property: Id(3)] long PaidMinor,
    [property: Id(4)] long ReversedMinor);

/// <summary>A change to one creator's ledger caused by one order event; applied at most once.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ledger-entry")]
public sealed record LedgerEntry(
    [property: Id(0)] string OperationId,
    [property: Id(1)] string Currency,
    [property: Id(2)] long PendingDelta,
    [property: Id(3)] long SettledDelta,
    [property: Id(4)] long ReversedDelta);

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

    [AlwaysInterleave, Alias("earnings")]
    Task<IReadOnlyList<CommissionBalance>> GetEarningsAsync();

    [Alias("apply")]
    Task ApplyAsync(LedgerEntry entry);

    /// <summary>Adds a journal batch's commission to the ledger, once (see <see cref="ExactlyOnce.JournalWatermarks"/>).</summary>
    [Alias("project")]
    Task ProjectAsync(Journal.JournalPosition position, IReadOnlyList<LedgerEntry> entries);
}
