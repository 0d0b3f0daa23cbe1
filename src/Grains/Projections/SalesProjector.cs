using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Projections;

/// <summary>
/// Carries what the journal committed into creators' ledgers, links' stats and brands' sales, off the buy path: one
/// call per target for everything committed since the last round, not one per order. Rounds go out in journal order
/// and each target's share is repeated until it lands, which is what lets a target keep a watermark per writer
/// (<see cref="JournalWatermarks"/>) instead of a set of applied ids.
/// </summary>
public sealed class SalesProjector(IGrainFactory grains, ILogger<SalesProjector> logger) : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);
    private readonly Channel<(JournalPosition Position, IReadOnlyList<OrderDraft> Orders)> _committed =
        Channel.CreateUnbounded<(JournalPosition, IReadOnlyList<OrderDraft>)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Orders one journal batch of this silo committed; batches must come in the order of their positions.</summary>
    public void Committed(JournalPosition position, IReadOnlyList<OrderDraft> orders) => _committed.Writer.TryWrite((position, orders));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _committed.Reader.WaitToReadAsync(stoppingToken))
            {
                var round = new Round();
                while (_committed.Reader.TryRead(out var batch))
                {
                    round.Add(batch.Position, batch.Orders);
                }
                await SendAsync(round, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Task SendAsync(Round round, CancellationToken stoppingToken)
    {
        var position = round.Position!;
        var sends = new List<Task>();
        foreach (var (creatorId, entries) in round.Creators)
        {
            sends.Add(UntilDoneAsync(() => grains.GetGrain<ICreatorGrain>(creatorId).ProjectAsync(position, entries.Values.ToArray()), stoppingToken));
        }
        foreach (var (code, entry) in round.Links)
        {
            sends.Add(UntilDoneAsync(() => grains.GetGrain<ILinkGrain>(code).ProjectAsync(position, entry), stoppingToken));
        }
        foreach (var (brandId, sales) in round.Brands)
        {
            var entry = new SalesEntry(position.ToString(), sales.Products.Values.ToArray(), sales.Creators.Values.ToArray());
            sends.Add(UntilDoneAsync(() => grains.GetGrain<IBrandSalesGrain>(brandId).ProjectAsync(position, entry), stoppingToken));
        }
        return Task.WhenAll(sends);
    }

    private async Task UntilDoneAsync(Func<Task> send, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                await send();
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.ProjectionDeferred(exception);
                await Task.Delay(delay, stoppingToken);
                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }

    /// <summary>The sum of what a run of batches adds to each target, from each order's contribution (<see cref="OrderAccounting"/>).</summary>
    private sealed class Round
    {
        public JournalPosition? Position { get; private set; }

        public Dictionary<string, Dictionary<string, LedgerEntry>> Creators { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, LinkSaleEntry> Links { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (Dictionary<string, ProductSales> Products, Dictionary<string, CreatorSales> Creators)> Brands { get; } = new(StringComparer.Ordinal);

        public void Add(JournalPosition position, IReadOnlyList<OrderDraft> orders)
        {
            Position = position;
            var id = position.ToString();
            var nothing = OrderAccounting.Of(new OrderState());
            foreach (var order in orders)
            {
                foreach (var effect in OrderAccounting.Difference(nothing, OrderAccounting.Of(OrderState.Placed(order)), id, order.BrandId, order.Currency))
                {
                    switch (effect.Kind)
                    {
                        case OrderEffectKind.CreatorLedger:
                            AddLedger(effect.TargetId, effect.Ledger!);
                            break;
                        case OrderEffectKind.LinkSales:
                            var sale = effect.LinkSale!;
                            Links[effect.TargetId] = Links.TryGetValue(effect.TargetId, out var link)
                                ? link with { OrdersDelta = link.OrdersDelta + sale.OrdersDelta, UnitsDelta = link.UnitsDelta + sale.UnitsDelta, GmvDelta = link.GmvDelta + sale.GmvDelta, CommissionDelta = link.CommissionDelta + sale.CommissionDelta }
                                : sale;
                            break;
                        case OrderEffectKind.BrandSales:
                            AddSales(effect.TargetId, effect.Sales!);
                            break;
                    }
                }
            }
        }

        private void AddLedger(string creatorId, LedgerEntry entry)
        {
            if (!Creators.TryGetValue(creatorId, out var byCurrency))
            {
                Creators[creatorId] = byCurrency = new(StringComparer.Ordinal);
            }
            byCurrency[entry.Currency] = byCurrency.TryGetValue(entry.Currency, out var sum)
                ? sum with { PendingDelta = sum.PendingDelta + entry.PendingDelta, SettledDelta = sum.SettledDelta + entry.SettledDelta, ReversedDelta = sum.ReversedDelta + entry.ReversedDelta }
                : entry;
        }

        private void AddSales(string brandId, SalesEntry entry)
        {
            if (!Brands.TryGetValue(brandId, out var sales))
            {
                Brands[brandId] = sales = (new(StringComparer.Ordinal), new(StringComparer.Ordinal));
            }
            foreach (var p in entry.ProductDeltas)
            {
                sales.Products[p.ProductId] = sales.Products.TryGetValue(p.ProductId, out var sum)
                    ? sum with { Units = sum.Units + p.Units, GmvMinor = sum.GmvMinor + p.GmvMinor }
                    : p;
            }
            foreach (var c in entry.CreatorDeltas)
            {
                sales.Creators[c.CreatorId] = sales.Creators.TryGetValue(c.CreatorId, out var sum)
                    ? sum with { Orders = sum.Orders + c.Orders, Units = sum.Units + c.Units, GmvMinor = sum.GmvMinor + c.GmvMinor, CommissionMinor = sum.CommissionMinor + c.CommissionMinor }
                    : c;
            }
        }
    }
}
