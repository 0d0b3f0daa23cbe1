using System.ComponentModel.DataAnnotations;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Carts;
using Vetrina.Grains.Checkout;

namespace Vetrina.Api.Endpoints;

/// <summary>0 removes the line.</summary>
public sealed record SetQuantityRequest([property: Required, Range(0, CheckoutIds.MaxQuantity)] int? Quantity);

public sealed record CheckoutBody([property: StringLength(LinkEndpoints.MaxPaymentTokenLength, MinimumLength = 1)] string? PaymentToken = null);

public static class CartEndpoints
{
    public static IEndpointRouteBuilder MapCartEndpoints(this IEndpointRouteBuilder routes)
    {
        var carts = routes.MapGroup("/api/carts").WithTags("Carts").RequireAuthorization(Access.Platform).WithCallerLimits();
        carts.MapPut("/{shopperId}/items/{productId}", SetQuantity)
            .WithName("setCartQuantity").WithSummary("Set how many units of a product the shopper's cart holds (0 removes the line)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        carts.MapGet("/{shopperId}", GetCart)
            .WithName("getCart").WithSummary("The shopper's cart with its attributed lines and total")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        carts.MapPost("/{shopperId}/checkout", Checkout).RequireIdempotencyKey()
            .WithName("checkout").WithSummary("Buy the shopper's cart: one order per brand, all or nothing")
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    private static async Task<Results<Ok<CartView>, ProblemHttpResult>> SetQuantity(
        string shopperId, string productId, SetQuantityRequest body, IGrainFactory grains)
    {
        if (!Input.IsShopperId(shopperId))
        {
            return Problems.Malformed("shopperId must have 1 to 128 characters and no control characters.");
        }
        if (Input.RequiredError(body.Quantity, "quantity") is { } missing)
        {
            return Problems.Malformed(missing);
        }
        if (!Input.IsProductId(productId))
        {
            return Problems.NotFound($"Product '{productId}'");
        }
        var outcome = await grains.GetGrain<ICartGrain>(shopperId).SetQuantityAsync(productId, body.Quantity!.Value);
        return outcome.Value is { } cart ? TypedResults.Ok(cart) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<CartView>, ProblemHttpResult>> GetCart(string shopperId, IGrainFactory grains) =>
        Input.IsShopperId(shopperId)
            ? TypedResults.Ok(await grains.GetGrain<ICartGrain>(shopperId).GetAsync())
            : Problems.Malformed("shopperId must have 1 to 128 characters and no control characters.");

    private static async Task<Results<Created<CheckoutReceipt>, ProblemHttpResult>> Checkout(
        string shopperId, CheckoutBody? body, HttpRequest request, CheckoutDesk desk)
    {
        if (!Input.TryIdempotencyKey(request, out var idempotencyKey, out var headerError))
        {
            return Problems.Malformed(headerError);
        }
        if (!Input.IsShopperId(shopperId))
        {
            return Problems.Malformed("shopperId must have 1 to 128 characters and no control characters.");
        }
        if (Input.TextError(body?.PaymentToken, "paymentToken", LinkEndpoints.MaxPaymentTokenLength, required: false) is { } error)
        {
            return Problems.Malformed(error);
        }
        var outcome = await desk.CheckoutCartAsync(shopperId, idempotencyKey, body?.PaymentToken);
        return outcome.Value is { } receipt
            ? TypedResults.Created($"/api/orders/{receipt.Orders[0].OrderId}", receipt)
            : Problems.From(outcome.Failure!);
    }
}
