using Microsoft.AspNetCore.Authentication;
using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Live;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Endpoints;

public sealed record CreateLiveRequest(
    [property: Required, StringLength(LiveRules.MaxTitleLength, MinimumLength = 1)] string? Title,
    DateTimeOffset? ScheduledFor = null);

public sealed record ShowcaseRequest([property: Required, MaxLength(LiveRules.MaxShowcase)] IReadOnlyList<string>? ProductIds);

public sealed record PinRequest([property: Required, RegularExpression(Input.ProductIdPattern)] string? ProductId);

public sealed record ViewerRequest([property: Required, StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId);

public sealed record LiveBuyRequest(
    [property: Required, StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId,
    [property: Required, RegularExpression(Input.ProductIdPattern)] string? ProductId,
    [property: Required, Range(1, CheckoutIds.MaxQuantity)] int? Quantity,
    [property: StringLength(LinkEndpoints.MaxPaymentTokenLength, MinimumLength = 1)] string? PaymentToken = null);

/// <summary>Live sessions: a creator goes live, shows and pins products, and viewers buy in a tap.</summary>
public static class LiveEndpoints
{
    public static IEndpointRouteBuilder MapLiveEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/creators/{creatorId}/lives").WithTags("Live").WithCallerLimits()
            .MapPost("", CreateLive).RequireAuthorization(Access.CreatorOwner)
            .WithName("createLiveSession").WithSummary("Schedule a live session of the creator")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        // A stream stays open for as long as the viewer watches: rate-limited like every route, but no request timeout.
        routes.MapGet("/api/lives/{sessionId}/events", Events).WithTags("Live").AllowAnonymous()
            .WithName("streamLiveEvents").WithSummary("Server-sent events of a session: session, pin, deal, viewers (and stats for its creator and the platform)")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireRateLimiting(Limits.PerCaller).DisableRequestTimeout();

        var lives = routes.MapGroup("/api/lives").WithTags("Live").WithCallerLimits();
        lives.MapGet("/{sessionId}", GetLive).AllowAnonymous()
            .WithName("getLiveSession").WithSummary("A live session: status, showcase, pinned product, deals and viewers")
            .ProducesProblem(StatusCodes.Status404NotFound);
        lives.MapPost("/{sessionId}/start", Start).RequireAuthorization(Access.AnyCreator)
            .WithName("startLiveSession").WithSummary("Go live")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        lives.MapPost("/{sessionId}/end", End).RequireAuthorization(Access.AnyCreator)
            .WithName("endLiveSession").WithSummary("End the session; it sells nothing more")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        lives.MapPut("/{sessionId}/showcase", SetShowcase).RequireAuthorization(Access.AnyCreator)
            .WithName("setShowcase").WithSummary("Set the products the session shows")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        lives.MapPost("/{sessionId}/pin", Pin).RequireAuthorization(Access.AnyCreator)
            .WithName("pinProduct").WithSummary("Pin a product of the showcase")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        lives.MapDelete("/{sessionId}/pin", Unpin).RequireAuthorization(Access.AnyCreator)
            .WithName("unpinProduct").WithSummary("Unpin the pinned product")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        lives.MapPost("/{sessionId}/viewers", Join).RequireAuthorization(Access.Platform)
            .WithName("joinLiveSession").WithSummary("A shopper watches the session (counted once)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        lives.MapGet("/{sessionId}/stats", GetStats).RequireAuthorization(Access.PlatformOrAnyCreator)
            .WithName("getLiveStats").WithSummary("A session's viewers, orders, units, GMV and commission")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        lives.MapPost("/{sessionId}/buy", Buy).RequireAuthorization(Access.Platform).RequireIdempotencyKey()
            .WithName("buyLive").WithSummary("One tap in a live session: buys a showcased product at its deal price while a deal is active")
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    private static async Task<Results<Created<LiveSessionView>, ProblemHttpResult>> CreateLive(string creatorId, CreateLiveRequest body, IGrainFactory grains)
    {
        if (Input.TextError(body.Title, "title", LiveRules.MaxTitleLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        var outcome = await grains.GetGrain<ICreatorGrain>(creatorId).CreateLiveAsync(body.Title!, body.ScheduledFor);
        return outcome.Value is { } session
            ? TypedResults.Created($"/api/lives/{session.SessionId}", session)
            : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> GetLive(string sessionId, IGrainFactory grains) =>
        Input.IsLiveSessionId(sessionId) && await grains.GetGrain<ILiveSessionGrain>(sessionId).GetAsync() is { } session
            ? TypedResults.Ok(session)
            : Problems.NotFound($"Live session '{sessionId}'");

    private static Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> Start(string sessionId, ClaimsPrincipal user, IGrainFactory grains) =>
        ChangeAsync(sessionId, grains, live => live.StartAsync(user.CreatorId()!));

    private static Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> End(string sessionId, ClaimsPrincipal user, IGrainFactory grains) =>
        ChangeAsync(sessionId, grains, live => live.EndAsync(user.CreatorId()!));

    private static Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> SetShowcase(string sessionId, ShowcaseRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (body.ProductIds is null)
        {
            return Task.FromResult<Results<Ok<LiveSessionView>, ProblemHttpResult>>(Problems.Malformed("productIds is required."));
        }
        if (body.ProductIds.Count > LiveRules.MaxShowcase)
        {
            return Task.FromResult<Results<Ok<LiveSessionView>, ProblemHttpResult>>(Problems.Invalid($"A showcase holds at most {LiveRules.MaxShowcase} products."));
        }
        if (body.ProductIds.Any(id => id is null))
        {
            return Task.FromResult<Results<Ok<LiveSessionView>, ProblemHttpResult>>(Problems.Malformed("productIds must hold product ids, not null."));
        }
        if (body.ProductIds.FirstOrDefault(id => !Input.IsProductId(id)) is { } unknown)
        {
            return Task.FromResult<Results<Ok<LiveSessionView>, ProblemHttpResult>>(Problems.NotFound($"Product '{unknown}'"));
        }
        return ChangeAsync(sessionId, grains, live => live.SetShowcaseAsync(user.CreatorId()!, body.ProductIds));
    }

    private static Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> Pin(string sessionId, PinRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Input.TextError(body.ProductId, "productId", Input.MaxShopperIdLength) is { } error)
        {
            return Task.FromResult<Results<Ok<LiveSessionView>, ProblemHttpResult>>(Problems.Malformed(error));
        }
        return ChangeAsync(sessionId, grains, live => live.PinAsync(user.CreatorId()!, body.ProductId));
    }

    private static Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> Unpin(string sessionId, ClaimsPrincipal user, IGrainFactory grains) =>
        ChangeAsync(sessionId, grains, live => live.PinAsync(user.CreatorId()!, null));

    private static async Task<Results<Ok<LiveViewers>, ProblemHttpResult>> Join(string sessionId, ViewerRequest body, IGrainFactory grains)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (!Input.IsLiveSessionId(sessionId))
        {
            return Problems.NotFound($"Live session '{sessionId}'");
        }
        var outcome = await grains.GetGrain<ILiveSessionGrain>(sessionId).JoinAsync(body.ShopperId!);
        return outcome.Value is { } viewers ? TypedResults.Ok(viewers) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<LiveStats>, ProblemHttpResult>> GetStats(string sessionId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsLiveSessionId(sessionId))
        {
            return Problems.NotFound($"Live session '{sessionId}'");
        }
        var outcome = await grains.GetGrain<ILiveSessionGrain>(sessionId).GetStatsAsync(user.CreatorId());
        return outcome.Value is { } stats ? TypedResults.Ok(stats) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Created<OrderView>, ProblemHttpResult>> Buy(string sessionId, LiveBuyRequest body, HttpRequest request, CheckoutDesk desk)
    {
        if (!Input.TryIdempotencyKey(request, out var idempotencyKey, out var headerError))
        {
            return Problems.Malformed(headerError);
        }
        var error = Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength)
            ?? Input.TextError(body.ProductId, "productId", Input.MaxShopperIdLength)
            ?? Input.RequiredError(body.Quantity, "quantity")
            ?? Input.TextError(body.PaymentToken, "paymentToken", LinkEndpoints.MaxPaymentTokenLength, required: false);
        if (error is not null)
        {
            return Problems.Malformed(error);
        }
        if (body.Quantity is <= 0 or > CheckoutIds.MaxQuantity)
        {
            return Problems.Invalid($"quantity must be between 1 and {CheckoutIds.MaxQuantity}.");
        }
        if (!Input.IsLiveSessionId(sessionId))
        {
            return Problems.NotFound($"Live session '{sessionId}'");
        }
        if (!Input.IsProductId(body.ProductId))
        {
            return Problems.NotFound($"Product '{body.ProductId}'");
        }
        var outcome = await desk.BuyLiveAsync(body.ShopperId!, idempotencyKey, sessionId, body.ProductId!, body.Quantity!.Value, body.PaymentToken);
        return outcome.Value is { } receipt
            ? TypedResults.Created($"/api/orders/{receipt.Orders[0].OrderId}", receipt.Orders[0])
            : Problems.From(outcome.Failure!);
    }

    /// <summary>
    /// Server-sent events: each with its id, kind and JSON data; a comment every <see cref="KeepAliveEvery"/> keeps idle
    /// streams open through proxies. The session creator's or the platform's key also gets the <c>stats</c> events.
    /// </summary>
    private static async Task Events(string sessionId, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, LiveEventHub hub,
        IOptions<JsonOptions> json)
    {
        if (!Input.IsLiveSessionId(sessionId) || await grains.GetGrain<ILiveSessionGrain>(sessionId).GetAsync() is not { } session)
        {
            await Problems.NotFound($"Live session '{sessionId}'").ExecuteAsync(context);
            return;
        }
        if (!hub.HasRoom)
        {
            context.Response.Headers.RetryAfter = UnavailableAnswers.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Problems.From(new Failure(FailureKind.Unavailable, "Too many streams", "This silo serves as many event streams as it may; connect again later."))
                .ExecuteAsync(context);
            return;
        }
        // Stats for the platform and the session's creator, by key or signed in to its console (whose page follows them).
        var withStats = user.IsPlatform() || user.CreatorId() == session.CreatorId
            || (await context.AuthenticateAsync(ConsoleCookie.SchemeName)).Principal?.CreatorId() == session.CreatorId;
        var lastEventId = context.Request.Headers["Last-Event-ID"].FirstOrDefault();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        await response.WriteAsync(": connected\n\n", aborted);
        await response.Body.FlushAsync(aborted);
        var events = hub.StreamAsync(sessionId, lastEventId, withStats, aborted).GetAsyncEnumerator(aborted);
        var next = events.MoveNextAsync().AsTask();
        var keepAlive = Task.Delay(KeepAliveEvery, aborted);
        try
        {
            while (true)
            {
                if (await Task.WhenAny(next, keepAlive) == keepAlive)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    keepAlive = Task.Delay(KeepAliveEvery, aborted);
                    continue;
                }
                if (!await next)
                {
                    return;
                }
                var e = events.Current;
                var data = Serialized.GetValue(e, ev => JsonSerializer.Serialize(ev.Data, ev.Data.GetType(), json.Value.SerializerOptions));
                await response.WriteAsync($"id: {e.Id}\nevent: {e.Kind}\ndata: {data}\n\n", aborted);
                await response.Body.FlushAsync(aborted);
                next = events.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The viewer went away.
        }
        finally
        {
            // The stream's step under way must end before the stream is disposed (its cleanup releases the silo's
            // slot and the feed); it observes the same cancellation, so it ends at once.
            try
            {
                await next;
            }
            catch (Exception)
            {
                // Whatever that step ended with, the stream is over; the cleanup below must run.
            }
            await events.DisposeAsync();
        }
    }

    /// <summary>Each event's JSON, made once however many streams of this silo send it.</summary>
    private static readonly ConditionalWeakTable<LiveEvent, string> Serialized = [];

    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);

    private static async Task<Results<Ok<LiveSessionView>, ProblemHttpResult>> ChangeAsync(string sessionId, IGrainFactory grains, Func<ILiveSessionGrain, Task<Outcome<LiveSessionView>>> change)
    {
        if (!Input.IsLiveSessionId(sessionId))
        {
            return Problems.NotFound($"Live session '{sessionId}'");
        }
        var outcome = await change(grains.GetGrain<ILiveSessionGrain>(sessionId));
        return outcome.Value is { } session ? TypedResults.Ok(session) : Problems.From(outcome.Failure!);
    }
}
