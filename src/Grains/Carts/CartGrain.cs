using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;

namespace Vetrina.Grains.Carts;

[GenerateSerializer, Alias("vetrina.cart-line")]
public sealed record CartLine(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int Quantity,
    [property: Id(2)] long UnitPriceMinor,
    [property: Id(3)] string Currency);

[GenerateSerializer, Alias("vetrina.cart-state")]
public sealed class CartState
{
    [Id(0)] public List<CartLine> Lines { get; set; } = [];
}

public sealed class CartGrain(
    [PersistentState("cart", StateStorage.Name)] IPersistentState<CartState> state,
    ClickDesk clicks,
    CommerceClock clock) : Grain, ICartGrain
{
    private CartState S => state.State;
    private string ShopperId => this.GetPrimaryKeyString();

    public Task<CartView> GetAsync() => ViewAsync();

    public async Task<Outcome<CartView>> SetQuantityAsync(string productId, int quantity)
    {
        if (quantity is < 0 or > CheckoutIds.MaxQuantity)
        {
            return Failure.Invalid($"quantity must be between 0 and {CheckoutIds.MaxQuantity}.");
        }
        var index = S.Lines.FindIndex(l => l.ProductId == productId);
        if (quantity == 0)
        {
            if (index >= 0)
            {
                S.Lines.RemoveAt(index);
                await state.SaveAsync(this);
            }
            return Outcome<CartView>.Ok(await ViewAsync());
        }
        var quote = await GrainFactory.GetGrain<IProductGrain>(productId).QuoteAsync();
        if (quote is null)
        {
            return Failure.NotFound($"Product '{productId}'");
        }
        if (quote.Status != ProductStatus.Active)
        {
            return Failure.Conflict($"Product '{productId}' is archived and cannot be bought.");
        }
        if (S.Lines.Any(l => l.ProductId != productId && l.Currency != quote.Currency))
        {
            return Failure.Invalid($"The cart is priced in {S.Lines[0].Currency}; '{productId}' is priced in {quote.Currency}.");
        }
        if (index < 0 && S.Lines.Count >= CheckoutIds.MaxLines)
        {
            return Failure.Invalid($"A cart holds at most {CheckoutIds.MaxLines} lines.");
        }
        var line = new CartLine(productId, quantity, quote.UnitPriceMinor, quote.Currency);
        if (index >= 0)
        {
            S.Lines[index] = line;
        }
        else
        {
            S.Lines.Add(line);
        }
        await state.SaveAsync(this);
        return Outcome<CartView>.Ok(await ViewAsync());
    }

    public async Task<IReadOnlyList<CheckoutItem>> GetCheckoutItemsAsync()
    {
        var clicked = await AttributionAsync();
        return S.Lines.Select(l => new CheckoutItem(l.ProductId, l.Quantity, clicked.GetValueOrDefault(l.ProductId), l.UnitPriceMinor)).ToArray();
    }

    public async Task RemoveBoughtAsync(IReadOnlyList<CheckoutItem> bought)
    {
        var removed = S.Lines.RemoveAll(line => bought.Any(item =>
            item.ProductId == line.ProductId && item.Quantity == line.Quantity && item.ExpectedUnitPriceMinor == line.UnitPriceMinor));
        if (removed > 0)
        {
            await state.SaveAsync(this);
        }
    }

    /// <summary>The shopper's latest clicks on the products in the cart, from the click journal every silo writes.</summary>
    private Task<IReadOnlyDictionary<string, Click>> AttributionAsync() =>
        clicks.AttributionAsync(ShopperId, S.Lines.Select(l => l.ProductId).ToArray());

    private async Task<CartView> ViewAsync()
    {
        var clicked = await AttributionAsync();
        var now = clock.UtcNow;
        var lines = S.Lines.Select(l =>
        {
            var click = clicked.GetValueOrDefault(l.ProductId);
            return click is { IsAd: false } && click.Attributes(ShopperId, now)
                ? new CartLineView(l.ProductId, l.Quantity, l.UnitPriceMinor, click.Code, click.CreatorId)
                : new CartLineView(l.ProductId, l.Quantity, l.UnitPriceMinor, null, null);
        }).ToArray();
        return new CartView(ShopperId, S.Lines.FirstOrDefault()?.Currency, lines, S.Lines.Sum(l => Money.LineTotal(l.UnitPriceMinor, l.Quantity)));
    }
}
