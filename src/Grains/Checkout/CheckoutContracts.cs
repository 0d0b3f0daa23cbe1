using Vetrina.Grains.Common;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;

namespace Vetrina.Grains.Checkout;

/// <summary>
/// One product to buy, with the shopper's latest click on a link for it, if any, (from a cart) the unit price
/// the cart showed, which checkout must charge or refuse, and (bought in a live session) the session, whose
/// creator the line is attributed to.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.checkout-item")]
public sealed record CheckoutItem(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] Click? Click,
    [property: Id(3)] long? ExpectedUnitPriceMinor = null,
    [property: Id(4)] string? LiveSessionId = null);

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

    public static string? ItemsError(IReadOnlyList<CheckoutItem> items) =>
        items.Count == 0 ? "The cart is empty."
        : items.Count > MaxLines ? $"A checkout holds at most {MaxLines} lines."
        : items.Any(i => i.Quantity is <= 0 or > MaxQuantity) ? $"Each quantity must be between 1 and {MaxQuantity}."
        : items.Select(i => i.ProductId).Distinct(StringComparer.Ordinal).Count() != items.Count ? "Each product may appear once."
        : null;
}
