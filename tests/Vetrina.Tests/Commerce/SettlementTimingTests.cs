namespace Vetrina.Tests.Commerce;

/// <summary>
/// Settlement on time when the hourly settlement check is far away: an order delivered with no return window completes
/// within moments, not at the next check an hour later.
/// </summary>
public sealed class SettlementTimingTests : IAsyncLifetime
{
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory",
        settings: new Dictionary<string, string> { ["Vetrina:Fulfilment:SettlementCheckInterval"] = "01:00:00" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Orders_delivered_with_no_return_window_complete_long_before_the_hourly_check()
    {
        var api = _server.Api;
        var brand = await api.CreateBrandAsync(returnWindowDays: 0);
        var creator = await api.CreateCreatorAsync();
        var code = await api.CreateLinkAsync(creator, await api.CreateProductAsync(brand, stock: 50));
        var orders = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var order = (await api.BuyAsync(code, $"prompt-{i}")).Expect(HttpStatusCode.Created).Str("orderId");
            (await api.PostAsync($"/api/orders/{order}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
            (await api.PostAsync($"/api/orders/{order}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
            orders.Add(order);
        }

        // A deadline well below the hour between checks: every order completes by its own timer, none waits for the check.
        foreach (var order in orders)
        {
            await Eventually.HoldsAsync(() => api.OrderAsync(order), o => o.GetProperty("status").GetString() == "completed",
                because: "an order with no return window completes at delivery", deadline: TimeSpan.FromMinutes(2));
        }
    }
}
