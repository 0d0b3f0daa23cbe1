using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Endpoints;

/// <summary>Any of the fields; the others keep their values. Status is active or archived.</summary>
public sealed record UpdateProductRequest(
    [property: StringLength(BrandEndpoints.MaxTitleLength, MinimumLength = 1)] string? Title = null,
    [property: Range(0, CatalogRules.MaxPriceMinor)] long? PriceMinor = null,
    [property: Range(0, Money.MaxBps)] int? CommissionBps = null,
    [property: AllowedValues("active", "archived", null)] string? Status = null);

public sealed record StockChangeRequest([property: Required, Range(-CatalogRules.MaxStock, CatalogRules.MaxStock)] int? Delta);

public sealed record StockResponse(int Available);

public static class ProductEndpoints
{
    public static IEndpointRouteBuilder MapProductEndpoints(this IEndpointRouteBuilder routes)
    {
        var products = routes.MapGroup("/api/products").WithTags("Products").WithCallerLimits();
        products.MapGet("/{productId}", GetProduct).AllowAnonymous()
            .WithName("getProduct").WithSummary("A product as a shop page shows it; its brand also sees reserved, sold and stocked units")
            .ProducesProblem(StatusCodes.Status404NotFound);
        products.MapPatch("/{productId}", UpdateProduct).RequireAuthorization(Access.AnyBrand)
            .WithName("updateProduct").WithSummary("Change a product's title, price, commission or status")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        products.MapPost("/{productId}/stock", ChangeStock).RequireAuthorization(Access.AnyBrand)
            .WithName("changeStock").WithSummary("Add or remove units of stock")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    /// <summary>Anyone reads a product as a shop page shows it; its brand (and the platform) also sees units reserved, sold and stocked.</summary>
    private static async Task<Results<Ok<ProductView>, ProblemHttpResult>> GetProduct(string productId, ClaimsPrincipal user, IGrainFactory grains) =>
        Input.IsProductId(productId) && await grains.GetGrain<IProductGrain>(productId).GetAsync() is { } product
            ? TypedResults.Ok(user.IsPlatform() || user.BrandId() == product.BrandId ? product : product.Public())
            : Problems.NotFound($"Product '{productId}'");

    private static async Task<Results<Ok<ProductView>, ProblemHttpResult>> UpdateProduct(
        string productId, UpdateProductRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsProductId(productId))
        {
            return Problems.NotFound($"Product '{productId}'");
        }
        if (Input.TextError(body.Title, "title", BrandEndpoints.MaxTitleLength, required: false) is { } error)
        {
            return Problems.Malformed(error);
        }
        ProductStatus? status = body.Status switch
        {
            null => null,
            "active" => ProductStatus.Active,
            "archived" => ProductStatus.Archived,
            _ => (ProductStatus)(-1),
        };
        if (status == (ProductStatus)(-1))
        {
            return Problems.Invalid("status must be 'active' or 'archived'.");
        }
        var outcome = await grains.GetGrain<IProductGrain>(productId)
            .UpdateAsync(user.BrandId()!, new ProductChanges(body.Title, body.PriceMinor, body.CommissionBps, status));
        return outcome.Value is { } product ? TypedResults.Ok(product) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<StockResponse>, ProblemHttpResult>> ChangeStock(
        string productId, StockChangeRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsProductId(productId))
        {
            return Problems.NotFound($"Product '{productId}'");
        }
        if (Input.RequiredError(body.Delta, "delta") is { } missing)
        {
            return Problems.Malformed(missing);
        }
        var outcome = await grains.GetGrain<IProductGrain>(productId).AdjustStockAsync(user.BrandId()!, body.Delta!.Value);
        return outcome.Value is { } product ? TypedResults.Ok(new StockResponse(product.Available)) : Problems.From(outcome.Failure!);
    }
}
