using Microsoft.Extensions.DependencyInjection;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// Memory stays with what exists: buying creates no grain per checkout or order, and reads of made-up ids leave
/// nothing behind. Counted on a silo of its own, so that no other test's grains are in the count.
/// </summary>
public sealed class ActivationTests : IAsyncLifetime
{
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;
    private IManagementGrain _management = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory");
        _api = _server.Api;
        _management = _server.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_thousand_one_tap_buys_by_new_shoppers_activate_no_grain()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 10_000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        // The first sale wakes what every sale feeds (the product, the creator, the link, the brand's sales).
        (await _api.BuyAsync(code, "warm-up")).Expect(HttpStatusCode.Created);
        await Eventually.HoldsAsync(() => _api.GetAsync($"/api/links/{code}/stats"), r => r.Number("orders") == 1 && r.Number("clicks") == 1,
            because: "the first sale and its click reach the link");
        await Eventually.HoldsAsync(() => _api.EarningsAsync(creator.Id, "EUR"), e => e.Pending > 0, because: "the first sale reaches the creator");
        var before = await _management.GetTotalActivationCount();

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < 1_000; i = Interlocked.Increment(ref next))
            {
                (await _api.BuyAsync(code, $"new-shopper-{i}")).Expect(HttpStatusCode.Created);
            }
        })));

        Assert.Equal(before, await _management.GetTotalActivationCount());
        Assert.Equal(1_001, (await _api.ProductAsync(product)).GetProperty("sold").GetInt32());
    }

    [Fact]
    public async Task A_thousand_clicks_by_new_shoppers_activate_no_grain_and_still_attribute()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        await _api.ClickAsync(code, "warm-up");
        await Eventually.HoldsAsync(() => _api.GetAsync($"/api/links/{code}/stats"), r => r.Number("clicks") == 1,
            because: "the first click's tally reaches the link");
        var before = await _management.GetTotalActivationCount();

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < 1_000; i = Interlocked.Increment(ref next))
            {
                await _api.ClickAsync(code, $"clicking-shopper-{i}");
            }
        })));

        Assert.Equal(before, await _management.GetTotalActivationCount());
        await _api.PutInCartAsync("clicking-shopper-500", product, 1);
        var line = (await _api.GetAsync("/api/carts/clicking-shopper-500")).Expect(HttpStatusCode.OK).Body.GetProperty("lines")[0];
        Assert.Equal(code, line.GetProperty("linkCode").GetString());
    }

    [Fact]
    public async Task Reads_of_made_up_products_links_and_orders_leave_no_activation_behind()
    {
        await _api.CreateBrandAsync();
        var before = await _management.GetTotalActivationCount();

        for (var i = 0; i < 300; i++)
        {
            var id = Guid.NewGuid().ToString("N");
            (await _api.GetAsync($"/api/products/p_{id[..22]}", key: null)).Expect(HttpStatusCode.NotFound);
            (await _api.GetAsync($"/api/orders/o_{id[..22]}")).Expect(HttpStatusCode.NotFound);
            (await _api.GetAsync($"/api/links/{id[..10]}", key: null)).Expect(HttpStatusCode.NotFound);
        }

        await Eventually.HoldsAsync(() => _management.GetTotalActivationCount(), n => n <= before + 5,
            because: "made-up ids deactivate as soon as they are found empty");
    }
}
