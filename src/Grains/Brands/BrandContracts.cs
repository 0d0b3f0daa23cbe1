using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Brands;

[GenerateSerializer, Immutable, Alias("vetrina.brand-registration")]
public sealed record BrandRegistration(
    [property: Id(0)] string Name,
    [property: Id(1)] int DefaultCommissionBps,
    [property: Id(2)] int AttributionWindowHours,
    [property: Id(3)] int ReturnWindowDays,
    [property: Id(4)] string ApiKeyHash,
    [property: Id(5)] int RateLockDays = BrandTerms.DefaultRateLockDays);

[GenerateSerializer, Immutable, Alias("vetrina.brand-view")]
public sealed record BrandView(
    [property: Id(0)] string BrandId,
    [property: Id(1)] string Name,
    [property: Id(2)] int DefaultCommissionBps,
    [property: Id(3)] int AttributionWindowHours,
    [property: Id(4)] int ReturnWindowDays,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] int RateLockDays = BrandTerms.DefaultRateLockDays);

[GenerateSerializer, Immutable, Alias("vetrina.product-draft")]
public sealed record ProductDraft(
    [property: Id(0)] string Sku,
    [property: Id(1)] string Title,
    [property: Id(2)] long PriceMinor,
    [property: Id(3)] string Currency,
    [property: Id(4)] int Stock,
    [property: Id(5)] int? CommissionBps);

[Alias("vetrina.brand")]
public interface IBrandGrain : IGrainWithStringKey
{
    [Alias("register")]
    Task<Outcome<BrandView>> RegisterAsync(BrandRegistration registration);

    [AlwaysInterleave, Alias("get")]
    Task<BrandView?> GetAsync();

    [AlwaysInterleave, Alias("has-key")]
    Task<bool> HasKeyAsync(string apiKeyHash);

    /// <summary>Publishes a product; its id follows from the brand and SKU, which makes SKUs unique per brand.</summary>
    [Alias("add-product")]
    Task<Outcome<ProductView>> AddProductAsync(ProductDraft draft);

    /// <summary>Lists a collaboration plan of the brand (idempotent).</summary>
    [Alias("list-plan")]
    Task ListPlanAsync(string planId);

    /// <summary>The ids of the brand's collaboration plans, oldest first.</summary>
    [AlwaysInterleave, Alias("plans")]
    Task<IReadOnlyList<string>> PlanIdsAsync();

    /// <summary>The ids of the products the brand added, oldest first.</summary>
    [AlwaysInterleave, Alias("product-ids")]
    Task<IReadOnlyList<string>> ProductIdsAsync();
}
