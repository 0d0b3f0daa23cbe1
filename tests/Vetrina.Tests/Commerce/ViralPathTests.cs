namespace Vetrina.Tests.Commerce;

/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class ViralPathTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task A_click_then_a_one_tap_buy_pays_the_creator_the_formula_commission()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1500);
        var product = await _api.CreateProductAsync(brand, priceMinor: 1999, currency: "EUR", stock: 10);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);

        await _api.ClickAsync(code, "shopper-1");
        var order = (await _api.BuyAsync(code, "shopper-1", quantity: 3)).Expect(HttpStatusCode.Created);

        Assert.Equal("paid", order.Str("status"));
        Assert.Equal(3 * 1999, order.Number("totalMinor"));
        var line = order.Body.GetProperty("lines")[0];
        Assert.Equal(code, line.GetProperty("linkCode").GetString());
        Assert.Equal(1999L * 3 * 1500 / 10000, line.GetProperty("commissionMinor").GetInt64());
        await Eventually.ProjectedAsync((1999L * 3 * 1500 / 10000, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
        Assert.Equal(7, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : ViralPathTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : ViralPathTests(fixture);
}
