using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// A first attempt of a checkout can hold stock and die before it writes <c>Paying</c>; the shopper may then retry
/// with the same Idempotency-Key and a changed cart. Units sold must still match the orders exactly. The holds of
/// the first attempt are placed directly on the product grains, as that attempt would have left them.
/// </summary>
public sealed class CheckoutRetryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;
    private IGrainFactory _grains = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", clock: _clock,
            settings: new Dictionary<string, string> { ["Vetrina:Checkout:HoldSweepInterval"] = "00:00:00.100" });
        _api = _server.Api;
        _grains = _server.Services.GetRequiredService<IGrainFactory>();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(1, 5)]
    [InlineData(5, 2)]
    public async Task A_retry_with_another_quantity_sells_what_its_order_says(int firstAttempt, int retried)
    {
        var product = await _api.CreateProductAsync(await _api.CreateBrandAsync(), stock: 10);
        var (shopper, key) = ("retry-" + Guid.NewGuid(), "key-" + Guid.NewGuid());
        await HoldAsFirstAttemptAsync(shopper, key, product, firstAttempt);

        await _api.PutInCartAsync(shopper, product, retried);
        var receipt = (await _api.CheckoutAsync(shopper, key)).Expect(HttpStatusCode.Created);

        Assert.Equal(retried, receipt.Body.GetProperty("orders")[0].GetProperty("lines")[0].GetProperty("quantity").GetInt32());
        await AssertStockAsync(product, available: 10 - retried, reserved: 0, sold: retried);
    }

    [Fact]
    public async Task A_retry_asking_for_more_than_is_left_is_refused_and_returns_the_first_attempts_hold()
    {
        var product = await _api.CreateProductAsync(await _api.CreateBrandAsync(), stock: 3);
        var (shopper, key) = ("retry-short-" + Guid.NewGuid(), "key-" + Guid.NewGuid());
        await HoldAsFirstAttemptAsync(shopper, key, product, 1);

        await _api.PutInCartAsync(shopper, product, 4);
        var refused = await _api.CheckoutAsync(shopper, key);

        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        await AssertStockAsync(product, available: 3, reserved: 0, sold: 0);
    }

    [Fact]
    public async Task A_hold_of_an_earlier_attempt_on_a_product_no_longer_in_the_cart_is_released_not_sold()
    {
        var brand = await _api.CreateBrandAsync();
        var kept = await _api.CreateProductAsync(brand, stock: 10);
        var dropped = await _api.CreateProductAsync(brand, stock: 10);
        var (shopper, key) = ("retry-dropped-" + Guid.NewGuid(), "key-" + Guid.NewGuid());
        await HoldAsFirstAttemptAsync(shopper, key, kept, 1);
        await HoldAsFirstAttemptAsync(shopper, key, dropped, 2);

        await _api.PutInCartAsync(shopper, kept, 1);
        (await _api.CheckoutAsync(shopper, key)).Expect(HttpStatusCode.Created);
        // Only now, with the checkout completed, do the holds go stale and the sweep ask the checkout about them.
        _clock.Advance(TimeSpan.FromMinutes(5));

        await Eventually.HoldsAsync(() => _api.ProductAsync(dropped), p => p.GetProperty("reserved").GetInt32() == 0,
            because: "the sweep resolves the stale hold of the dropped product");
        await AssertStockAsync(dropped, available: 10, reserved: 0, sold: 0);
        await AssertStockAsync(kept, available: 9, reserved: 0, sold: 1);
    }

    private async Task HoldAsFirstAttemptAsync(string shopper, string key, string productId, int quantity)
    {
        var checkoutId = CheckoutIds.For(shopper, key);
        var hold = await _grains.GetGrain<IProductGrain>(productId).HoldAsync(checkoutId, quantity, _clock.GetUtcNow().AddMinutes(2));
        Assert.True(hold.Succeeded, hold.Failure?.Detail);
    }

    private async Task AssertStockAsync(string productId, int available, int reserved, int sold)
    {
        var view = await _api.ProductAsync(productId);
        Assert.Equal((available, reserved, sold),
            (view.GetProperty("available").GetInt32(), view.GetProperty("reserved").GetInt32(), view.GetProperty("sold").GetInt32()));
    }
}
