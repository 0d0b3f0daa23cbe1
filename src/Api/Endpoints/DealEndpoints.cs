using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Deals;
using Vetrina.Grains.Live;

namespace Vetrina.Api.Endpoints;

public sealed record CreateDealRequest(
    [property: Required, Range(1, CatalogRules.MaxPriceMinor)] long? DealPriceMinor,
    [property: Required, Range(1, DealRules.MaxUnits)] int? Units,
    [property: Required, Range(1, DealRules.MaxUnits)] int? PerBuyerLimit,
    [property: Required, Range(1, DealRules.MaxDurationSeconds)] int? DurationSeconds,
    [property: Range(0, DealRules.MaxCountdownSeconds)] int? CountdownSeconds = 0,
    string? SessionId = null);

/// <summary>Flash deals: a deal price on units carved from a product's stock, a per-buyer limit and a countdown.</summary>
public static class DealEndpoints
{
    public static IEndpointRouteBuilder MapDealEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/products/{productId}/flash-deals").WithTags("Live").WithCallerLimits()
            .MapPost("", CreateDeal).RequireAuthorization(Access.AnyBrand)
            .WithName("createFlashDeal").WithSummary("A flash deal on units taken from the product's stock")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        var deals = routes.MapGroup("/api/flash-deals").WithTags("Live").WithCallerLimits();
        deals.MapGet("/{dealId}", GetDeal).AllowAnonymous()
            .WithName("getFlashDeal").WithSummary("A flash deal with its units left and schedule")
            .ProducesProblem(StatusCodes.Status404NotFound);
        deals.MapPost("/{dealId}/start", Start).RequireAuthorization(Access.AnyBrandOrCreator)
            .WithName("startFlashDeal").WithSummary("Start a deal's countdown")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return routes;
    }

    private static async Task<Results<Created<FlashDealView>, ProblemHttpResult>> CreateDeal(string productId, CreateDealRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var missing = Input.RequiredError(body.DealPriceMinor, "dealPriceMinor") ?? Input.RequiredError(body.Units, "units")
            ?? Input.RequiredError(body.PerBuyerLimit, "perBuyerLimit") ?? Input.RequiredError(body.DurationSeconds, "durationSeconds")
            ?? Input.TextError(body.SessionId, "sessionId", Input.MaxShopperIdLength, required: false);
        if (missing is not null)
        {
            return Problems.Malformed(missing);
        }
        if (DealRules.Error(body.DealPriceMinor!.Value, body.Units!.Value, body.PerBuyerLimit!.Value, body.CountdownSeconds ?? 0, body.DurationSeconds!.Value) is { } invalid)
        {
            return Problems.Invalid(invalid);
        }
        if (!Input.IsProductId(productId) || await grains.GetGrain<IProductGrain>(productId).QuoteAsync() is not { } product)
        {
            return Problems.NotFound($"Product '{productId}'");
        }
        if (body.SessionId is { } sessionId)
        {
            if (!Input.IsLiveSessionId(sessionId) || await grains.GetGrain<ILiveSessionGrain>(sessionId).GetTermsAsync() is not { } session)
            {
                return Problems.NotFound($"Live session '{sessionId}'");
            }
            if (!session.Showcase.Contains(productId, StringComparer.Ordinal))
            {
                return Problems.From(Failure.Conflict($"Product '{productId}' is not in the showcase of live session '{sessionId}'; a deal of a session sells what it shows."));
            }
        }
        var dealId = Identifiers.NewRandom(IdPrefixes.FlashDeal);
        var definition = new DealDefinition(productId, product.BrandId, body.SessionId, body.DealPriceMinor.Value, product.Currency, body.Units.Value,
            body.PerBuyerLimit.Value, body.CountdownSeconds ?? 0, body.DurationSeconds.Value);
        var outcome = await grains.GetGrain<IFlashDealGrain>(dealId).CreateAsync(user.BrandId()!, definition);
        return outcome.Value is { } deal ? TypedResults.Created($"/api/flash-deals/{dealId}", deal) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<FlashDealView>, ProblemHttpResult>> GetDeal(string dealId, IGrainFactory grains) =>
        Input.IsFlashDealId(dealId) && await grains.GetGrain<IFlashDealGrain>(dealId).GetAsync() is { } deal
            ? TypedResults.Ok(deal)
            : Problems.NotFound($"Deal '{dealId}'");

    private static async Task<Results<Ok<FlashDealView>, ProblemHttpResult>> Start(string dealId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsFlashDealId(dealId))
        {
            return Problems.NotFound($"Deal '{dealId}'");
        }
        var outcome = await grains.GetGrain<IFlashDealGrain>(dealId).StartAsync(user.BrandId(), user.CreatorId());
        return outcome.Value is { } deal ? TypedResults.Ok(deal) : Problems.From(outcome.Failure!);
    }
}
