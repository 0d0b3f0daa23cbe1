using System.ComponentModel.DataAnnotations;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Brands;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Sales;

namespace Vetrina.Api.Endpoints;

// The attributes describe the bounds in the OpenAPI document; the handlers and grains enforce them.
public sealed record CreateBrandRequest(
    [property: Required, StringLength(BrandEndpoints.MaxNameLength, MinimumLength = 1)] string? Name,
    [property: Required, Range(0, Money.MaxBps)] int? DefaultCommissionBps,
    [property: Range(1, CatalogRules.MaxWindowHours)] int? AttributionWindowHours = null,
    [property: Range(0, CatalogRules.MaxWindowDays)] int? ReturnWindowDays = null,
    [property: Range(0, CatalogRules.MaxWindowDays)] int? RateLockDays = null);

public sealed record BrandCreatedResponse(string BrandId, string ApiKey, string Name, int DefaultCommissionBps, int AttributionWindowHours, int ReturnWindowDays, int RateLockDays);

public sealed record CreateProductRequest(
    [property: Required, StringLength(BrandEndpoints.MaxSkuLength, MinimumLength = 1)] string? Sku,
    [property: Required, StringLength(BrandEndpoints.MaxTitleLength, MinimumLength = 1)] string? Title,
    [property: Required, Range(0, CatalogRules.MaxPriceMinor)] long? PriceMinor,
    [property: Required, StringLength(3, MinimumLength = 3)] string? Currency,
    [property: Required, Range(0, CatalogRules.MaxStock)] int? Stock,
    [property: Range(0, Money.MaxBps)] int? CommissionBps = null);

public static class BrandEndpoints
{
    public const int MaxNameLength = 200;
    public const int MaxSkuLength = 64;
    public const int MaxTitleLength = 300;

    public static IEndpointRouteBuilder MapBrandEndpoints(this IEndpointRouteBuilder routes)
    {
        var brands = routes.MapGroup("/api/brands").WithTags("Brands").WithCallerLimits();
        brands.MapPost("/", CreateBrand).RequireAuthorization(Access.Platform)
            .WithName("createBrand").WithSummary("Register a brand; answers its key, once")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        brands.MapGet("/{brandId}", GetBrand).RequireAuthorization(Access.PlatformOrBrandOwner)
            .WithName("getBrand").WithSummary("A brand and its terms, without its key")
            .ProducesProblem(StatusCodes.Status404NotFound);
        brands.MapPost("/{brandId}/products", CreateProduct).RequireAuthorization(Access.BrandOwner)
            .WithName("createProduct").WithSummary("Publish a product of the brand (sku unique per brand)")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        brands.MapGet("/{brandId}/sales", GetSales).RequireAuthorization(Access.BrandOwner)
            .WithName("getBrandSales").WithSummary("The brand's sales by product and by creator");
        return routes;
    }

    private static async Task<Results<Created<BrandCreatedResponse>, ProblemHttpResult>> CreateBrand(CreateBrandRequest body, IGrainFactory grains)
    {
        if (Input.TextError(body.Name, "name", MaxNameLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (Input.RequiredError(body.DefaultCommissionBps, "defaultCommissionBps") is { } missing)
        {
            return Problems.Malformed(missing);
        }
        var brandId = Identifiers.NewRandom(IdPrefixes.Brand);
        var apiKey = ApiKeys.Issue(brandId);
        var registration = new BrandRegistration(body.Name!, body.DefaultCommissionBps!.Value, body.AttributionWindowHours ?? 168,
            body.ReturnWindowDays ?? 14, ApiKeys.Hash(apiKey), body.RateLockDays ?? BrandTerms.DefaultRateLockDays);
        var outcome = await grains.GetGrain<IBrandGrain>(brandId).RegisterAsync(registration);
        if (outcome.Value is not { } brand)
        {
            return Problems.From(outcome.Failure!);
        }
        return TypedResults.Created($"/api/brands/{brandId}",
            new BrandCreatedResponse(brandId, apiKey, brand.Name, brand.DefaultCommissionBps, brand.AttributionWindowHours, brand.ReturnWindowDays, brand.RateLockDays));
    }

    private static async Task<Results<Ok<BrandView>, ProblemHttpResult>> GetBrand(string brandId, IGrainFactory grains) =>
        Input.IsBrandId(brandId) && await grains.GetGrain<IBrandGrain>(brandId).GetAsync() is { } brand
            ? TypedResults.Ok(brand)
            : Problems.NotFound($"Brand '{brandId}'");

    private static async Task<Results<Created<ProductView>, ProblemHttpResult>> CreateProduct(string brandId, CreateProductRequest body, IGrainFactory grains)
    {
        var error = Input.TextError(body.Sku, "sku", MaxSkuLength)
            ?? Input.TextError(body.Title, "title", MaxTitleLength)
            ?? Input.RequiredError(body.PriceMinor, "priceMinor")
            ?? Input.TextError(body.Currency, "currency", 3)
            ?? Input.RequiredError(body.Stock, "stock");
        if (error is not null)
        {
            return Problems.Malformed(error);
        }
        var draft = new ProductDraft(body.Sku!, body.Title!, body.PriceMinor!.Value, body.Currency!, body.Stock!.Value, body.CommissionBps);
        var outcome = await grains.GetGrain<IBrandGrain>(brandId).AddProductAsync(draft);
        return outcome.Value is { } product
            ? TypedResults.Created($"/api/products/{product.ProductId}", product)
            : Problems.From(outcome.Failure!);
    }

    private static async Task<Ok<SalesReport>> GetSales(string brandId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IBrandSalesGrain>(brandId).GetReportAsync());
}
