using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;

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
    [property: Id(1)] int ReturnWindowDays,
    [property: Id(2)] int? RateLockDays = null)
{
    public const int DefaultRateLockDays = 30;

    /// <summary>How long a lowered rate stays away from creators who already link the product.</summary>
    public int LockDays => RateLockDays ?? DefaultRateLockDays;
}

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
    [property: Id(9)] int? Reserved,
    [property: Id(10)] int? Sold,
    [property: Id(11)] int? Stocked)
{
    /// <summary>What a shop page shows: no exact counts of units reserved, sold and stocked (those are the brand's).</summary>
    public ProductView Public() => this with { Reserved = null, Sold = null, Stocked = null };
}

[GenerateSerializer, Immutable, Alias("vetrina.product-changes")]
public sealed record ProductChanges(
    [property: Id(0)] string? Title,
    [property: Id(1)] long? PriceMinor,
    [property: Id(2)] int? CommissionBps,
    [property: Id(3)] ProductStatus? Status);

/// <summary>The terms of sale a checkout freezes when it reserves stock.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.product-quote")]
public sealed record ProductQuote(
    [property: Id(0)] string ProductId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string Currency,
    [property: Id(4)] int CommissionBps,
    [property: Id(5)] BrandTerms Terms,
    [property: Id(6)] ProductStatus Status,
    [property: Id(7)] IReadOnlyList<Deals.DealRef>? Deals = null,
    [property: Id(8)] Collaborations.CommissionTerms? Commission = null)
{
    /// <summary>The rate a creator earns on this product now (see <see cref="Collaborations.CommissionTerms.For"/>).</summary>
    public Collaborations.RateDecision RateFor(string creatorId, DateTimeOffset? linkedAt, DateTimeOffset now) =>
        Commission?.For(creatorId, linkedAt, now) ?? new Collaborations.RateDecision(CommissionBps, Collaborations.RateDecision.ProductSource);
}

/// <summary>One checkout's ask of a product; a cart's checkout names the price its cart showed.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.stock-request")]
public sealed record StockRequest(
    [property: Id(0)] string CheckoutId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] long? ExpectedUnitPriceMinor);

/// <summary>The terms of sale (null: no such product) and, per request in order, null when granted or the refusal.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.stock-reservation")]
public sealed record StockReservation(
    [property: Id(0)] ProductQuote? Quote,
    [property: Id(1)] Failure?[] Refusals);

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

    /// <summary>Takes a flash deal's units from the available stock into the deal's own row (idempotent by deal id).</summary>
    [Alias("carve-deal")]
    Task<Outcome<ProductView>> CarveDealAsync(string actingBrandId, Deals.DealRef deal, int units, int perBuyerLimit);

    /// <summary>A deal ended: its unsold units are back in the product's row (<paramref name="counts"/>, as the journal left it).</summary>
    [Alias("deal-ended")]
    Task DealEndedAsync(string dealId, int returned, Journal.StockCounts counts);

    /// <summary>
    /// Sets stock aside for the checkouts of one commit window of one desk, in one turn and without a write: the
    /// journal's conditional update decides what is sold, this only keeps the desks from asking for more than there
    /// is. Answers the terms of sale and, per request, null when granted or why not.
    /// </summary>
    [Alias("reserve")]
    Task<StockReservation> ReserveAsync(string reservationId, IReadOnlyList<StockRequest> requests);

    /// <summary>
    /// The window's journal transaction is over: <paramref name="soldUnits"/> of the reservation were sold, leaving the
    /// product's journal row at <paramref name="version"/>; the rest goes back on sale.
    /// </summary>
    [Alias("settle")]
    Task SettleAsync(string reservationId, int soldUnits, long version);

    /// <summary>Returns units of a cancelled or refunded order to stock; idempotent by operation id.</summary>
    [Alias("restock")]
    Task RestockAsync(string operationId, int quantity);

    /// <summary>Adds or replaces a collaboration plan covering the product (by plan id).</summary>
    [Alias("put-plan")]
    Task PutPlanAsync(Collaborations.PlanRate plan);

    /// <summary>What the creator would earn on the product now, or null when it cannot be bought.</summary>
    [AlwaysInterleave, Alias("offer")]
    Task<Collaborations.RateDecision?> OfferAsync(string creatorId, DateTimeOffset? linkedAt);
}
