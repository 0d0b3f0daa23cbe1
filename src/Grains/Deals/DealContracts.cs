using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;

namespace Vetrina.Grains.Deals;

public enum DealStatus
{
    Ready = 0,
    Counting = 1,
    Active = 2,
    Ended = 3,
    SoldOut = 4,
}

/// <summary>A deal open on a product, and the live session it is for (none: every live session showing the product).</summary>
[GenerateSerializer, Immutable, Alias("vetrina.deal-ref")]
public sealed record DealRef(
    [property: Id(0)] string DealId,
    [property: Id(1)] string? SessionId);

/// <summary>A flash deal as its brand set it up; never changed.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.deal-definition")]
public sealed record DealDefinition(
    [property: Id(0)] string ProductId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] string? SessionId,
    [property: Id(3)] long DealPriceMinor,
    [property: Id(4)] string Currency,
    [property: Id(5)] int Units,
    [property: Id(6)] int PerBuyerLimit,
    [property: Id(7)] int CountdownSeconds,
    [property: Id(8)] int DurationSeconds);

[GenerateSerializer, Immutable, Alias("vetrina.deal-view")]
public sealed record FlashDealView(
    [property: Id(0)] string DealId,
    [property: Id(1)] string ProductId,
    [property: Id(2)] string? SessionId,
    [property: Id(3)] long DealPriceMinor,
    [property: Id(4)] string Currency,
    [property: Id(5)] int Units,
    [property: Id(6)] int Remaining,
    [property: Id(7)] int PerBuyerLimit,
    [property: Id(8)] DealStatus Status,
    [property: Id(9)] DateTimeOffset? StartsAt,
    [property: Id(10)] DateTimeOffset? EndsAt,
    [property: Id(11), System.Text.Json.Serialization.JsonIgnore] long Version = 0)
{
    /// <summary>
    /// Whether this view is older than <paramref name="other"/>: views of a deal can reach its session out of order
    /// (the deal is reentrant and tells each change as it goes), and a late one must not undo a later state.
    /// </summary>
    public bool IsOlderThan(FlashDealView other) => (Version, (int)Status).CompareTo((other.Version, (int)other.Status)) < 0;

    /// <summary>The view as it stands at <paramref name="at"/>: a countdown or a deal that ran out of time moves on by itself.</summary>
    public FlashDealView AsOf(DateTimeOffset at) => Status switch
    {
        DealStatus.Counting when at >= EndsAt => this with { Status = DealStatus.Ended },
        DealStatus.Counting when at >= StartsAt => this with { Status = DealStatus.Active },
        DealStatus.Active when at >= EndsAt => this with { Status = DealStatus.Ended },
        _ => this,
    };
}

/// <summary>One checkout's ask of a deal.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.deal-request")]
public sealed record DealRequest(
    [property: Id(0)] string CheckoutId,
    [property: Id(1)] string ShopperId,
    [property: Id(2)] int Quantity);

public enum DealAnswer
{
    /// <summary>The deal is not active (ready, counting or ended): the buy is at the product's own price.</summary>
    NotActive = 0,
    Granted = 1,
    /// <summary>The shopper would get more than the per-buyer limit (409 deal-limit).</summary>
    LimitReached = 2,
    /// <summary>The deal has no unit left for this ask (409).</summary>
    NoUnits = 3,

    /// <summary>The same checkout is being decided in another window (503, not journalled: its retry gets that outcome).</summary>
    Busy = 4,
}

/// <summary>What a deal answered a window: per request, and the price of the granted ones.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.deal-reservation")]
public sealed record DealReservation(
    [property: Id(0)] long PriceMinor,
    [property: Id(1)] IReadOnlyList<DealAnswer> Answers);

/// <summary>
/// One flash deal: a deal price on units carved from its product's stock, a per-buyer limit and a countdown. Its
/// units and buyers are rows of the sales journal, where the database refuses an oversell or a buyer over the limit;
/// the grain admits each checkout window's asks in one call, as a product does.
/// </summary>
[Alias("vetrina.flash-deal")]
public interface IFlashDealGrain : ExactlyOnce.IEffectTarget
{
    [Alias("create")]
    Task<Outcome<FlashDealView>> CreateAsync(string actingBrandId, DealDefinition definition);

    [AlwaysInterleave, Alias("get")]
    Task<FlashDealView?> GetAsync();

    /// <summary>Starts the countdown: the brand, or the creator of the deal's live session.</summary>
    [Alias("start")]
    Task<Outcome<FlashDealView>> StartAsync(string? actingBrandId, string? actingCreatorId);

    /// <summary>
    /// Holds units for a window's asks placed at <paramref name="placedAt"/> (the time their orders carry): granted only
    /// if the deal is active at that moment and has not ended since.
    /// </summary>
    [Alias("reserve")]
    Task<DealReservation> ReserveAsync(string reservationId, IReadOnlyList<DealRequest> requests, DateTimeOffset placedAt);

    /// <summary>A window's outcome: <paramref name="sold"/> are its checkouts the journal committed, <paramref name="counts"/> the deal's row after.</summary>
    [Alias("settle")]
    Task SettleAsync(string reservationId, IReadOnlyList<string> sold, StockCounts? counts);

    /// <summary>Takes units of a cancelled or refunded deal line back (once per operation id).</summary>
    [Alias("restock")]
    Task RestockAsync(string operationId, int quantity);
}

public static class DealRules
{
    public const int MaxUnits = 1_000_000;
    public const int MaxCountdownSeconds = 3_600;
    public const int MaxDurationSeconds = 86_400;

    public static string? Error(long dealPriceMinor, int units, int perBuyerLimit, int countdownSeconds, int durationSeconds) =>
        dealPriceMinor is < 1 or > Catalog.CatalogRules.MaxPriceMinor ? $"dealPriceMinor must be between 1 and {Catalog.CatalogRules.MaxPriceMinor}."
        : units is < 1 or > MaxUnits ? $"units must be between 1 and {MaxUnits}."
        : perBuyerLimit < 1 || perBuyerLimit > units ? "perBuyerLimit must be between 1 and units."
        : countdownSeconds is < 0 or > MaxCountdownSeconds ? $"countdownSeconds must be between 0 and {MaxCountdownSeconds}."
        : durationSeconds is < 1 or > MaxDurationSeconds ? $"durationSeconds must be between 1 and {MaxDurationSeconds}."
        : null;
}
