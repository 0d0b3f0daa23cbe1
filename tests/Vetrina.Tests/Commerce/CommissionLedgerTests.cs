namespace Vetrina.Tests.Commerce;

/// <summary>The ledger equals floor(unitPrice × keptQuantity × bps / 10000) summed over order lines, to the minor unit.</summary>
/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class CommissionLedgerTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task Commission_is_frozen_per_line_and_partial_refunds_reverse_exactly_the_formula()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var mug = await _api.CreateProductAsync(brand, priceMinor: 999, stock: 10);
        var lamp = await _api.CreateProductAsync(brand, priceMinor: 1234, stock: 10, commissionBps: 777);
        var creator = await _api.CreateCreatorAsync();
        var mugLink = await _api.CreateLinkAsync(creator, mug);
        var lampLink = await _api.CreateLinkAsync(creator, lamp);
        var shopper = "ledger-" + Guid.NewGuid();
        await _api.ClickAsync(mugLink, shopper);
        await _api.ClickAsync(lampLink, shopper);
        await _api.PutInCartAsync(shopper, mug, 3);
        await _api.PutInCartAsync(shopper, lamp, 2);

        var receipt = (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);
        // Changing the rate after checkout changes nothing for this order: the rate was frozen.
        (await _api.SendAsync(HttpMethod.Patch, $"/api/products/{mug}", new { commissionBps = 5000 }, brand.Key)).Expect(HttpStatusCode.OK);

        var order = receipt.Body.GetProperty("orders")[0];
        var orderId = order.GetProperty("orderId").GetString()!;
        var mugCommission = 999L * 3 * 1000 / 10000;   // 299
        var lampCommission = 1234L * 2 * 777 / 10000;  // 191
        await Eventually.ProjectedAsync((mugCommission + lampCommission, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));

        (await _api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
        var refunded = (await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = mug, quantity = 1 } } }))
            .Expect(HttpStatusCode.OK);

        var keptMug = 999L * 2 * 1000 / 10000;         // 199
        Assert.Equal("delivered", refunded.Str("status"));
        await Eventually.ProjectedAsync((keptMug + lampCommission, 0L, 0L, mugCommission - keptMug), () => _api.EarningsAsync(creator.Id, "EUR"));
        Assert.Equal(10 - 3 + 1, (await _api.ProductAsync(mug)).GetProperty("available").GetInt32()); // restocked one

        var stats = await Eventually.HoldsAsync(() => _api.GetAsync($"/api/links/{mugLink}/stats"), r => r.Number("units") == 2,
            because: "the sale and the refund reach the link's stats");
        Assert.Equal(keptMug, stats.Number("commissionMinor"));
        Assert.Equal(2 * 999, stats.Number("gmvMinor"));

        var everything = (await _api.PostAsync($"/api/orders/{orderId}/refunds",
            new { lines = new object[] { new { productId = mug, quantity = 2 }, new { productId = lamp, quantity = 2 } }, restock = false })).Expect(HttpStatusCode.OK);
        Assert.Equal("refunded", everything.Str("status"));
        await Eventually.ProjectedAsync((0L, 0L, 0L, mugCommission + lampCommission), () => _api.EarningsAsync(creator.Id, "EUR"));
        Assert.Equal(8, (await _api.ProductAsync(lamp)).GetProperty("available").GetInt32()); // not restocked
    }

    [Fact]
    public async Task Cancelling_returns_stock_and_reverses_commission_and_currencies_stay_apart()
    {
        var euroBrand = await _api.CreateBrandAsync(defaultCommissionBps: 1250);
        var dollarBrand = await _api.CreateBrandAsync(defaultCommissionBps: 333);
        var euroProduct = await _api.CreateProductAsync(euroBrand, priceMinor: 4999, currency: "EUR", stock: 5);
        var dollarProduct = await _api.CreateProductAsync(dollarBrand, priceMinor: 1001, currency: "USD", stock: 5);
        var creator = await _api.CreateCreatorAsync();
        var euroLink = await _api.CreateLinkAsync(creator, euroProduct);
        var dollarLink = await _api.CreateLinkAsync(creator, dollarProduct);

        var euroOrder = (await _api.BuyAsync(euroLink, "multi-1", 2)).Expect(HttpStatusCode.Created);
        var dollarOrder = (await _api.BuyAsync(dollarLink, "multi-2", 3)).Expect(HttpStatusCode.Created);
        var euroCommission = 4999L * 2 * 1250 / 10000;
        var dollarCommission = 1001L * 3 * 333 / 10000;
        await Eventually.ProjectedAsync((euroCommission, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
        await Eventually.ProjectedAsync((dollarCommission, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "USD"));

        var cancelled = (await _api.PostAsync($"/api/orders/{euroOrder.Str("orderId")}/cancel", null)).Expect(HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.Str("status"));
        await Eventually.ProjectedAsync((0L, 0L, 0L, euroCommission), () => _api.EarningsAsync(creator.Id, "EUR"));
        await Eventually.ProjectedAsync((dollarCommission, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "USD"));
        Assert.Equal(5, (await _api.ProductAsync(euroProduct)).GetProperty("available").GetInt32());

        var again = await _api.PostAsync($"/api/orders/{euroOrder.Str("orderId")}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        await Eventually.ProjectedAsync((0L, 0L, 0L, euroCommission), () => _api.EarningsAsync(creator.Id, "EUR"));

        (await _api.PostAsync($"/api/orders/{dollarOrder.Str("orderId")}/ship", null, dollarBrand.Key)).Expect(HttpStatusCode.OK);
        var late = await _api.PostAsync($"/api/orders/{dollarOrder.Str("orderId")}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.True(late.IsProblem);

        var sales = (await _api.GetAsync($"/api/brands/{euroBrand.Id}/sales", euroBrand.Key)).Expect(HttpStatusCode.OK);
        var byCreator = sales.Body.GetProperty("byCreator").EnumerateArray().Single();
        Assert.Equal(0, byCreator.GetProperty("orders").GetInt64());
        Assert.Equal(0, byCreator.GetProperty("commissionMinor").GetInt64());
        var dollarSales = await Eventually.HoldsAsync(() => _api.GetAsync($"/api/brands/{dollarBrand.Id}/sales", dollarBrand.Key),
            r => r.Body.GetProperty("byProduct").GetArrayLength() > 0, because: "the sale is projected into the brand's sales");
        Assert.Equal(3, dollarSales.Body.GetProperty("byProduct")[0].GetProperty("units").GetInt64());
        Assert.Equal(3 * 1001, dollarSales.Body.GetProperty("byProduct")[0].GetProperty("gmvMinor").GetInt64());
        Assert.Equal(dollarCommission, dollarSales.Body.GetProperty("byCreator")[0].GetProperty("commissionMinor").GetInt64());
    }

    [Fact]
    public async Task A_cart_across_two_brands_makes_one_order_per_brand_and_one_payment()
    {
        var first = await _api.CreateBrandAsync();
        var second = await _api.CreateBrandAsync();
        var a = await _api.CreateProductAsync(first, priceMinor: 100, stock: 3);
        var b = await _api.CreateProductAsync(second, priceMinor: 200, stock: 3);
        var shopper = "two-brands-" + Guid.NewGuid();
        await _api.PutInCartAsync(shopper, a, 1);
        await _api.PutInCartAsync(shopper, b, 2);

        var receipt = (await _api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created);

        var orders = receipt.Body.GetProperty("orders").EnumerateArray().ToArray();
        Assert.Equal(2, orders.Length);
        Assert.Equal(new[] { first.Id, second.Id }.Order(StringComparer.Ordinal), orders.Select(o => o.GetProperty("brandId").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(500, orders.Sum(o => o.GetProperty("totalMinor").GetInt64()));
        Assert.Single(orders.Select(o => o.GetProperty("paymentId").GetString()).Distinct());
        Assert.All(orders, o => Assert.False(o.GetProperty("lines")[0].TryGetProperty("creatorId", out _)));
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : CommissionLedgerTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : CommissionLedgerTests(fixture);
}
