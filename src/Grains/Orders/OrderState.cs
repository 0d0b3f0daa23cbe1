using Vetrina.Grains.Common;

namespace Vetrina.Grains.Orders;

[GenerateSerializer, Alias("vetrina.order-state")]
public sealed class OrderState
{
    [Id(0)] public OrderDraft? Draft { get; set; }
    [Id(1)] public OrderStatus Status { get; set; }
    [Id(2)] public int[] RefundedQuantities { get; set; } = [];
    [Id(3)] public bool Cancelled { get; set; }
    [Id(4)] public DateTimeOffset? ShippedAt { get; set; }
    [Id(5)] public DateTimeOffset? DeliveredAt { get; set; }
    [Id(6)] public DateTimeOffset? ReturnWindowEndsAt { get; set; }
    [Id(7)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(8)] public long RefundedMinor { get; set; }

    /// <summary>Effects written with the last changes and not yet acknowledged by their targets.</summary>
    [Id(9)] public List<OrderEffect> Outbox { get; set; } = [];

    /// <summary>Counts the order's changes; it names their effects, so that a retried change never repeats one.</summary>
    [Id(10)] public int Revision { get; set; }

    /// <summary>The platform holds the order's commission out of settlement and payouts while it reviews it.</summary>
    [Id(11)] public bool CommissionFrozen { get; set; }

    /// <summary>The payment was taken back by the shopper's bank: nothing of the order is kept, its commission is reversed.</summary>
    [Id(12)] public DateTimeOffset? ChargedBackAt { get; set; }

    /// <summary>Why the platform froze the commission, or charged the order back (the latest reason given).</summary>
    [Id(13)] public string? Reason { get; set; }

    public int KeptQuantity(int line) => Cancelled || ChargedBackAt is not null ? 0 : Draft!.Lines[line].Quantity - RefundedQuantities[line];

    /// <summary>An order as its checkout journalled it: paid, nothing changed since.</summary>
    public static OrderState Placed(OrderDraft draft) =>
        new() { Draft = draft, Status = OrderStatus.Paid, RefundedQuantities = new int[draft.Lines.Count] };

    public OrderView View()
    {
        var draft = Draft!;
        var lines = new OrderLineView[draft.Lines.Count];
        for (var i = 0; i < lines.Length; i++)
        {
            var l = draft.Lines[i];
            lines[i] = new OrderLineView(l.ProductId, l.Quantity, l.UnitPriceMinor, l.LinkCode, l.CreatorId, l.CommissionBps,
                l.CommissionBps is { } bps ? Money.Commission(l.UnitPriceMinor, KeptQuantity(i), bps) : 0,
                RefundedQuantities[i], Cancelled ? l.Quantity - RefundedQuantities[i] : 0, l.LiveSessionId, l.DealId, l.RateSource, l.CampaignId);
        }
        return new OrderView(draft.OrderId, draft.ShopperId, draft.BrandId, Status, draft.Currency, draft.TotalMinor, RefundedMinor,
            draft.CreatedAt, draft.PaymentId, lines, ShippedAt, DeliveredAt, ReturnWindowEndsAt, CompletedAt, CommissionFrozen, ChargedBackAt, Reason);
    }
}
