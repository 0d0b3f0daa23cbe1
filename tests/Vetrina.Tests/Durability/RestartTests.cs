using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Durability;

/// <summary>The embedded default keeps everything in its SQLite file across a stop and a start.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "vetrina-restart-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task Products_stock_orders_links_and_earnings_survive_a_restart_and_settlement_still_happens()
    {
        Party brand, creator;
        string product, code, deliveredOrder, cartOrder;
        JsonElement productBefore, statsBefore, salesBefore;
        await using (var first = await VetrinaServer.StartAsync("sqlite", _dataDirectory, _clock))
        {
            var api = first.Api;
            brand = await api.CreateBrandAsync(defaultCommissionBps: 1000, returnWindowDays: 7);
            product = await api.CreateProductAsync(brand, priceMinor: 2000, stock: 20);
            creator = await api.CreateCreatorAsync();
            code = await api.CreateLinkAsync(creator, product);
            await api.ClickAsync(code, "restart-cart-shopper");
            deliveredOrder = (await api.BuyAsync(code, "restart-buyer", 3)).Expect(HttpStatusCode.Created).Str("orderId");
            await api.PutInCartAsync("restart-cart-shopper", product, 2);
            cartOrder = (await api.CheckoutAsync("restart-cart-shopper")).Expect(HttpStatusCode.Created)
                .Body.GetProperty("orders")[0].GetProperty("orderId").GetString()!;
            (await api.PostAsync($"/api/orders/{deliveredOrder}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
            (await api.PostAsync($"/api/orders/{deliveredOrder}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
            productBefore = await api.ProductAsync(product);
            // Link clicks are tallied per silo and handed to the link within a flush interval.
            // Sales reach stats, sales and earnings from the journal within a second.
            statsBefore = (await Eventually.HoldsAsync(() => api.GetAsync($"/api/links/{code}/stats"), r => r.Number("clicks") == 2 && r.Number("orders") == 2,
                because: "both clicks and both orders reach the link")).Body;
            await Eventually.ProjectedAsync((1000L, 0L, 0L, 0L), () => api.EarningsAsync(creator.Id, "EUR"));
            salesBefore = (await Eventually.HoldsAsync(() => api.GetAsync($"/api/brands/{brand.Id}/sales", brand.Key),
                r => r.Body.GetProperty("byProduct").EnumerateArray().Sum(p => p.GetProperty("units").GetInt64()) == 5, because: "both orders reach the brand's sales")).Body;
        }

        _clock.Advance(TimeSpan.FromDays(8));
        await using var second = await VetrinaServer.StartAsync("sqlite", _dataDirectory, _clock);
        var again = second.Api;

        Assert.Equal(productBefore.GetRawText(), (await again.ProductAsync(product)).GetRawText());
        Assert.Equal(statsBefore.GetRawText(), (await again.GetAsync($"/api/links/{code}/stats")).Expect(HttpStatusCode.OK).Body.GetRawText());
        Assert.Equal(salesBefore.GetRawText(), (await again.GetAsync($"/api/brands/{brand.Id}/sales", brand.Key)).Expect(HttpStatusCode.OK).Body.GetRawText());
        Assert.Equal("paid", (await again.OrderAsync(cartOrder)).GetProperty("status").GetString());
        Assert.Equal(code, (await again.GetAsync($"/api/links/{code}", key: null)).Expect(HttpStatusCode.OK).Str("code"));

        // The settlement reminder was stored in SQLite: no request is needed for the order to complete.
        await Eventually.HoldsAsync(() => again.OrderAsync(deliveredOrder), o => o.GetProperty("status").GetString() == "completed",
            because: "the reminder registered before the restart fires after it");
        // The order shows its new status from memory as it writes it; its effect on the ledger follows that write.
        await Eventually.HoldsAsync(() => again.EarningsAsync(creator.Id, "EUR"), e => e == (400L, 600L, 0L, 0L),
            because: "the settlement moves the delivered order's commission to settled");

        // Keys are still recognised and the engine keeps selling from the stock it remembered.
        (await again.GetAsync($"/api/creators/{creator.Id}/earnings", creator.Key)).Expect(HttpStatusCode.OK);
        (await again.BuyAsync(code, "after-restart", 5)).Expect(HttpStatusCode.Created);
        Assert.Equal(20 - 3 - 2 - 5, (await again.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
