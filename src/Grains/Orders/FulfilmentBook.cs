namespace Vetrina.Grains.Orders;

/// <summary>Where an order stands in its brand's work: waiting to be shipped, to be delivered, or nothing left to do.</summary>
public enum FulfilmentStage
{
    ToShip = 0,
    ToDeliver = 1,
    Done = 2,
}

/// <summary>One order's place in its brand's fulfilment book, with what a list of orders shows of it.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.fulfilment-entry")]
public sealed record FulfilmentEntry(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] FulfilmentStage Stage,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] string Currency,
    [property: Id(5)] long TotalMinor)
{
    public static FulfilmentStage StageOf(OrderStatus status) => status switch
    {
        OrderStatus.Paid => FulfilmentStage.ToShip,
        OrderStatus.Shipped => FulfilmentStage.ToDeliver,
        _ => FulfilmentStage.Done,
    };
}

/// <summary>The oldest orders of one stage, and how many the stage holds.</summary>
public sealed record FulfilmentPage(long Count, IReadOnlyList<FulfilmentEntry> Oldest);

/// <summary>
/// Each brand's orders by fulfilment stage, for the brand console's lists of orders to ship and to deliver. The
/// sales projection enters placed orders, and each order's change of stage is an effect of that change. An entry
/// only ever moves forward (to ship, to deliver, done), so the two writers may arrive in any order, and repeats
/// change nothing: a late placement never reopens an order already shipped.
/// </summary>
public interface IFulfilmentBook
{
    /// <summary>Records each order at its stage, unless it is already at that stage or past it.</summary>
    Task RecordAsync(IReadOnlyList<FulfilmentEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>The brand's orders at the stage, oldest first, at most <paramref name="limit"/>, and their count.</summary>
    Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default);
}

/// <summary>The fulfilment book of memory mode (one silo, nothing survives a restart).</summary>
public sealed class InMemoryFulfilmentBook : IFulfilmentBook
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FulfilmentEntry> _orders = new(StringComparer.Ordinal);

    public Task RecordAsync(IReadOnlyList<FulfilmentEntry> entries, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (!_orders.TryGetValue(entry.OrderId, out var known) || known.Stage < entry.Stage)
                {
                    _orders[entry.OrderId] = entry;
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var matching = _orders.Values.Where(o => o.BrandId == brandId && o.Stage == stage).ToList();
            var oldest = matching.OrderBy(o => o.CreatedAt).ThenBy(o => o.OrderId, StringComparer.Ordinal).Take(limit).ToList();
            return Task.FromResult(new FulfilmentPage(matching.Count, oldest));
        }
    }
}
