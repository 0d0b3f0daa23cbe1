using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Carts;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Endpoints;

public sealed record ClickRequest([property: Required, StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId);

public sealed record ClickResponse(string Code, string ProductId, DateTimeOffset AttributedUntil);

public sealed record BuyRequest(
    [property: Required, StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId,
    [property: Required, Range(1, CheckoutIds.MaxQuantity)] int? Quantity,
    [property: StringLength(LinkEndpoints.MaxPaymentTokenLength, MinimumLength = 1)] string? PaymentToken = null);

public static class LinkEndpoints
{
    public const int MaxPaymentTokenLength = 256;

    public static IEndpointRouteBuilder MapLinkEndpoints(this IEndpointRouteBuilder routes)
    {
        var links = routes.MapGroup("/api/links").WithTags("Links").WithCallerLimits();
        links.MapGet("/{code}", GetLink).AllowAnonymous()
            .WithName("getLink").WithSummary("A link: its product, creator and whether it is active")
            .ProducesProblem(StatusCodes.Status404NotFound);
        links.MapPost("/{code}/clicks", RecordClick).RequireAuthorization(Access.Platform)
            .WithName("clickLink").WithSummary("A shopper's click on a link: attributes the shopper's purchases of its product for the window")
            .ProducesProblem(StatusCodes.Status404NotFound);
        links.MapGet("/{code}/stats", GetStats).RequireAuthorization(Access.PlatformOrAnyCreator)
            .WithName("getLinkStats").WithSummary("A link's clicks, shoppers, orders and commission (net of reversals)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        links.MapPost("/{code}/buy", Buy).RequireAuthorization(Access.Platform).RequireIdempotencyKey()
            .WithName("buyNow").WithSummary("One tap: a click and a checkout of the link's product for a shopper")
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    private static async Task<Results<Ok<LinkView>, ProblemHttpResult>> GetLink(string code, IGrainFactory grains) =>
        Input.IsLinkCode(code) && await grains.GetGrain<ILinkGrain>(code).GetAsync() is { } link
            ? TypedResults.Ok(link)
            : Problems.NotFound($"Link '{code}'");

    private static async Task<Results<Created<ClickResponse>, ProblemHttpResult>> RecordClick(string code, ClickRequest body, ClickDesk clicks)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (!Input.IsLinkCode(code))
        {
            return Problems.NotFound($"Link '{code}'");
        }
        var outcome = await clicks.ClickAsync(code, body.ShopperId!);
        return outcome.Value is { } click
            ? TypedResults.Created($"/api/links/{code}", new ClickResponse(click.Code, click.ProductId, click.AttributedUntil))
            : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<LinkStats>, ProblemHttpResult>> GetStats(string code, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsLinkCode(code))
        {
            return Problems.NotFound($"Link '{code}'");
        }
        var outcome = await grains.GetGrain<ILinkGrain>(code).GetStatsAsync(user.CreatorId());
        return outcome.Value is { } stats ? TypedResults.Ok(stats) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Created<OrderView>, ProblemHttpResult>> Buy(string code, BuyRequest body, HttpRequest request, CheckoutDesk desk)
    {
        if (!Input.TryIdempotencyKey(request, out var idempotencyKey, out var headerError))
        {
            return Problems.Malformed(headerError);
        }
        var error = Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength)
            ?? Input.RequiredError(body.Quantity, "quantity")
            ?? Input.TextError(body.PaymentToken, "paymentToken", MaxPaymentTokenLength, required: false);
        if (error is not null)
        {
            return Problems.Malformed(error);
        }
        if (body.Quantity is <= 0 or > CheckoutIds.MaxQuantity)
        {
            return Problems.Invalid($"quantity must be between 1 and {CheckoutIds.MaxQuantity}.");
        }
        if (!Input.IsLinkCode(code))
        {
            return Problems.NotFound($"Link '{code}'");
        }
        var outcome = await desk.BuyAsync(body.ShopperId!, idempotencyKey, code, body.Quantity!.Value, body.PaymentToken);
        return outcome.Value is { } receipt
            ? TypedResults.Created($"/api/orders/{receipt.Orders[0].OrderId}", receipt.Orders[0])
            : Problems.From(outcome.Failure!);
    }
}
