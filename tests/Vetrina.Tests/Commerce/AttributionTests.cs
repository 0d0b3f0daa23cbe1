using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>Tests that move business time; they own their server so that no other test sees the clock jump.</summary>
public sealed class AttributionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", clock: _clock);
        _api = _server.Api;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_last_click_inside_the_window_wins()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 5000);
        var first = await _api.CreateCreatorAsync();
        var second = await _api.CreateCreatorAsync();
        var firstLink = await _api.CreateLinkAsync(first, product);
        var secondLink = await _api.CreateLinkAsync(second, product);
        var shopper = "last-click-" + Guid.NewGuid();

        await _api.ClickAsync(firstLink, shopper);
        _clock.Advance(TimeSpan.FromMinutes(5));
        await _api.ClickAsync(secondLink, shopper);
        await _api.PutInCartAsync(shopper, product, 1);
        var cart = (await _api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK);
        Assert.Equal(secondLink, cart.Body.GetProperty("lines")[0].GetProperty("linkCode").GetString());

        var receipt = (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);

        Assert.Equal(second.Id, receipt.Body.GetProperty("orders")[0].GetProperty("lines")[0].GetProperty("creatorId").GetString());
        await Eventually.ProjectedAsync((500L, 0L, 0L, 0L), () => _api.EarningsAsync(second.Id, "EUR"));
        await Eventually.ProjectedAsync((0L, 0L, 0L, 0L), () => _api.EarningsAsync(first.Id, "EUR"));
    }

    [Fact]
    public async Task A_click_outside_the_attribution_window_pays_nothing()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000, attributionWindowHours: 24);
        var product = await _api.CreateProductAsync(brand);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var shopper = "late-" + Guid.NewGuid();

        var click = (await _api.PostAsync($"/api/links/{code}/clicks", new { shopperId = shopper })).Expect(HttpStatusCode.Created);
        Assert.Equal(_clock.GetUtcNow().AddHours(24), click.Body.GetProperty("attributedUntil").GetDateTimeOffset());
        await _api.PutInCartAsync(shopper, product, 1);
        _clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));

        var receipt = (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);

        var line = receipt.Body.GetProperty("orders")[0].GetProperty("lines")[0];
        Assert.False(line.TryGetProperty("creatorId", out _));
        Assert.Equal(0, line.GetProperty("commissionMinor").GetInt64());
        await Eventually.ProjectedAsync((0L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Fact]
    public async Task A_creator_buying_through_their_own_link_earns_nothing()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 2000);
        var product = await _api.CreateProductAsync(brand);
        var creator = await _api.CreateCreatorAsync(shopperId: "creator-as-shopper");
        var code = await _api.CreateLinkAsync(creator, product);

        var order = (await _api.BuyAsync(code, "creator-as-shopper")).Expect(HttpStatusCode.Created);

        Assert.False(order.Body.GetProperty("lines")[0].TryGetProperty("creatorId", out _));
        await Eventually.ProjectedAsync((0L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
        var stranger = (await _api.BuyAsync(code, "someone-else")).Expect(HttpStatusCode.Created);
        Assert.Equal(creator.Id, stranger.Body.GetProperty("lines")[0].GetProperty("creatorId").GetString());
    }

    [Fact]
    public async Task When_the_return_window_passes_the_order_completes_and_commission_settles_by_itself()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000, returnWindowDays: 14);
        var product = await _api.CreateProductAsync(brand, priceMinor: 3000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var orderId = (await _api.BuyAsync(code, "settle-" + Guid.NewGuid())).Expect(HttpStatusCode.Created).Str("orderId");
        (await _api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);

        _clock.Advance(TimeSpan.FromDays(13));
        await Eventually.ProjectedAsync((300L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        var order = await Eventually.HoldsAsync(() => _api.OrderAsync(orderId), o => o.GetProperty("status").GetString() == "completed",
            because: "the settlement reminder completes the order once the window has passed");
        Assert.True(order.TryGetProperty("completedAt", out _));
        // The order shows its new status from memory as it writes it; its effect on the ledger follows that write.
        await Eventually.HoldsAsync(() => _api.EarningsAsync(creator.Id, "EUR"), e => e == (0L, 300L, 0L, 0L),
            because: "the settlement moves the commission to settled");
        var refund = await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = product, quantity = 1 } } });
        Assert.Equal(HttpStatusCode.Conflict, refund.Status);
    }

    [Fact]
    public async Task A_refund_after_the_return_window_is_refused_and_changes_nothing()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000, returnWindowDays: 3);
        var product = await _api.CreateProductAsync(brand, priceMinor: 1000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var orderId = (await _api.BuyAsync(code, "late-refund-" + Guid.NewGuid())).Expect(HttpStatusCode.Created).Str("orderId");
        (await _api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromDays(3));

        var refund = await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = product, quantity = 1 } } });

        Assert.Equal(HttpStatusCode.Conflict, refund.Status);
        Assert.True(refund.IsProblem);
        var earnings = await _api.EarningsAsync(creator.Id, "EUR");
        Assert.Equal(0, earnings.Reversed);
        Assert.Equal(100, earnings.Pending + earnings.Settled);
    }
}
