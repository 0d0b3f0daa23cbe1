using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;

namespace Vetrina.Grains.Carts;

[GenerateSerializer, Immutable, Alias("vetrina.cart-line-view")]
public sealed record CartLineView(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string? LinkCode,
    [property: Id(4)] string? CreatorId);

[GenerateSerializer, Immutable, Alias("vetrina.cart-view")]
public sealed record CartView(
    [property: Id(0)] string ShopperId,
    [property: Id(1)] string? Currency,
    [property: Id(2)] IReadOnlyList<CartLineView> Lines,
    [property: Id(3)] long TotalMinor);

/// <summary>A shopper's cart and the clicks that attribute its lines. Keyed by the platform's shopper id.</summary>
[Alias("vetrina.cart")]
public interface ICartGrain : IGrainWithStringKey
{
    [ReadOnly, Alias("get")]
    Task<CartView> GetAsync();

    /// <summary>Sets a line's quantity; 0 removes the line.</summary>
    [Alias("set-quantity")]
    Task<Outcome<CartView>> SetQuantityAsync(string productId, int quantity);

    /// <summary>What checkout would buy: each line at the price the cart shows, with the click that attributes it.</summary>
    [ReadOnly, Alias("checkout-items")]
    Task<IReadOnlyList<CheckoutItem>> GetCheckoutItemsAsync();

    /// <summary>
    /// The cart's checkout was journalled: the lines it bought leave the cart. A line added or changed while the
    /// checkout ran was not bought and stays.
    /// </summary>
    [Alias("remove-bought")]
    Task RemoveBoughtAsync(IReadOnlyList<CheckoutItem> bought);
}
