namespace Vetrina.Tests.Commerce;

/// <summary>
/// Clicks are tallied per silo and handed to the link in batches: every click answered is counted once, soon.
/// Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).
/// </summary>
public abstract class ClickTallyTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task A_burst_of_concurrent_clicks_on_one_link_is_counted_exactly_and_attributes_each_shopper()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var run = Guid.NewGuid().ToString("N")[..8];

        using var start = new SemaphoreSlim(0);
        var clicks = Enumerable.Range(0, 300).Select(async i =>
        {
            await start.WaitAsync();
            // Every third shopper clicks twice: clicks count both, unique shoppers count them once.
            await _api.ClickAsync(code, $"tally-{run}-{i}");
            if (i % 3 == 0)
            {
                await _api.ClickAsync(code, $"tally-{run}-{i}");
            }
        }).ToArray();
        start.Release(clicks.Length);
        await Task.WhenAll(clicks);

        var stats = await Eventually.HoldsAsync(() => _api.GetAsync($"/api/links/{code}/stats"), r => r.Number("clicks") >= 400,
            because: "every silo hands its tally to the link within a flush interval");
        Assert.Equal(400, stats.Number("clicks"));
        // A HyperLogLog estimate of 300 random shopper ids: its standard error there is about 1.1% (3.4 shoppers), so
        // ±15 is over four of them; a narrower range failed now and then.
        Assert.InRange(stats.Number("uniqueShoppers"), 285, 315);

        // The clicks were remembered for attribution before they were answered: a cart line of a clicking shopper pays.
        await _api.PutInCartAsync($"tally-{run}-7", product, 1);
        var line = (await _api.GetAsync($"/api/carts/tally-{run}-7")).Expect(HttpStatusCode.OK).Body.GetProperty("lines")[0];
        Assert.Equal(code, line.GetProperty("linkCode").GetString());
    }

    [Fact]
    public async Task A_click_answered_on_one_silo_attributes_the_checkout_on_another()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 2000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var run = Guid.NewGuid().ToString("N")[..8];

        // On the cluster each request goes to the next silo, so the click, the cart line and the checkout of a shopper
        // are answered by different silos: attribution is in the shared click journal, not in one silo's memory.
        var receipts = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var shopper = $"across-{run}-{i}";
            await _api.ClickAsync(code, shopper);
            await _api.PutInCartAsync(shopper, product, 1);
            return (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);
        }));

        Assert.All(receipts, r => Assert.Equal(creator.Id, r.Body.GetProperty("orders")[0].GetProperty("lines")[0].GetProperty("creatorId").GetString()));
        await Eventually.ProjectedAsync((12 * 200L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : ClickTallyTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : ClickTallyTests(fixture);
}
