using Microsoft.Extensions.DependencyInjection;
using Vetrina.Grains.Payments;

namespace Vetrina.Tests.Commerce;

/// <summary>A cart checks out at the prices it showed, and a replayed key never touches the cart again.</summary>
[Collection(SharedServer.Name)]
public sealed class CartCheckoutTests(ServerFixture fixture)
{
    private readonly VetrinaClient _api = fixture.Api;

    [Fact]
    public async Task Checkout_answers_409_and_sells_nothing_when_a_price_changed_since_the_cart_was_filled()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 5);
        var shopper = "repriced-" + Guid.NewGuid().ToString("N");
        await _api.PutInCartAsync(shopper, product, 1);
        (await _api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { priceMinor = 1500 }, brand.Key)).Expect(HttpStatusCode.OK);

        var refused = await _api.CheckoutAsync(shopper);

        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.True(refused.IsProblem, refused.Raw);
        Assert.Equal(5, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        // Putting the line in again takes the new price, which checkout then charges.
        await _api.PutInCartAsync(shopper, product, 1);
        var paid = (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);
        Assert.Equal(1500, paid.Body.GetProperty("orders")[0].GetProperty("totalMinor").GetInt64());
    }

    [Fact]
    public async Task Replaying_a_checkout_or_buy_key_answers_the_first_outcome_and_leaves_the_new_cart_alone()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 50);
        var code = await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product);
        var shopper = "replayer-" + Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(0, 21).Select(i => $"cart-key-{i}").ToArray();
        var first = new List<Reply>();
        foreach (var key in keys)
        {
            await _api.PutInCartAsync(shopper, product, 1);
            first.Add((await _api.CheckoutAsync(shopper, key)).Expect(HttpStatusCode.Created));
        }
        var bought = (await _api.BuyAsync(code, shopper, 1, idempotencyKey: "buy-key")).Expect(HttpStatusCode.Created);

        // A new cart, then every earlier key again: on the cart route and (for the buy's key) on the other route too.
        await _api.PutInCartAsync(shopper, product, 3);
        for (var i = 0; i < keys.Length; i++)
        {
            var again = (await _api.CheckoutAsync(shopper, keys[i])).Expect(HttpStatusCode.Created);
            Assert.Equal(first[i].Str("checkoutId"), again.Str("checkoutId"));
        }
        var buyAgainAsCheckout = (await _api.CheckoutAsync(shopper, "buy-key")).Expect(HttpStatusCode.Created);
        Assert.Equal(bought.Str("orderId"), buyAgainAsCheckout.Body.GetProperty("orders")[0].GetProperty("orderId").GetString());

        var cart = (await _api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK).Body;
        Assert.Equal(3, Assert.Single(cart.GetProperty("lines").EnumerateArray()).GetProperty("quantity").GetInt32());
        Assert.Equal(50 - 21 - 1, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task A_line_added_while_the_checkout_waits_for_its_payment_stays_in_the_cart()
    {
        var gateway = new TestPaymentGateway(held: true);
        await using var server = await VetrinaServer.StartAsync(services: services => services.AddSingleton<IPaymentGateway>(gateway));
        var api = server.Api;
        var brand = await api.CreateBrandAsync();
        var bought = await api.CreateProductAsync(brand, priceMinor: 1000, stock: 5);
        var later = await api.CreateProductAsync(brand, priceMinor: 700, stock: 5);
        var shopper = "slow-payer-" + Guid.NewGuid().ToString("N");
        await api.PutInCartAsync(shopper, bought, 2);

        var checkout = api.CheckoutAsync(shopper);
        await Eventually.HoldsAsync(() => Task.FromResult(gateway.Charges), n => n >= 1, because: "the checkout reaches the held payment");
        await api.PutInCartAsync(shopper, later, 1);
        gateway.Release();
        var receipt = (await checkout).Expect(HttpStatusCode.Created);

        Assert.Equal(bought, Assert.Single(receipt.Body.GetProperty("orders")[0].GetProperty("lines").EnumerateArray()).GetProperty("productId").GetString());
        var cart = (await api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK).Body;
        var left = Assert.Single(cart.GetProperty("lines").EnumerateArray());
        Assert.Equal((later, 1), (left.GetProperty("productId").GetString(), left.GetProperty("quantity").GetInt32()));
    }
}
