using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Sales;

[GenerateSerializer, Immutable, Alias("vetrina.product-sales")]
public sealed record ProductSales(
    [property: Id(0)] string ProductId,
    [property: Id(1)] long Units,
    [property: Id(2)] long GmvMinor);

[GenerateSerializer, Immutable, Alias("vetrina.creator-sales")]
public sealed record CreatorSales(
    [property: Id(0)] string CreatorId,
    [property: Id(1)] long Orders,
    [property: Id(2)] long Units,
    [property: Id(3)] long GmvMinor,
    [property: Id(4)] long CommissionMinor);

[GenerateSerializer, Immutable, Alias("vetrina.sales-report")]
public sealed record SalesReport(
    [property: Id(0)] IReadOnlyList<ProductSales> ByProduct,
    [property: Id(1)] IReadOnlyList<CreatorSales> ByCreator);

/// <summary>A change to a brand's sales figures caused by one order event; applied at most once.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.sales-entry")]
public sealed record SalesEntry(
    [property: Id(0)] string OperationId,
    [property: Id(1)] IReadOnlyList<ProductSales> ProductDeltas,
    [property: Id(2)] IReadOnlyList<CreatorSales> CreatorDeltas);

/// <summary>A brand's sales, net of cancellations and refunds, kept up to date by its orders.</summary>
[Alias("vetrina.brand-sales")]
public interface IBrandSalesGrain : IEffectTarget
{
    [Alias("apply")]
    Task ApplyAsync(SalesEntry entry);

    /// <summary>Adds a journal batch's sales of this brand, once (see <see cref="ExactlyOnce.JournalWatermarks"/>).</summary>
    [Alias("project")]
    Task ProjectAsync(Journal.JournalPosition position, SalesEntry entry);

    [AlwaysInterleave, Alias("report")]
    Task<SalesReport> GetReportAsync();
}
