using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Reports;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Orders;

/// <summary>One change of an order, as its statement movements name and date it: <c>Key</c> is unique per order and change.</summary>
public sealed record OrderChange(string OrderId, string Key, DateTimeOffset At);

/// <summary>
/// What one order contributes to creators' ledgers, links' stats, its brand's sales and fulfilment book, as a pure function of
/// its lines, the quantities it still keeps and its status. Every change of an order sends the difference
/// between its contribution before and after, so each ledger always equals the formula over its orders.
/// </summary>
public sealed class OrderAccounting
{
    private readonly Dictionary<string, (long Pending, long Settled, long Reversed, long Frozen)> _creators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CreatorSales> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CreatorSales> _brandByCreator = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ProductSales> _brandByProduct = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CreatorSales Totals, Dictionary<string, ProductSales> Products)> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Owner, string Dimension), ReportCell> _report = [];
    private FulfilmentStage? _stage;

    public static OrderAccounting Of(OrderState order)
    {
        var accounting = new OrderAccounting();
        if (order.Draft is null)
        {
            return accounting;
        }
        accounting._stage = IFulfilmentBook.StageOf(order.Status);
        var settled = order.Status == OrderStatus.Completed;
        for (var i = 0; i < order.Draft.Lines.Count; i++)
        {
            var line = order.Draft.Lines[i];
            var kept = order.KeptQuantity(i);
            var commission = line.CommissionBps is { } bps ? Money.Commission(line.UnitPriceMinor, kept, bps) : 0;
            var original = line.CommissionBps is { } b ? Money.Commission(line.UnitPriceMinor, line.Quantity, b) : 0;
            var gmv = Money.LineTotal(line.UnitPriceMinor, kept);

            accounting.AddProduct(new ProductSales(line.ProductId, kept, gmv));
            accounting.AddReport(order.Draft, line, kept, gmv, commission);
            if (line.LiveSessionId is { } sessionId)
            {
                accounting.AddSession(sessionId, line.ProductId, new CreatorSales(line.CreatorId ?? "", 0, kept, gmv, commission));
            }
            if (line.CreatorId is null)
            {
                continue;
            }
            var (pending, settledSum, reversed, frozen) = accounting._creators.GetValueOrDefault(line.CreatorId);
            reversed += original - commission;
            accounting._creators[line.CreatorId] = order.CommissionFrozen ? (pending, settledSum, reversed, frozen + commission)
                : settled ? (pending, settledSum + commission, reversed, frozen)
                : (pending + commission, settledSum, reversed, frozen);
            if (line.LinkCode is not null)
            {
                Add(accounting._links, line.LinkCode, new CreatorSales(line.CreatorId, 0, kept, gmv, commission));
            }
            Add(accounting._brandByCreator, line.CreatorId, new CreatorSales(line.CreatorId, 0, kept, gmv, commission));
        }
        // An order counts once per creator, link or session while it keeps any unit attributed to it.
        MarkOrders(accounting._links);
        MarkOrders(accounting._brandByCreator);
        foreach (var (sessionId, (totals, products)) in accounting._sessions)
        {
            accounting._sessions[sessionId] = (totals with { Orders = totals.Units > 0 ? 1 : 0 }, products);
        }
        foreach (var (key, cell) in accounting._report)
        {
            accounting._report[key] = cell with { Orders = cell.Units > 0 ? 1 : 0 };
        }
        return accounting;
    }

    /// <summary>
    /// The effects that move every ledger from <paramref name="before"/> to <paramref name="after"/>. A creator's
    /// entry carries the statement movements of the change, keyed by <paramref name="change"/> (the order's id and
    /// revision) so that no retry records one twice.
    /// </summary>
    public static IEnumerable<OrderEffect> Difference(OrderAccounting before, OrderAccounting after, string operationPrefix, string brandId, string currency, OrderChange change)
    {
        foreach (var creatorId in before._creators.Keys.Union(after._creators.Keys))
        {
            var (p0, s0, r0, f0) = before._creators.GetValueOrDefault(creatorId);
            var (p1, s1, r1, f1) = after._creators.GetValueOrDefault(creatorId);
            if ((p0, s0, r0, f0) != (p1, s1, r1, f1))
            {
                var id = $"{operationPrefix}/creator/{creatorId}";
                var movements = Movements(p1 - p0, s1 - s0, r1 - r0, f1 - f0, currency, change).ToArray();
                yield return OrderEffect.ForCreator(creatorId, new LedgerEntry(id, currency, p1 - p0, s1 - s0, r1 - r0, f1 - f0, movements));
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
        foreach (var sessionId in before._sessions.Keys.Union(after._sessions.Keys))
        {
            var (totalsBefore, productsBefore) = before._sessions.GetValueOrDefault(sessionId);
            var (totalsAfter, productsAfter) = after._sessions.GetValueOrDefault(sessionId);
            var delta = Minus(totalsAfter, totalsBefore);
            var products = ProductDeltas(productsBefore ?? [], productsAfter ?? []);
            if (delta is not null || products.Length > 0)
            {
                var id = $"{operationPrefix}/live/{sessionId}";
                yield return OrderEffect.ForLiveSession(sessionId, new LiveSaleEntry(id, delta?.Orders ?? 0, delta?.Units ?? 0, delta?.GmvMinor ?? 0, delta?.CommissionMinor ?? 0, products));
            }
        }
        var productDeltas = ProductDeltas(before._brandByProduct, after._brandByProduct);
        var creatorDeltas = before._brandByCreator.Keys.Union(after._brandByCreator.Keys)
            .Select(id => Minus(after._brandByCreator.GetValueOrDefault(id), before._brandByCreator.GetValueOrDefault(id)))
            .OfType<CreatorSales>()
            .ToArray();
        if (productDeltas.Length > 0 || creatorDeltas.Length > 0)
        {
            yield return OrderEffect.ForBrandSales(brandId, new SalesEntry($"{operationPrefix}/sales", productDeltas, creatorDeltas));
        }
        var cells = before._report.Keys.Union(after._report.Keys)
            .Select(key => Minus(after._report.GetValueOrDefault(key), before._report.GetValueOrDefault(key)))
            .Where(cell => !cell.IsEmpty)
            .ToArray();
        if (cells.Length > 0)
        {
            yield return OrderEffect.ForReport($"{operationPrefix}/report", cells);
        }
        // A placement's stage (to ship) is journalled with the order itself: only a change of a placed order moves it.
        if (before._stage is { } was && after._stage is { } now && was != now)
        {
            yield return OrderEffect.ForFulfilment($"{operationPrefix}/fulfilment", change.OrderId, now);
        }
    }

    /// <summary>
    /// The line's figures in the report cells it counts in, in the hour the order was placed (a later change of the
    /// order moves that hour's figures): its brand's total, product, channel and creator, and its creator's total,
    /// product and link.
    /// </summary>
    private void AddReport(OrderDraft order, OrderLine line, int kept, long gmv, long commission)
    {
        var hour = ReportCell.HourOf(order.CreatedAt);
        var channel = line.LiveSessionId is not null ? SalesChannel.Live : line.LinkCode is not null ? SalesChannel.Link
            : line.CampaignId is not null ? SalesChannel.Ad : SalesChannel.Direct;
        void Add(string owner, string dimension)
        {
            var cell = new ReportCell(owner, dimension, order.Currency, hour, 0, 0, kept, gmv, commission);
            _report[(owner, dimension)] = _report.TryGetValue((owner, dimension), out var sum) ? sum.Plus(cell) : cell;
        }
        Add(order.BrandId, ReportDimensions.Total);
        Add(order.BrandId, ReportDimensions.Product(line.ProductId));
        Add(order.BrandId, ReportDimensions.Channel(channel));
        if (line.CampaignId is { } campaignId)
        {
            Add(campaignId, ReportDimensions.Total);
        }
        if (line.CreatorId is not { } creatorId)
        {
            return;
        }
        Add(order.BrandId, ReportDimensions.Creator(creatorId));
        Add(creatorId, ReportDimensions.Total);
        Add(creatorId, ReportDimensions.Product(line.ProductId));
        if (line.LinkCode is { } code)
        {
            Add(creatorId, ReportDimensions.Link(code));
        }
    }

    private static ReportCell Minus(ReportCell? after, ReportCell? before)
    {
        var template = after ?? before!;
        return template with
        {
            Orders = (after?.Orders ?? 0) - (before?.Orders ?? 0),
            Units = (after?.Units ?? 0) - (before?.Units ?? 0),
            GmvMinor = (after?.GmvMinor ?? 0) - (before?.GmvMinor ?? 0),
            CommissionMinor = (after?.CommissionMinor ?? 0) - (before?.CommissionMinor ?? 0),
        };
    }

    /// <summary>
    /// The statement entries of one order change for one creator. Only placement adds to what was ever earned; a
    /// reversal is always a loss; freezing, releasing and settling move commission between stages.
    /// </summary>
    private static IEnumerable<LedgerMovement> Movements(long pending, long settled, long reversed, long frozen, string currency, OrderChange change)
    {
        LedgerMovement Move(LedgerMovementKind kind, long amount) =>
            new($"{change.Key}/{kind.ToString().ToLowerInvariant()}", kind, currency, amount, change.At, change.OrderId);

        var earned = pending + settled + reversed + frozen;
        if (earned > 0)
        {
            yield return Move(LedgerMovementKind.Earned, earned);
        }
        if (reversed > 0)
        {
            yield return Move(LedgerMovementKind.Reversed, reversed);
        }
        if (frozen > 0)
        {
            yield return Move(LedgerMovementKind.Frozen, frozen);
        }
        else if (frozen < 0 && pending + settled > 0)
        {
            yield return Move(LedgerMovementKind.Unfrozen, pending + settled);
        }
        else if (frozen == 0 && settled > 0)
        {
            yield return Move(LedgerMovementKind.Settled, settled);
        }
    }

    private static ProductSales[] ProductDeltas(Dictionary<string, ProductSales> before, Dictionary<string, ProductSales> after) =>
        before.Keys.Union(after.Keys)
            .Select(id => (Before: before.GetValueOrDefault(id), After: after.GetValueOrDefault(id), Id: id))
            .Select(p => new ProductSales(p.Id, (p.After?.Units ?? 0) - (p.Before?.Units ?? 0), (p.After?.GmvMinor ?? 0) - (p.Before?.GmvMinor ?? 0)))
            .Where(p => p.Units != 0 || p.GmvMinor != 0)
            .ToArray();

    private void AddSession(string sessionId, string productId, CreatorSales sales)
    {
        if (!_sessions.TryGetValue(sessionId, out var session))
        {
            session = (sales with { Units = 0, GmvMinor = 0, CommissionMinor = 0 }, new Dictionary<string, ProductSales>(StringComparer.Ordinal));
        }
        var totals = session.Totals with
        {
            Units = session.Totals.Units + sales.Units,
            GmvMinor = session.Totals.GmvMinor + sales.GmvMinor,
            CommissionMinor = session.Totals.CommissionMinor + sales.CommissionMinor,
        };
        var product = session.Products.GetValueOrDefault(productId) ?? new ProductSales(productId, 0, 0);
        session.Products[productId] = product with { Units = product.Units + sales.Units, GmvMinor = product.GmvMinor + sales.GmvMinor };
        _sessions[sessionId] = (totals, session.Products);
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
