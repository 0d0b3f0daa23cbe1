using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Buy;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Deals;
using Vetrina.Grains.Live;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Pages.Live;

/// <summary>
/// A product of a live session's showcase as the viewer page offers it, with the deal that sets its price now, if any,
/// and the product's deals for every session (JSON, as the API answers a deal), which the session's stream does not tell.
/// </summary>
public sealed record LiveOffer(ProductView Product, FlashDealView? Deal, string ProductWideDealsJson)
{
    /// <summary>The deal that sells at its price now: active with units left.</summary>
    public FlashDealView? SellingDeal => Deal is { Status: DealStatus.Active, Remaining: > 0 } ? Deal : null;

    /// <summary>Whether a buy can be tried: the product has stock of its own, or the deal has units left.</summary>
    public bool OnSale => Product.Available > 0 || SellingDeal is not null;
}

/// <summary>
/// The live viewer page: the platform opens a checkout session for a shopper and a live session and sends the shopper to
/// its signed URL (<c>/live/{token}</c>); the page shows the session as its event stream tells it and buys through the
/// same checkout desk as <c>POST /api/lives/{sessionId}/buy</c>, once per product per checkout session.
/// </summary>
public static class LivePageEndpoints
{
    public static IEndpointRouteBuilder MapLivePage(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/lives").WithTags("Live").WithCallerLimits().MapPost("/{sessionId}/checkout-sessions", OpenSession)
            .RequireAuthorization(Access.Platform)
            .WithName("openLiveCheckoutSession").WithSummary("A signed, expiring link to the hosted live viewer page for a shopper and a live session")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        var page = routes.MapGroup("/live/{token}").ExcludeFromDescription().AllowAnonymous().WithCallerLimits();
        page.MapGet("", Show);
        page.MapPost("", BuyAsync);
        page.MapGet("/orders/{orderId}", Receipt);
        return routes;
    }

    private static async Task<Results<Created<CheckoutSessionResponse>, ProblemHttpResult>> OpenSession(string sessionId, CheckoutSessionRequest body,
        HttpRequest request, CheckoutSessions sessions, IGrainFactory grains)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (!Input.IsLiveSessionId(sessionId) || await grains.GetGrain<ILiveSessionGrain>(sessionId).GetAsync() is not { } live)
        {
            return Problems.NotFound($"Live session '{sessionId}'");
        }
        // A scheduled session may be watched until it starts; an ended one sells nothing more.
        if (live.Status == LiveStatus.Ended)
        {
            return Problems.From(Failure.Conflict($"Live session '{sessionId}' has ended."));
        }
        var session = sessions.OpenLive(sessionId, body.ShopperId!);
        var url = $"{request.Scheme}://{request.Host}/live/{session.Token}";
        return TypedResults.Created(url, new CheckoutSessionResponse(url, session.ExpiresAt));
    }

    private static Task<RazorComponentResult> Show(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains, CommerceClock clock) =>
        SessionPageAsync(token, context, sessions, grains, clock, new Attempt(null, 1, null), StatusCodes.Status200OK);

    private static async Task<IResult> BuyAsync(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains, CommerceClock clock, CheckoutDesk desk)
    {
        if (sessions.Read(token) is not { LiveSessionId: { } liveSessionId } session)
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
        string? productId = form["productId"];
        if (!Input.IsProductId(productId))
        {
            return await SessionPageAsync(token, context, sessions, grains, clock, new Attempt(null, 1, "Choose a product of the showcase."), StatusCodes.Status400BadRequest);
        }
        if (!int.TryParse(form["quantity"], NumberStyles.None, CultureInfo.InvariantCulture, out var quantity) || quantity is < 1 or > CheckoutIds.MaxQuantity)
        {
            return await SessionPageAsync(token, context, sessions, grains, clock,
                new Attempt(productId, 1, $"Choose a quantity from 1 to {CheckoutIds.MaxQuantity}."), StatusCodes.Status400BadRequest);
        }
        // The key comes from the session and the product: the same form sent again answers the first buy's outcome.
        var outcome = await desk.BuyLiveAsync(session.ShopperId, session.IdempotencyKeyFor(productId!), liveSessionId, productId!, quantity, paymentToken: null);
        if (outcome.Value is { } receipt)
        {
            // Post, then redirect to the receipt: reloading the receipt never sends the form again.
            return TypedResults.Redirect($"/live/{token}/orders/{receipt.Orders[0].OrderId}", permanent: false, preserveMethod: false);
        }
        var failure = outcome.Failure!;
        return await SessionPageAsync(token, context, sessions, grains, clock, new Attempt(productId, quantity, failure.Detail), Problems.From(failure).StatusCode);
    }

    private static async Task<RazorComponentResult> Receipt(string token, string orderId, HttpContext context, CheckoutSessions sessions, IGrainFactory grains)
    {
        if (sessions.Read(token) is not { LiveSessionId: { } liveSessionId } session || !Input.IsOrderId(orderId))
        {
            return Unknown(context);
        }
        var order = (await grains.GetGrain<IOrderGrain>(orderId).GetAsync(OrderActor.Platform)).Value;
        // Only the session's own orders: its shopper, bought in its live session.
        if (order is null || order.ShopperId != session.ShopperId || !order.Lines.Any(l => l.LiveSessionId == liveSessionId))
        {
            return Unknown(context);
        }
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var productId in order.Lines.Select(l => l.ProductId).Distinct())
        {
            titles[productId] = (await grains.GetGrain<IProductGrain>(productId).GetAsync())?.Title ?? productId;
        }
        return PageAnswers.Page<ReceiptPage>(context, new()
        {
            ["Order"] = order,
            ["Titles"] = titles,
            ["BackUrl"] = $"/live/{token}",
            ["BackText"] = "Back to the live",
        });
    }

    /// <summary>What the viewer last sent, to show again with what went wrong.</summary>
    private sealed record Attempt(string? ProductId, int Quantity, string? Error);

    private static async Task<RazorComponentResult> SessionPageAsync(string token, HttpContext context, CheckoutSessions sessions, IGrainFactory grains,
        CommerceClock clock, Attempt attempt, int status)
    {
        // A link's token opens the buy page, never this one.
        if (sessions.Read(token) is not { LiveSessionId: { } liveSessionId } session)
        {
            return Unknown(context);
        }
        if (sessions.HasExpired(session))
        {
            return Expired(context);
        }
        if (await grains.GetGrain<ILiveSessionGrain>(liveSessionId).GetAsync() is not { } live)
        {
            return Unknown(context);
        }
        if (live.Status == LiveStatus.Ended)
        {
            return PageAnswers.Message(context, attempt.Error is null ? StatusCodes.Status410Gone : status, "This live has ended",
                $"“{live.Title}” has ended{(attempt.Error is null ? "" : "; nothing was bought")}. Thank you for watching.");
        }
        var now = clock.UtcNow;
        var creator = grains.GetGrain<ICreatorGrain>(live.CreatorId).GetAsync();
        var products = await Task.WhenAll(live.Showcase.Select(id => grains.GetGrain<IProductGrain>(id).GetAsync()));
        // Deals written into the page for its script as the API writes them.
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var offers = (await Task.WhenAll(products.OfType<ProductView>().Where(p => p.Status == ProductStatus.Active).Select(async product =>
            {
                var wide = await ProductWideDealsAsync(grains, product.ProductId, now);
                return new LiveOffer(product.Public(), CurrentDeal(live.Deals.Where(d => d.ProductId == product.ProductId).Select(d => d.AsOf(now)).Concat(wide)),
                    JsonSerializer.Serialize(wide, json));
            })))
            // The pinned product first, as the page's script keeps it.
            .OrderByDescending(o => o.Product.ProductId == live.PinnedProductId)
            .ToList();
        var (field, antiforgery) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<LivePage>(context, new()
        {
            ["Session"] = session,
            ["Live"] = live,
            ["CreatorHandle"] = (await creator)?.Handle,
            ["Offers"] = offers,
            ["Now"] = now,
            ["Action"] = $"/live/{token}",
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = antiforgery,
            ["ErrorProductId"] = attempt.ProductId,
            ["Quantity"] = attempt.Quantity,
            ["Error"] = attempt.Error,
        }, status);
    }

    /// <summary>
    /// The deal that matters now among a product's deals, the session's own before those for every session (the order
    /// in which a live buy tries them): the first one selling, else the first one counting down.
    /// </summary>
    private static FlashDealView? CurrentDeal(IEnumerable<FlashDealView> candidates)
    {
        var deals = candidates.ToList();
        return deals.FirstOrDefault(d => d is { Status: DealStatus.Active, Remaining: > 0 }) ?? deals.FirstOrDefault(d => d.Status == DealStatus.Counting);
    }

    /// <summary>The product's running deals for every session (no session of their own): a live buy gets their price too.</summary>
    private static async Task<List<FlashDealView>> ProductWideDealsAsync(IGrainFactory grains, string productId, DateTimeOffset now)
    {
        var refs = (await grains.GetGrain<IProductGrain>(productId).QuoteAsync())?.Deals ?? [];
        var views = await Task.WhenAll(refs.Where(r => r.SessionId is null).Select(r => grains.GetGrain<IFlashDealGrain>(r.DealId).GetAsync()));
        return [.. views.OfType<FlashDealView>().Select(d => d.AsOf(now)).Where(d => d.Status is DealStatus.Active or DealStatus.Counting)];
    }

    private static RazorComponentResult Unknown(HttpContext context) =>
        PageAnswers.Message(context, StatusCodes.Status404NotFound, "Link not found", "This live link is not valid. Open the live again in the app.");

    private static RazorComponentResult Expired(HttpContext context) =>
        PageAnswers.Message(context, StatusCodes.Status410Gone, "Link expired", "This live link has expired. Open the live again in the app for a new one.");
}
