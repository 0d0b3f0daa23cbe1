using Vetrina.Grains.Common;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;

namespace Vetrina.Grains.Checkout;

/// <summary>One product to buy, with the shopper's latest click on a link for it, if any.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.checkout-item")]
public sealed record CheckoutItem(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] Click? Click);

/// <summary>A cart checkout (Items) or a one-tap buy through a link (BuyLinkCode and BuyQuantity).</summary>
[GenerateSerializer, Immutable, Alias("vetrina.checkout-request")]
public sealed record CheckoutRequest(
    [property: Id(0)] string ShopperId,
    [property: Id(1)] IReadOnlyList<CheckoutItem> Items,
    [property: Id(2)] string? PaymentToken,
    [property: Id(3)] string? BuyLinkCode = null,
    [property: Id(4)] int BuyQuantity = 0);

[GenerateSerializer, Immutable, Alias("vetrina.checkout-receipt")]
public sealed record CheckoutReceipt(
    [property: Id(0)] string CheckoutId,
    [property: Id(1)] IReadOnlyList<OrderView> Orders);

public static class CheckoutIds
{
    public const int MaxLines = 100;
    public const int MaxQuantity = 10_000;

    /// <summary>An Idempotency-Key is scoped to its shopper: the pair names the checkout.</summary>
    public static string For(string shopperId, string idempotencyKey) => Identifiers.Derived(IdPrefixes.Checkout, shopperId, idempotencyKey);
}

/// <summary>
/// Coordinates one checkout across product, order, creator, link and sales grains without a distributed
/// transaction: hold stock, charge, place orders, confirm stock. Every step is idempotent by the checkout id
/// and the stage is written before the charge, so a retry or a recovery can only finish the checkout or undo it.
/// </summary>
[Alias("vetrina.checkout")]
public interface ICheckoutGrain : IGrainWithStringKey
{
    /// <summary>Runs the checkout, or returns the outcome of the first run with this id.</summary>
    [Alias("run")]
    Task<Outcome<CheckoutReceipt>> RunAsync(CheckoutRequest request);

    /// <summary>A product holding stock for this checkout asks it to finish or undo.</summary>
    [OneWay, Alias("resolve")]
    Task ResolveAsync(string productId);
}
