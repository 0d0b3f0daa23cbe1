using Vetrina.Grains.Common;

namespace Vetrina.Grains.Catalog;

public enum ProductStatus
{
    Active = 0,
    Archived = 1,
}

/// <summary>Brand settings a product carries so that links and orders need not ask the brand grain.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.brand-terms")]
public sealed record BrandTerms(
    [property: Id(0)] int AttributionWindowHours,
    [property: Id(1)] int ReturnWindowDays);

[GenerateSerializer, Immutable, Alias("vetrina.product-definition")]
public sealed record ProductDefinition(
    [property: Id(0)] string BrandId,
    [property: Id(1)] string Sku,
    [property: Id(2)] string Title,
    [property: Id(3)] long PriceMinor,
    [property: Id(4)] string Currency,
    [property: Id(5)] int Stock,
    [property: Id(6)] int CommissionBps,
    [property: Id(7)] BrandTerms Terms);

[GenerateSerializer, Immutable, Alias("vetrina.product-view")]
public sealed record ProductView(
    [property: Id(0)] string ProductId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] string Sku,
    [property: Id(3)] string Title,
    [property: Id(4)] long PriceMinor,
    [property: Id(5)] string Currency,
    [property: Id(6)] int Available,
    [property: Id(7)] int CommissionBps,
    [property: Id(8)] ProductStatus Status,
    [property: Id(9)] int Reserved,
    [property: Id(10)] int Sold,
    [property: Id(11)] int Stocked);

[GenerateSerializer, Immutable, Alias("vetrina.product-changes")]
public sealed record ProductChanges(
    [property: Id(0)] string? Title,
    [property: Id(1)] long? PriceMinor,
    [property: Id(2)] int? CommissionBps,
    [property: Id(3)] ProductStatus? Status);

/// <summary>The terms of sale a checkout freezes when it holds stock.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.product-quote")]
public sealed record ProductQuote(
    [property: Id(0)] string ProductId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string Currency,
    [property: Id(4)] int CommissionBps,
    [property: Id(5)] BrandTerms Terms,
    [property: Id(6)] ProductStatus Status);

[Alias("vetrina.product")]
public interface IProductGrain : IEffectTarget
{
    [Alias("create")]
    Task<Outcome<ProductView>> CreateAsync(ProductDefinition definition);

    /// <summary>The last durable view: reads never wait behind writes and never show an unwritten change.</summary>
    [AlwaysInterleave, Alias("get")]
    Task<ProductView?> GetAsync();

    [AlwaysInterleave, Alias("quote")]
    Task<ProductQuote?> QuoteAsync();

    [Alias("update")]
    Task<Outcome<ProductView>> UpdateAsync(string actingBrandId, ProductChanges changes);

    [Alias("adjust-stock")]
    Task<Outcome<ProductView>> AdjustStockAsync(string actingBrandId, int delta);

    /// <summary>
    /// Holds stock for a checkout until it confirms or releases it; idempotent by checkout id. A repeat with another
    /// quantity adjusts an unconfirmed hold and is refused for a confirmed one.
    /// </summary>
    [Alias("hold")]
    Task<Outcome<ProductQuote>> HoldAsync(string checkoutId, int quantity, DateTimeOffset expiresAt);

    [Alias("confirm")]
    Task ConfirmAsync(string checkoutId);

    [Alias("release")]
    Task ReleaseAsync(string checkoutId);

    /// <summary>The checkout is finished and will never call about this hold again.</summary>
    [OneWay, Alias("forget")]
    Task ForgetAsync(string checkoutId);

    /// <summary>Returns units of a cancelled or refunded order to stock; idempotent by operation id.</summary>
    [Alias("restock")]
    Task RestockAsync(string operationId, int quantity, string checkoutId);
}
