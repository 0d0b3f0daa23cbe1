using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Orders;

public enum OrderStatus
{
    Paid = 0,
    Shipped = 1,
    Delivered = 2,
    Completed = 3,
    Cancelled = 4,
    Refunded = 5,
    ChargedBack = 6,
}

/// <summary>A line as sold: price and commission rate frozen at checkout; CreatorId set only when attributed.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.order-line")]
public sealed record OrderLine(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string? LinkCode,
    [property: Id(4)] string? CreatorId,
    [property: Id(5)] int? CommissionBps,
    [property: Id(6)] string? LiveSessionId = null,
    [property: Id(7)] string? DealId = null,
    [property: Id(8)] string? RateSource = null,
    [property: Id(9)] string? CampaignId = null);

[GenerateSerializer, Immutable, Alias("vetrina.order-draft")]
public sealed record OrderDraft(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string CheckoutId,
    [property: Id(2)] string ShopperId,
    [property: Id(3)] string BrandId,
    [property: Id(4)] string Currency,
    [property: Id(5)] string PaymentId,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] int ReturnWindowDays,
    [property: Id(8)] IReadOnlyList<OrderLine> Lines)
{
    public long TotalMinor => Lines.Sum(l => Money.LineTotal(l.UnitPriceMinor, l.Quantity));
}

[GenerateSerializer, Immutable, Alias("vetrina.order-line-view")]
public sealed record OrderLineView(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string? LinkCode,
    [property: Id(4)] string? CreatorId,
    [property: Id(5)] int? CommissionBps,
    [property: Id(6)] long CommissionMinor,
    [property: Id(7)] int RefundedQuantity,
    [property: Id(8)] int CancelledQuantity,
    [property: Id(9)] string? LiveSessionId = null,
    [property: Id(10)] string? DealId = null,
    [property: Id(11)] string? RateSource = null,
    [property: Id(12)] string? CampaignId = null);

[GenerateSerializer, Immutable, Alias("vetrina.order-view")]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string ShopperId,
    [property: Id(2)] string BrandId,
    [property: Id(3)] OrderStatus Status,
    [property: Id(4)] string Currency,
    [property: Id(5)] long TotalMinor,
    [property: Id(6)] long RefundedMinor,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] string PaymentId,
    [property: Id(9)] IReadOnlyList<OrderLineView> Lines,
    [property: Id(10)] DateTimeOffset? ShippedAt,
    [property: Id(11)] DateTimeOffset? DeliveredAt,
    [property: Id(12)] DateTimeOffset? ReturnWindowEndsAt,
    [property: Id(13)] DateTimeOffset? CompletedAt,
    [property: Id(14)] bool CommissionFrozen = false,
    [property: Id(15)] DateTimeOffset? ChargedBackAt = null,
    [property: Id(16)] string? Reason = null);

/// <summary>Who reads or changes an order: the platform, or one brand.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.order-actor")]
public sealed record OrderActor([property: Id(0)] string? BrandId)
{
    public static readonly OrderActor Platform = new((string?)null);

    public bool May(string orderBrandId) => BrandId is null || BrandId == orderBrandId;
}

[GenerateSerializer, Immutable, Alias("vetrina.refund-line")]
public sealed record RefundLine([property: Id(0)] string ProductId, [property: Id(1)] int Quantity);

[Alias("vetrina.order")]
public interface IOrderGrain : IEffectSender
{
    [AlwaysInterleave, Alias("get")]
    Task<Outcome<OrderView>> GetAsync(OrderActor actor);

    [Alias("cancel")]
    Task<Outcome<OrderView>> CancelAsync(OrderActor actor);

    [Alias("ship")]
    Task<Outcome<OrderView>> ShipAsync(OrderActor actor);

    [Alias("deliver")]
    Task<Outcome<OrderView>> DeliverAsync(OrderActor actor);

    [Alias("refund")]
    Task<Outcome<OrderView>> RefundAsync(OrderActor actor, IReadOnlyList<RefundLine> lines, bool restock);

    /// <summary>The shopper's bank took the payment back: the commission is reversed whatever its stage.</summary>
    [Alias("charge-back")]
    Task<Outcome<OrderView>> ChargeBackAsync(string reason);

    /// <summary>Holds (or releases) the order's commission out of settlement and payouts.</summary>
    [Alias("freeze")]
    Task<Outcome<OrderView>> FreezeAsync(bool frozen, string reason);
}
