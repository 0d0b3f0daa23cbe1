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

    public int KeptQuantity(int line) => Cancelled ? 0 : Draft!.Lines[line].Quantity - RefundedQuantities[line];
}
