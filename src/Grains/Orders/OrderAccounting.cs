using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Links;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Orders;

/// <summary>
/// What one order contributes to creators' ledgers, links' stats and its brand's sales, as a pure function of
/// its lines, the quantities it still keeps and its status. Every change of an order sends the difference
/// between its contribution before and after, so each ledger always equals the formula over its orders.
/// </summary>
public sealed class OrderAccounting
{
    private readonly Dictionary<string, (long Pending, long Settled, long Reversed)> _creators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CreatorSales> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CreatorSales> _brandByCreator = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProductSales> _brandByProduct = new(StringComparer.Ordinal);

    public static OrderAccounting Of(OrderState order)
    {
        var accounting = new OrderAccounting();
        if (order.Draft is null)
        {
            return accounting;
        }
        var settled = order.Status == OrderStatus.Completed;
        for (var i = 0; i < order.Draft.Lines.Count; i++)
        {
            var line = order.Draft.Lines[i];
            var kept = order.KeptQuantity(i);
            var commission = line.CommissionBps is { } bps ? Money.Commission(line.UnitPriceMinor, kept, bps) : 0;
            var original = line.CommissionBps is { } b ? Money.Commission(line.UnitPriceMinor, line.Quantity, b) : 0;
            var gmv = Money.LineTotal(line.UnitPriceMinor, kept);

            accounting.AddProduct(new ProductSales(line.ProductId, kept, gmv));
            if (line.CreatorId is null || line.LinkCode is null)
            {
                continue;
            }
            var (pending, settledSum, reversed) = accounting._creators.GetValueOrDefault(line.CreatorId);
            accounting._creators[line.CreatorId] = settled
                ? (pending, settledSum + commission, reversed + original - commission)
                : (pending + commission, settledSum, reversed + original - commission);
            Add(accounting._links, line.LinkCode, new CreatorSales(line.CreatorId, 0, kept, gmv, commission));
            Add(accounting._brandByCreator, line.CreatorId, new CreatorSales(line.CreatorId, 0, kept, gmv, commission));
        }
        // An order counts once per creator or link while it keeps any unit attributed to it.
        MarkOrders(accounting._links);
        MarkOrders(accounting._brandByCreator);
        return accounting;
    }

    /// <summary>The effects that move every ledger from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static IEnumerable<OrderEffect> Difference(OrderAccounting before, OrderAccounting after, string operationPrefix, string brandId, string currency)
    {
        foreach (var creatorId in before._creators.Keys.Union(after._creators.Keys))
        {
            var (p0, s0, r0) = before._creators.GetValueOrDefault(creatorId);
            var (p1, s1, r1) = after._creators.GetValueOrDefault(creatorId);
            if ((p0, s0, r0) != (p1, s1, r1))
            {
                var id = $"{operationPrefix}/creator/{creatorId}";
                yield return OrderEffect.ForCreator(creatorId, new LedgerEntry(id, currency, p1 - p0, s1 - s0, r1 - r0));
            }
        }
        foreach (var code in before._links.Keys.Union(after._links.Keys))
        {
            var delta = Minus(after._links.GetValueOrDefault(code), before._links.GetValueOrDefault(code));
            if (delta is not null)
            {
                var id = $"{operationPrefix}/link/{code}";
                yield return OrderEffect.ForLink(code, new LinkSaleEntry(id, delta.Orders, delta.Units, delta.GmvMinor, delta.CommissionMinor));
            }
        }
        var productDeltas = before._brandByProduct.Keys.Union(after._brandByProduct.Keys)
            .Select(id => (Before: before._brandByProduct.GetValueOrDefault(id), After: after._brandByProduct.GetValueOrDefault(id), Id: id))
            .Select(p => new ProductSales(p.Id, (p.After?.Units ?? 0) - (p.Before?.Units ?? 0), (p.After?.GmvMinor ?? 0) - (p.Before?.GmvMinor ?? 0)))
            .Where(p => p.Units != 0 || p.GmvMinor != 0)
            .ToArray();
        var creatorDeltas = before._brandByCreator.Keys.Union(after._brandByCreator.Keys)
            .Select(id => Minus(after._brandByCreator.GetValueOrDefault(id), before._brandByCreator.GetValueOrDefault(id)))
            .OfType<CreatorSales>()
            .ToArray();
        if (productDeltas.Length > 0 || creatorDeltas.Length > 0)
        {
            yield return OrderEffect.ForBrandSales(brandId, new SalesEntry($"{operationPrefix}/sales", productDeltas, creatorDeltas));
        }
    }

    private void AddProduct(ProductSales sales)
    {
        var current = _brandByProduct.GetValueOrDefault(sales.ProductId) ?? new ProductSales(sales.ProductId, 0, 0);
        _brandByProduct[sales.ProductId] = current with { Units = current.Units + sales.Units, GmvMinor = current.GmvMinor + sales.GmvMinor };
    }

    private static void Add(Dictionary<string, CreatorSales> totals, string key, CreatorSales sales)
    {
        var current = totals.GetValueOrDefault(key) ?? sales with { Units = 0, GmvMinor = 0, CommissionMinor = 0 };
        totals[key] = current with
        {
            Units = current.Units + sales.Units,
            GmvMinor = current.GmvMinor + sales.GmvMinor,
            CommissionMinor = current.CommissionMinor + sales.CommissionMinor,
        };
    }

    private static void MarkOrders(Dictionary<string, CreatorSales> totals)
    {
        foreach (var (key, sales) in totals)
        {
            totals[key] = sales with { Orders = sales.Units > 0 ? 1 : 0 };
        }
    }

    private static CreatorSales? Minus(CreatorSales? after, CreatorSales? before)
    {
        var creatorId = after?.CreatorId ?? before!.CreatorId;
        var delta = new CreatorSales(creatorId,
            (after?.Orders ?? 0) - (before?.Orders ?? 0),
            (after?.Units ?? 0) - (before?.Units ?? 0),
            (after?.GmvMinor ?? 0) - (before?.GmvMinor ?? 0),
            (after?.CommissionMinor ?? 0) - (before?.CommissionMinor ?? 0));
        return delta is { Orders: 0, Units: 0, GmvMinor: 0, CommissionMinor: 0 } ? null : delta;
    }
}
