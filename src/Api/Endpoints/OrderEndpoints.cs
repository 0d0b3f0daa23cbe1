using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Endpoints;

public sealed record RefundLineRequest([property: Required, RegularExpression(Input.ProductIdPattern)] string? ProductId, [property: Required, Range(1, CheckoutIds.MaxQuantity)] int? Quantity);

public sealed record RefundRequest(
    [property: Required, Length(1, OrderEndpoints.MaxRefundLines)] IReadOnlyList<RefundLineRequest?>? Lines,
    bool? Restock = null);

/// <summary>Why the platform charges an order back or holds its commission (kept on the order).</summary>
public sealed record OrderReviewRequest([property: Required, StringLength(OrderEndpoints.MaxReasonLength, MinimumLength = 1)] string? Reason);

public static class OrderEndpoints
{
    public const int MaxRefundLines = 100;
    public const int MaxReasonLength = 500;

    public static IEndpointRouteBuilder MapOrderEndpoints(this IEndpointRouteBuilder routes)
    {
        var orders = routes.MapGroup("/api/orders").WithTags("Orders").WithCallerLimits();
        orders.MapGet("/{orderId}", GetOrder).RequireAuthorization(Access.PlatformOrAnyBrand)
            .WithName("getOrder").WithSummary("An order with its lines and commission")
            .ProducesProblem(StatusCodes.Status404NotFound);
        orders.MapPost("/{orderId}/cancel", Cancel).RequireAuthorization(Access.Platform)
            .WithName("cancelOrder").WithSummary("Cancel an order before shipping: stock returns, commission is reversed")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        orders.MapPost("/{orderId}/ship", Ship).RequireAuthorization(Access.AnyBrand)
            .WithName("shipOrder").WithSummary("Mark an order shipped")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        orders.MapPost("/{orderId}/deliver", Deliver).RequireAuthorization(Access.AnyBrand)
            .WithName("deliverOrder").WithSummary("Mark an order delivered; its return window starts")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        orders.MapPost("/{orderId}/refunds", Refund).RequireAuthorization(Access.Platform)
            .WithName("refundOrder").WithSummary("Refund lines of a delivered order inside its return window")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        orders.MapPost("/{orderId}/chargeback", ChargeBack).RequireAuthorization(Access.Platform)
            .WithName("chargeBackOrder").WithSummary("Record a chargeback: the order's commission is reversed whatever its state")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        orders.MapPost("/{orderId}/freeze", Freeze).RequireAuthorization(Access.Platform)
            .WithName("freezeOrderCommission").WithSummary("Hold the order's commission: it neither settles nor pays")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        orders.MapPost("/{orderId}/unfreeze", Unfreeze).RequireAuthorization(Access.Platform)
            .WithName("unfreezeOrderCommission").WithSummary("Release a held commission")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> GetOrder(string orderId, ClaimsPrincipal user, IGrainFactory grains) =>
        Answer(orderId, grains, order => order.GetAsync(Actor(user)));

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Cancel(string orderId, IGrainFactory grains) =>
        Answer(orderId, grains, order => order.CancelAsync(OrderActor.Platform));

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Ship(string orderId, ClaimsPrincipal user, IGrainFactory grains) =>
        Answer(orderId, grains, order => order.ShipAsync(Actor(user)));

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Deliver(string orderId, ClaimsPrincipal user, IGrainFactory grains) =>
        Answer(orderId, grains, order => order.DeliverAsync(Actor(user)));

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Refund(string orderId, RefundRequest body, IGrainFactory grains)
    {
        if (body.Lines is null || body.Lines.Count is 0 or > MaxRefundLines)
        {
            return Problems.Malformed($"'lines' must list 1 to {MaxRefundLines} lines.");
        }
        var lines = new List<RefundLine>();
        foreach (var line in body.Lines)
        {
            if (line?.ProductId is null || line.Quantity is null)
            {
                return Problems.Malformed("Each refund line needs 'productId' and 'quantity'.");
            }
            if (!Input.IsProductId(line.ProductId))
            {
                return Problems.Invalid("Each refund line must name a product of this order by its id.");
            }
            lines.Add(new RefundLine(line.ProductId, line.Quantity.Value));
        }
        return await Answer(orderId, grains, order => order.RefundAsync(OrderActor.Platform, lines, body.Restock ?? true));
    }

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> ChargeBack(string orderId, OrderReviewRequest body, IGrainFactory grains) =>
        Review(orderId, body, grains, (order, reason) => order.ChargeBackAsync(reason));

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Freeze(string orderId, OrderReviewRequest body, IGrainFactory grains) =>
        Review(orderId, body, grains, (order, reason) => order.FreezeAsync(true, reason));

    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Unfreeze(string orderId, OrderReviewRequest body, IGrainFactory grains) =>
        Review(orderId, body, grains, (order, reason) => order.FreezeAsync(false, reason));

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Review(
        string orderId, OrderReviewRequest body, IGrainFactory grains, Func<IOrderGrain, string, Task<Grains.Common.Outcome<OrderView>>> call)
    {
        if (Input.TextError(body.Reason, "reason", MaxReasonLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        return await Answer(orderId, grains, order => call(order, body.Reason!));
    }

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Answer(
        string orderId, IGrainFactory grains, Func<IOrderGrain, Task<Grains.Common.Outcome<OrderView>>> call)
    {
        if (!Input.IsOrderId(orderId))
        {
            return Problems.NotFound($"Order '{orderId}'");
        }
        var outcome = await call(grains.GetGrain<IOrderGrain>(orderId));
        return outcome.Value is { } order ? TypedResults.Ok(order) : Problems.From(outcome.Failure!);
    }

    private static OrderActor Actor(ClaimsPrincipal user) => user.IsPlatform() ? OrderActor.Platform : new OrderActor(user.BrandId());
}
