namespace Vetrina.Grains.Orders;

/// <summary>Where an order stands in its brand's work: waiting to be shipped, to be delivered, or nothing left to do.</summary>
public enum FulfilmentStage
{
    ToShip = 0,
    ToDeliver = 1,
    Done = 2,
}

/// <summary>An order as a brand's list of work shows it.</summary>
public sealed record FulfilmentItem(string OrderId, DateTimeOffset CreatedAt, string Currency, long TotalMinor);

/// <summary>The oldest orders of one stage, and how many the stage holds.</summary>
public sealed record FulfilmentPage(long Count, IReadOnlyList<FulfilmentItem> Oldest);

/// <summary>
/// Each brand's orders by fulfilment stage, for the brand console's lists of orders to ship and to deliver, kept on
/// the orders' own journal rows: the checkout's transaction journals an order to ship (nothing more on the buy path),
/// and each later change of stage is an effect of the order's change. A stage only ever rises, so effects may arrive
/// late, out of order or twice and change nothing they should not.
/// </summary>
public interface IFulfilmentBook
{
    /// <summary>Moves the journalled order to the stage, unless it is at that stage or past it already.</summary>
    Task AdvanceAsync(string orderId, FulfilmentStage stage, CancellationToken cancellationToken = default);

    /// <summary>The brand's orders at the stage, oldest first, at most <paramref name="limit"/>, and their count.</summary>
    Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default);

    public static FulfilmentStage StageOf(OrderStatus status) => status switch
    {
        OrderStatus.Paid => FulfilmentStage.ToShip,
        OrderStatus.Shipped => FulfilmentStage.ToDeliver,
        _ => FulfilmentStage.Done,
    };
}
