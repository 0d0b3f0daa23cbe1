using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Live;

public enum LiveStatus
{
    Scheduled = 0,
    Live = 1,
    Ended = 2,
}

/// <summary>Who goes live and what it is called; set when the session is created and never changed.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.live-definition")]
public sealed record LiveDefinition(
    [property: Id(0)] string CreatorId,
    [property: Id(1)] string? CreatorShopperId,
    [property: Id(2)] string Title,
    [property: Id(3)] DateTimeOffset? ScheduledFor);

/// <summary>What a checkout needs of a session, asked once per session per checkout window.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.live-terms")]
public sealed record LiveTerms(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string CreatorId,
    [property: Id(2)] string? CreatorShopperId,
    [property: Id(3)] LiveStatus Status,
    [property: Id(4)] IReadOnlyList<string> Showcase);

[GenerateSerializer, Immutable, Alias("vetrina.live-view")]
public sealed record LiveSessionView(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string CreatorId,
    [property: Id(2)] string Title,
    [property: Id(3)] LiveStatus Status,
    [property: Id(4)] DateTimeOffset? ScheduledFor,
    [property: Id(5)] DateTimeOffset? StartedAt,
    [property: Id(6)] DateTimeOffset? EndedAt,
    [property: Id(7)] IReadOnlyList<string> Showcase,
    [property: Id(8)] string? PinnedProductId,
    [property: Id(9)] IReadOnlyList<Deals.FlashDealView> Deals,
    [property: Id(10)] int Viewers);

[GenerateSerializer, Immutable, Alias("vetrina.live-viewers")]
public sealed record LiveViewers([property: Id(0)] int Viewers);

[GenerateSerializer, Immutable, Alias("vetrina.live-stats")]
public sealed record LiveStats(
    [property: Id(0)] int Viewers,
    [property: Id(1)] int PeakViewers,
    [property: Id(2)] long UniqueViewers,
    [property: Id(3)] long Orders,
    [property: Id(4)] long Units,
    [property: Id(5)] long GmvMinor,
    [property: Id(6)] long CommissionMinor,
    [property: Id(7)] IReadOnlyList<ProductSales> ByProduct);

/// <summary>A change to a session's sales figures caused by one order event (or one journal batch); applied at most once.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.live-sale-entry")]
public sealed record LiveSaleEntry(
    [property: Id(0)] string OperationId,
    [property: Id(1)] long OrdersDelta,
    [property: Id(2)] long UnitsDelta,
    [property: Id(3)] long GmvDelta,
    [property: Id(4)] long CommissionDelta,
    [property: Id(5)] IReadOnlyList<ProductSales> ProductDeltas);

/// <summary>
/// One live session of one creator: its lifecycle, its showcase and pin, its viewers and the sales made in it.
/// Calls that change the session take the acting creator's id and refuse any other creator (403).
/// </summary>
[Alias("vetrina.live")]
public interface ILiveSessionGrain : IEffectTarget
{
    [Alias("create")]
    Task<Outcome<LiveSessionView>> CreateAsync(LiveDefinition definition);

    [AlwaysInterleave, Alias("get")]
    Task<LiveSessionView?> GetAsync();

    [Alias("start")]
    Task<Outcome<LiveSessionView>> StartAsync(string actingCreatorId);

    [Alias("end")]
    Task<Outcome<LiveSessionView>> EndAsync(string actingCreatorId);

    [Alias("showcase")]
    Task<Outcome<LiveSessionView>> SetShowcaseAsync(string actingCreatorId, IReadOnlyList<string> productIds);

    /// <summary>Pins a product of the showcase; null unpins.</summary>
    [Alias("pin")]
    Task<Outcome<LiveSessionView>> PinAsync(string actingCreatorId, string? productId);

    /// <summary>A shopper watches: counted once per session, and present while it joins again within the presence window.</summary>
    [Alias("join")]
    Task<Outcome<LiveViewers>> JoinAsync(string shopperId);

    /// <summary>Stats for the platform (null caller) or the session's own creator.</summary>
    [AlwaysInterleave, Alias("stats")]
    Task<Outcome<LiveStats>> GetStatsAsync(string? actingCreatorId);

    /// <summary>What a checkout window needs to sell in this session; null for a made-up session.</summary>
    [AlwaysInterleave, Alias("terms")]
    Task<LiveTerms?> GetTermsAsync();

    /// <summary>A deal of this session changed (created, started, sold, ended): shown in the session and sent to its streams.</summary>
    [OneWay, Alias("deal-changed")]
    Task DealChangedAsync(Deals.FlashDealView deal);

    /// <summary>The events after <paramref name="lastEventId"/>, or a snapshot of the session when that id cannot be resumed from.</summary>
    [AlwaysInterleave, Alias("events-since")]
    Task<IReadOnlyList<LiveEvent>> EventsSinceAsync(string? lastEventId);

    /// <summary>Subscribes (or renews) a silo's feed; a feed not renewed within <see cref="LiveOptions.FeedExpiry"/> is dropped.</summary>
    [AlwaysInterleave, Alias("subscribe")]
    Task SubscribeAsync(ILiveEventObserver feed);

    [AlwaysInterleave, Alias("unsubscribe")]
    Task UnsubscribeAsync(ILiveEventObserver feed);

    [Alias("apply")]
    Task ApplyAsync(LiveSaleEntry entry);

    /// <summary>Adds a journal batch's sales in this session, once (see <see cref="JournalWatermarks"/>).</summary>
    [Alias("project")]
    Task ProjectAsync(JournalPosition position, LiveSaleEntry entry);
}

public static class LiveRules
{
    public const int MaxTitleLength = 200;
    public const int MaxShowcase = 100;
}
