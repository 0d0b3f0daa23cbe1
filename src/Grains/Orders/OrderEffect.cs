using Vetrina.Grains.Creators;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Orders;

public enum OrderEffectKind
{
    CreatorLedger = 0,
    LinkSales = 1,
    BrandSales = 2,
    Restock = 3,
    PaymentRefund = 4,
    LiveSales = 5,
    DealRestock = 6,
    Report = 7,
    Fulfilment = 8,
}

/// <summary>
/// Something an order change must do to another grain or the payment gateway. Effects are written with the
/// change in the order's outbox and delivered afterwards, each at most once thanks to its operation id.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.order-effect")]
public sealed record OrderEffect(
    [property: Id(0)] string OperationId,
    [property: Id(1)] OrderEffectKind Kind,
    [property: Id(2)] string TargetId,
    [property: Id(3)] LedgerEntry? Ledger = null,
    [property: Id(4)] LinkSaleEntry? LinkSale = null,
    [property: Id(5)] SalesEntry? Sales = null,
    [property: Id(6)] long Amount = 0,
    [property: Id(7)] LiveSaleEntry? LiveSale = null,
    [property: Id(8)] IReadOnlyList<Reports.ReportCell>? Report = null)
{
    /// <summary>Figures for the report projection (<see cref="Reports.IReportBook"/>), added once by operation id.</summary>
    public static OrderEffect ForReport(string operationId, IReadOnlyList<Reports.ReportCell> cells) => new(operationId, OrderEffectKind.Report, "", Report: cells);

    /// <summary>The order's new stage in its brand's fulfilment book (<see cref="IFulfilmentBook"/>), which only moves forward.</summary>
    public static OrderEffect ForFulfilment(string operationId, string orderId, FulfilmentStage stage) =>
        new(operationId, OrderEffectKind.Fulfilment, orderId, Amount: (long)stage);

    public static OrderEffect ForLiveSession(string sessionId, LiveSaleEntry entry) => new(entry.OperationId, OrderEffectKind.LiveSales, sessionId, LiveSale: entry);

    public static OrderEffect ForCreator(string creatorId, LedgerEntry entry) => new(entry.OperationId, OrderEffectKind.CreatorLedger, creatorId, Ledger: entry);

    public static OrderEffect ForLink(string code, LinkSaleEntry entry) => new(entry.OperationId, OrderEffectKind.LinkSales, code, LinkSale: entry);

    public static OrderEffect ForBrandSales(string brandId, SalesEntry entry) => new(entry.OperationId, OrderEffectKind.BrandSales, brandId, Sales: entry);

    public static OrderEffect Restock(string operationPrefix, string productId, int quantity) =>
        new($"{operationPrefix}/restock/{productId}", OrderEffectKind.Restock, productId, Amount: quantity);

    /// <summary>Units of a line back in stock: the product's, or for a line bought in a flash deal the deal's.</summary>
    public static OrderEffect Restock(string operationPrefix, OrderLine line, int quantity) =>
        line.DealId is { } dealId
            ? new($"{operationPrefix}/restock-deal/{dealId}", OrderEffectKind.DealRestock, dealId, Amount: quantity)
            : Restock(operationPrefix, line.ProductId, quantity);

    public static OrderEffect RefundPayment(string operationPrefix, string paymentId, long amountMinor) =>
        new($"{operationPrefix}/refund", OrderEffectKind.PaymentRefund, paymentId, Amount: amountMinor);
}
