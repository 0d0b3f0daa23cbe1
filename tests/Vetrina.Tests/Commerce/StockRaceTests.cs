namespace Vetrina.Tests.Commerce;

/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class StockRaceTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task Five_hundred_concurrent_buyers_for_fifty_units_buy_exactly_fifty_and_the_journal_agrees()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 50);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);

        using var start = new SemaphoreSlim(0);
        var buyers = Enumerable.Range(0, 500).Select(async i =>
        {
            await start.WaitAsync();
            return await _api.BuyAsync(code, $"race-shopper-{i}");
        }).ToArray();
        start.Release(buyers.Length);
        var replies = await Task.WhenAll(buyers);

        Assert.Equal(50, replies.Count(r => r.Status == HttpStatusCode.Created));
        var refused = replies.Where(r => r.Status != HttpStatusCode.Created).ToArray();
        Assert.Equal(450, refused.Length);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.True(r.IsProblem, r.Raw);
        });
        var view = await _api.ProductAsync(product);
        Assert.Equal(0, view.GetProperty("available").GetInt32());
        Assert.Equal(50, view.GetProperty("sold").GetInt32());
        Assert.Equal(0, view.GetProperty("reserved").GetInt32());
        await Eventually.ProjectedAsync(50L, async () => (await _api.GetAsync($"/api/links/{code}/stats")).Expect(HttpStatusCode.OK).Number("units"));

        // The database says the same: 50 sold of 50, and a journalled order behind every 201, one unit each.
        var stock = await target.Journal.ReadStockAsync(product);
        Assert.Equal((50, 50), (stock!.Stocked, stock.Sold));
        foreach (var created in replies.Where(r => r.Status == HttpStatusCode.Created))
        {
            var order = await target.Journal.FindOrderAsync(created.Str("orderId"));
            Assert.Equal(product, Assert.Single(order!.Lines).ProductId);
            Assert.Equal(1, order.Lines[0].Quantity);
        }
    }

    [Fact]
    public async Task Concurrent_cart_checkouts_over_two_products_never_sell_a_unit_that_is_not_there()
    {
        var brand = await _api.CreateBrandAsync();
        var scarce = await _api.CreateProductAsync(brand, stock: 7);
        var plenty = await _api.CreateProductAsync(brand, stock: 1000);
        var shoppers = Enumerable.Range(0, 40).Select(i => $"cart-race-{Guid.NewGuid():N}-{i}").ToArray();
        foreach (var shopper in shoppers)
        {
            await _api.PutInCartAsync(shopper, plenty, 2);
            await _api.PutInCartAsync(shopper, scarce, 1);
        }

        var replies = await Task.WhenAll(shoppers.Select(s => _api.CheckoutAsync(s)));

        Assert.Equal(7, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.Equal(33, replies.Count(r => r.Status == HttpStatusCode.Conflict));
        Assert.Equal(0, (await _api.ProductAsync(scarce)).GetProperty("available").GetInt32());
        // Nothing is sold when any line lacks stock: the plentiful product lost only the winners' units.
        Assert.Equal(1000 - 7 * 2, (await _api.ProductAsync(plenty)).GetProperty("available").GetInt32());
        Assert.Equal(0, (await _api.ProductAsync(plenty)).GetProperty("reserved").GetInt32());
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : StockRaceTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : StockRaceTests(fixture);
}
