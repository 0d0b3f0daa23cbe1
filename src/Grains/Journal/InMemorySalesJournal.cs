using Vetrina.Grains.Orders;

namespace Vetrina.Grains.Journal;

/// <summary>
/// The journal of memory mode (one silo, nothing survives a restart): the same rules as the database journals,
/// each call one atomic step under a lock. Its orders' fulfilment stages are its fulfilment book.
/// </summary>
public sealed class InMemorySalesJournal : ISalesJournal, IFulfilmentBook
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, CheckoutRecord> _checkouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrderDraft> _orders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FulfilmentStage> _stages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OrderDraft>> _ordersByBrand = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StockCounts> _stock = new(StringComparer.Ordinal);
    private readonly HashSet<string> _restocks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChargeIntent> _charges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Limit, Dictionary<string, int> Buyers)> _deals = new(StringComparer.Ordinal);

    public Task<JournalCommit> CommitAsync(JournalBatch batch, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var earlier = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
            var fresh = new List<CheckoutRecord>();
            foreach (var record in batch.Checkouts)
            {
                if (_checkouts.TryGetValue(record.CheckoutId, out var first))
                {
                    earlier[record.CheckoutId] = first;
                }
                else if (fresh.All(f => f.CheckoutId != record.CheckoutId))
                {
                    fresh.Add(record);
                }
            }
            var sold = fresh.SelectMany(r => r.UnitsSold()).GroupBy(u => u.ProductId, StringComparer.Ordinal)
                .Select(g => (ProductId: g.Key, Units: g.Sum(u => u.Units))).ToList();
            var after = new Dictionary<string, StockCounts>(StringComparer.Ordinal);
            foreach (var (productId, units) in sold)
            {
                if (!_stock.TryGetValue(productId, out var counts) || (long)counts.Sold + units > counts.Stocked)
                {
                    throw new StockExhaustedException(productId);
                }
                after[productId] = counts with { Sold = counts.Sold + units, Version = counts.Version + 1 };
            }
            var bought = fresh.SelectMany(r => r.DealUnits()).GroupBy(u => (u.DealId, u.ShopperId)).Select(g => (g.Key.DealId, g.Key.ShopperId, Units: g.Sum(u => u.Units))).ToList();
            foreach (var (dealId, shopperId, units) in bought)
            {
                if (!_deals.TryGetValue(dealId, out var deal) || deal.Buyers.GetValueOrDefault(shopperId) + units > deal.Limit)
                {
                    throw new DealLimitExceededException(dealId);
                }
            }
            foreach (var (dealId, shopperId, units) in bought)
            {
                var buyers = _deals[dealId].Buyers;
                buyers[shopperId] = buyers.GetValueOrDefault(shopperId) + units;
            }
            foreach (var record in fresh)
            {
                if (record.SettlesCharge)
                {
                    _charges.Remove(record.CheckoutId);
                }
                _checkouts[record.CheckoutId] = record;
                foreach (var order in record.Orders)
                {
                    if (_orders.TryAdd(order.OrderId, order))
                    {
                        if (!_ordersByBrand.TryGetValue(order.BrandId, out var brandOrders))
                        {
                            _ordersByBrand[order.BrandId] = brandOrders = [];
                        }
                        brandOrders.Add(order);
                    }
                }
            }
            foreach (var (productId, counts) in after)
            {
                _stock[productId] = counts;
            }
            return Task.FromResult(new JournalCommit(earlier, after));
        }
    }

    // One silo, gone with its process: every writer here is alive, so none is ever taken over.
    public Task OpenWriterAsync(string writerId, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<bool> MarkProjectionAsync(string writerId, long projectedThrough, long sendingThrough, bool takenOver, CancellationToken cancellationToken = default) => Task.FromResult(true);

    public Task<bool> HeartbeatAsync(string writerId, CancellationToken cancellationToken = default) => Task.FromResult(true);

    public Task<IReadOnlyList<string>> StaleWritersAsync(TimeSpan staleAfter, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);

    public Task<WriterMarks?> TakeOverWriterAsync(string writerId, TimeSpan staleAfter, CancellationToken cancellationToken = default) => Task.FromResult<WriterMarks?>(null);

    public Task<IReadOnlyList<(long Sequence, IReadOnlyList<OrderDraft> Orders)>> ReadBatchesAsync(string writerId, long afterSequence, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<(long, IReadOnlyList<OrderDraft>)>>([]);

    public Task RetireWriterAsync(string writerId, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<CheckoutRecord?> FindCheckoutAsync(string checkoutId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_checkouts.GetValueOrDefault(checkoutId));
        }
    }

    public Task RecordChargesAsync(IReadOnlyList<ChargeIntent> intents, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var intent in intents)
            {
                _charges[intent.CheckoutId] = intent;
            }
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<ChargeIntent>> UnsettledChargesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ChargeIntent>>(_charges.Values.Where(c => c.At < before).ToArray());
        }
    }

    public Task ForgetChargeAsync(string checkoutId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _charges.Remove(checkoutId);
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyDictionary<string, CheckoutRecord>> FindCheckoutsAsync(IReadOnlyCollection<string> checkoutIds, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyDictionary<string, CheckoutRecord>>(checkoutIds.Where(_checkouts.ContainsKey).Distinct().ToDictionary(id => id, id => _checkouts[id], StringComparer.Ordinal));
        }
    }

    public Task<OrderDraft?> FindOrderAsync(string orderId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_orders.GetValueOrDefault(orderId));
        }
    }

    public Task AdvanceAsync(string orderId, FulfilmentStage stage, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_orders.ContainsKey(orderId) && StageLocked(orderId) < stage)
            {
                _stages[orderId] = stage;
            }
        }
        return Task.CompletedTask;
    }

    public Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            // The brand's own orders only: a console view holds up this mode's commits no longer than that takes.
            var matching = _ordersByBrand.GetValueOrDefault(brandId, []).Where(o => StageLocked(o.OrderId) == stage).ToList();
            var oldest = matching.OrderBy(o => o.CreatedAt).ThenBy(o => o.OrderId, StringComparer.Ordinal).Take(limit)
                .Select(o => new FulfilmentItem(o.OrderId, o.CreatedAt, o.Currency, o.TotalMinor)).ToList();
            return Task.FromResult(new FulfilmentPage(matching.Count, oldest));
        }
    }

    /// <summary>An order is journalled to ship; only its later stages are kept.</summary>
    private FulfilmentStage StageLocked(string orderId) => _stages.GetValueOrDefault(orderId, FulfilmentStage.ToShip);

    public Task<StockCounts?> ReadStockAsync(string productId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_stock.GetValueOrDefault(productId));
        }
    }

    public Task<StockCounts> OpenStockAsync(string productId, int stocked, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_stock.TryGetValue(productId, out var counts) || counts.Sold == 0)
            {
                counts = new StockCounts(stocked, 0, (counts?.Version ?? 0) + 1);
                _stock[productId] = counts;
            }
            return Task.FromResult(counts);
        }
    }

    public Task<StockCounts?> AdjustStockAsync(string productId, int delta, int keepFree, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_stock.TryGetValue(productId, out var counts) || (long)counts.Stocked + delta < (long)counts.Sold + keepFree)
            {
                return Task.FromResult<StockCounts?>(null);
            }
            counts = counts with { Stocked = counts.Stocked + delta, Version = counts.Version + 1 };
            _stock[productId] = counts;
            return Task.FromResult<StockCounts?>(counts);
        }
    }

    public Task<StockCounts?> RestockAsync(string operationId, string productId, int quantity, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_stock.TryGetValue(productId, out var counts) || !_restocks.Add(operationId))
            {
                return Task.FromResult<StockCounts?>(null);
            }
            counts = counts with { Sold = counts.Sold - quantity, Version = counts.Version + 1 };
            _stock[productId] = counts;
            return Task.FromResult<StockCounts?>(counts);
        }
    }

    public Task<StockCounts?> CarveDealAsync(string dealId, string productId, int units, int perBuyerLimit, int keepFree, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_stock.TryGetValue(productId, out var product))
            {
                return Task.FromResult<StockCounts?>(null);
            }
            if (_deals.ContainsKey(dealId))
            {
                return Task.FromResult<StockCounts?>(product);
            }
            if ((long)product.Stocked - units < (long)product.Sold + keepFree)
            {
                return Task.FromResult<StockCounts?>(null);
            }
            product = product with { Stocked = product.Stocked - units, Version = product.Version + 1 };
            _stock[productId] = product;
            _stock[dealId] = new StockCounts(units, 0, 1);
            _deals[dealId] = (perBuyerLimit, new Dictionary<string, int>(StringComparer.Ordinal));
            return Task.FromResult<StockCounts?>(product);
        }
    }

    public Task<(int Returned, StockCounts Deal, StockCounts Product)> CloseDealAsync(string dealId, string productId, int keep, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var deal = _stock[dealId];
            var product = _stock[productId];
            var unsold = deal.Stocked - deal.Sold - keep;
            if (unsold > 0)
            {
                deal = deal with { Stocked = deal.Stocked - unsold, Version = deal.Version + 1 };
                product = product with { Stocked = product.Stocked + unsold, Version = product.Version + 1 };
                _stock[dealId] = deal;
                _stock[productId] = product;
            }
            return Task.FromResult((Math.Max(unsold, 0), deal, product));
        }
    }

    public Task<DealCounts?> ReadDealAsync(string dealId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_deals.TryGetValue(dealId, out var deal)
                ? new DealCounts(_stock[dealId], new Dictionary<string, int>(deal.Buyers, StringComparer.Ordinal))
                : null);
        }
    }
}
