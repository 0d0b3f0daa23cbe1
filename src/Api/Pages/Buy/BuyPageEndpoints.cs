using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Pages.Buy;

public sealed record CheckoutSessionRequest([property: Required, StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId);

public sealed record CheckoutSessionResponse(string Url, DateTimeOffset ExpiresAt);

/// <summary>
/// The hosted buy page: the platform opens a checkout session for a shopper and a link and sends the shopper to its
/// signed URL; the page buys through the same checkout desk as <c>POST /api/links/{code}/buy</c>, once per session.
/// </summary>
public static class BuyPageEndpoints
{
    public static IEndpointRouteBuilder MapBuyPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/links").WithTags("Links").WithCallerLimits().MapPost("/{code}/checkout-sessions", OpenSession)
            .RequireAuthorization(Access.Platform)
            .WithName("openCheckoutSession").WithSummary("A signed, expiring link to the hosted buy page for a shopper and a link")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        var page = routes.MapGroup("/buy/{token}").ExcludeFromDescription().AllowAnonymous().WithCallerLimits();
        page.MapGet("", Show);
        page.MapPost("", BuyAsync);
        page.MapGet("/orders/{orderId}", Receipt);
        return routes;
    }

    private static async Task<Results<Created<CheckoutSessionResponse>, ProblemHttpResult>> OpenSession(string code, CheckoutSessionRequest body,
        HttpRequest request, CheckoutSessions sessions, IGrainFactory grains)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (!Input.IsLinkCode(code) || await grains.GetGrain<ILinkGrain>(code).GetAsync() is not { } link)
        {
            return Problems.NotFound($"Link '{code}'");
        }
        if (!link.Active)
        {
            return Problems.From(Vetrina.Grains.Common.Failure.Conflict($"Link '{code}' is not active."));
        }
        var session = sessions.Open(code, body.ShopperId!);
        var url = $"{request.Scheme}://{request.Host}/buy/{session.Token}";
        return TypedResults.Created(url, new CheckoutSessionResponse(url, session.ExpiresAt));
    }

    private static async Task<IResult> Show(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains) =>
        await SessionPageAsync(token, context, sessions, grains, quantity: 1, error: null, StatusCodes.Status200OK);

    private static async Task<IResult> BuyAsync(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains, CheckoutDesk desk)
    {
        if (sessions.Read(token) is not { LinkCode: { } linkCode } session)
        {
            return Unknown(context);
        }
        if (sessions.HasExpired(session))
        {
            return Expired(context);
        }
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return PageAnswers.Message(context, StatusCodes.Status400BadRequest, "Please try again",
                "This form was not sent from its page, or the page is too old. Reload the page and buy again.");
        }
        var form = await context.Request.ReadFormAsync();
        if (!int.TryParse(form["quantity"], NumberStyles.None, CultureInfo.InvariantCulture, out var quantity) || quantity is < 1 or > CheckoutIds.MaxQuantity)
        {
            return await SessionPageAsync(token, context, sessions, grains, 1, $"Choose a quantity from 1 to {CheckoutIds.MaxQuantity}.", StatusCodes.Status400BadRequest);
        }
        var outcome = await desk.BuyAsync(session.ShopperId, session.IdempotencyKey, linkCode, quantity, paymentToken: null);
        if (outcome.Value is { } receipt)
        {
            // Post, then redirect to the receipt: reloading the receipt never sends the form again.
            return TypedResults.Redirect($"/buy/{token}/orders/{receipt.Orders[0].OrderId}", permanent: false, preserveMethod: false);
        }
        var failure = outcome.Failure!;
        return await SessionPageAsync(token, context, sessions, grains, quantity, failure.Detail, Problems.From(failure).StatusCode);
    }

    private static async Task<IResult> Receipt(string token, string orderId, HttpContext context, CheckoutSessions sessions, IGrainFactory grains)
    {
        if (sessions.Read(token) is not { LinkCode: { } linkCode } session || !Input.IsOrderId(orderId))
        {
            return Unknown(context);
        }
        var order = (await grains.GetGrain<IOrderGrain>(orderId).GetAsync(OrderActor.Platform)).Value;
        // Only the session's own order: its shopper, bought through its link.
        if (order is null || order.ShopperId != session.ShopperId || !order.Lines.Any(l => l.LinkCode == linkCode))
        {
            return Unknown(context);
        }
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var productId in order.Lines.Select(l => l.ProductId).Distinct())
        {
            titles[productId] = (await grains.GetGrain<IProductGrain>(productId).GetAsync())?.Title ?? productId;
        }
        return PageAnswers.Page<ReceiptPage>(context, new() { ["Order"] = order, ["Titles"] = titles });
    }

    private static async Task<IResult> SessionPageAsync(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains,
        int quantity, string? error, int status)
    {
        // A live session's token opens the live page, never this one.
        if (sessions.Read(token) is not { LinkCode: { } linkCode } session)
        {
            return Unknown(context);
        }
        if (sessions.HasExpired(session))
        {
            return Expired(context);
        }
        var link = await grains.GetGrain<ILinkGrain>(linkCode).GetAsync();
        var product = link is null ? null : await grains.GetGrain<IProductGrain>(link.ProductId).GetAsync();
        if (link is not { Active: true } || product is not { Status: ProductStatus.Active })
        {
            return PageAnswers.Message(context, StatusCodes.Status404NotFound, "Not available", "This product is not on sale any more.");
        }
        var (field, antiforgery) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<BuyPage>(context, new()
        {
            ["Session"] = session,
            ["Product"] = product.Public(),
            ["Action"] = $"/buy/{token}",
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = antiforgery,
            ["Quantity"] = quantity,
            ["Error"] = error,
        }, status);
    }

    private static RazorComponentResult Unknown(HttpContext context) =>
        PageAnswers.Message(context, StatusCodes.Status404NotFound, "Link not found", "This checkout link is not valid. Ask for a new one in the app.");

    private static RazorComponentResult Expired(HttpContext context) =>
        PageAnswers.Message(context, StatusCodes.Status410Gone, "Link expired", "This checkout link has expired. Open the product again in the app for a new one.");
}
