namespace Vetrina.Tests.Api;

/// <summary>For every protected route: no key and an unknown key get 401, the key of another tenant is refused.</summary>
/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class IsolationTests(IApiTarget target) : IAsyncLifetime
{
    private readonly VetrinaClient _api = target.Api;
    private World _w = null!;

    private sealed record World(Party BrandA, Party BrandB, Party CreatorA, Party CreatorB, string ProductA, string CodeA, string OrderA, string LiveA, string DealA, string PlanA, string CampaignA);

    public async Task InitializeAsync()
    {
        var brandA = await _api.CreateBrandAsync();
        var brandB = await _api.CreateBrandAsync();
        var creatorA = await _api.CreateCreatorAsync();
        var creatorB = await _api.CreateCreatorAsync();
        var productA = await _api.CreateProductAsync(brandA, stock: 100);
        var codeA = await _api.CreateLinkAsync(creatorA, productA);
        var orderA = (await _api.BuyAsync(codeA, "isolation-shopper")).Expect(HttpStatusCode.Created).Str("orderId");
        var liveA = await _api.CreateLiveAsync(creatorA);
        var dealA = (await _api.PostAsync($"/api/products/{productA}/flash-deals",
            new { dealPriceMinor = 100, units = 5, perBuyerLimit = 1, durationSeconds = 60 }, brandA.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        var planA = (await _api.PostAsync($"/api/brands/{brandA.Id}/collaborations",
            new { kind = "targeted", productIds = new[] { productA }, commissionBps = 1500, creatorIds = new[] { creatorA.Id } }, brandA.Key)).Expect(HttpStatusCode.Created).Str("planId");
        var campaignA = (await _api.PostAsync($"/api/brands/{brandA.Id}/campaigns",
            new { name = "Isolated", productIds = new[] { productA }, bidMinor = 10, currency = "EUR", dailyBudgetMinor = 1000 }, brandA.Key)).Expect(HttpStatusCode.Created).Str("campaignId");
        _w = new World(brandA, brandB, creatorA, creatorB, productA, codeA, orderA, liveA, dealA, planA, campaignA);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Each protected route, the body it takes, and which callers must be turned away.</summary>
    private IEnumerable<(HttpMethod Method, string Path, object? Body, string[] Refused, HttpStatusCode RefusedWith)> Routes()
    {
        var w = _w;
        var brands = new[] { w.BrandB.Key, w.CreatorA.Key };
        yield return (HttpMethod.Post, "/api/brands", new { name = "x", defaultCommissionBps = 1 }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/brands/{w.BrandA.Id}", null, brands, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/brands/{w.BrandA.Id}/products", new { sku = "iso", title = "t", priceMinor = 1, currency = "EUR", stock = 1 }, [.. brands, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/brands/{w.BrandA.Id}/sales", null, [.. brands, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Patch, $"/api/products/{w.ProductA}", new { title = "stolen" }, [w.BrandB.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Patch, $"/api/products/{w.ProductA}", new { title = "stolen" }, [w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/products/{w.ProductA}/stock", new { delta = -1 }, [w.BrandB.Key, w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, "/api/creators", new { handle = "x", followers = 1 }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/creators/{w.CreatorA.Id}/links", new { productId = w.ProductA }, [w.CreatorB.Key, w.BrandA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/creators/{w.CreatorA.Id}/earnings", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/links/{w.CodeA}/clicks", new { shopperId = "s" }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/links/{w.CodeA}/stats", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/links/{w.CodeA}/buy", new { shopperId = "s", quantity = 1 }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        var notTheSessionsCreator = new[] { w.CreatorB.Key, w.BrandA.Key, "platform" };
        yield return (HttpMethod.Post, $"/api/creators/{w.CreatorA.Id}/lives", new { title = "t" }, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/lives/{w.LiveA}/start", null, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/lives/{w.LiveA}/end", null, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Put, $"/api/lives/{w.LiveA}/showcase", new { productIds = new[] { w.ProductA } }, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/lives/{w.LiveA}/pin", new { productId = w.ProductA }, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Delete, $"/api/lives/{w.LiveA}/pin", null, notTheSessionsCreator, HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/lives/{w.LiveA}/viewers", new { shopperId = "s" }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/lives/{w.LiveA}/stats", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/products/{w.ProductA}/flash-deals", new { dealPriceMinor = 100, units = 1, perBuyerLimit = 1, durationSeconds = 60 },
            [w.BrandB.Key, w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/flash-deals/{w.DealA}/start", null, [w.BrandB.Key, w.CreatorB.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/lives/{w.LiveA}/buy", new { shopperId = "s", productId = w.ProductA, quantity = 1 }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Put, $"/api/carts/iso-shopper/items/{w.ProductA}", new { quantity = 1 }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, "/api/carts/iso-shopper", null, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, "/api/carts/iso-shopper/checkout", new { }, [w.CreatorA.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/orders/{w.OrderA}", null, [w.CreatorA.Key], HttpStatusCode.Forbidden);
        // Another brand must not even learn that the order exists.
        yield return (HttpMethod.Get, $"/api/orders/{w.OrderA}", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Post, $"/api/orders/{w.OrderA}/ship", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Post, $"/api/orders/{w.OrderA}/deliver", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Post, $"/api/orders/{w.OrderA}/cancel", null, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/orders/{w.OrderA}/refunds", new { lines = new[] { new { productId = w.ProductA, quantity = 1 } } }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        foreach (var review in new[] { "chargeback", "freeze", "unfreeze" })
        {
            yield return (HttpMethod.Post, $"/api/orders/{w.OrderA}/{review}", new { reason = "stolen" }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        }
        // Creator money: a creator's statement, payouts, report and offers are its own (and the platform's but offers).
        yield return (HttpMethod.Post, "/api/payouts/runs", new { currency = "EUR" }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/creators/{w.CreatorA.Id}/statement?currency=EUR", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/creators/{w.CreatorA.Id}/payouts", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/creators/{w.CreatorA.Id}/report", null, [w.CreatorB.Key, w.BrandA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/creators/{w.CreatorA.Id}/offers", null, [w.CreatorB.Key, w.BrandA.Key, "platform"], HttpStatusCode.Forbidden);
        // A brand's plans and report are its own.
        yield return (HttpMethod.Get, $"/api/brands/{w.BrandA.Id}/report", null, [.. brands, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/brands/{w.BrandA.Id}/collaborations", null, [.. brands, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, $"/api/brands/{w.BrandA.Id}/collaborations", new { kind = "open", productIds = new[] { w.ProductA }, commissionBps = 9000 },
            [.. brands, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Delete, $"/api/collaborations/{w.PlanA}", null, [w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        // Another brand must not learn that the plan exists.
        yield return (HttpMethod.Delete, $"/api/collaborations/{w.PlanA}", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        // A brand's campaigns are its own (another brand does not learn they exist); placements and ad clicks are the platform's.
        yield return (HttpMethod.Post, $"/api/brands/{w.BrandA.Id}/campaigns", new { name = "x", productIds = new[] { w.ProductA }, bidMinor = 1, currency = "EUR", dailyBudgetMinor = 1 },
            [.. brands, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/campaigns/{w.CampaignA}", null, [w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/campaigns/{w.CampaignA}", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Patch, $"/api/campaigns/{w.CampaignA}", new { status = "paused" }, [w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Patch, $"/api/campaigns/{w.CampaignA}", new { status = "paused" }, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Get, $"/api/campaigns/{w.CampaignA}/report", null, [w.CreatorA.Key, "platform"], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Get, $"/api/campaigns/{w.CampaignA}/report", null, [w.BrandB.Key], HttpStatusCode.NotFound);
        yield return (HttpMethod.Post, "/api/ads/placements", new { shopperId = "s", slot = "feed" }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
        yield return (HttpMethod.Post, "/api/ads/ad_x.y/clicks", new { shopperId = "s" }, [w.BrandA.Key, w.CreatorA.Key], HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Every_protected_route_refuses_a_missing_or_unknown_key_with_401()
    {
        var forged = _w.BrandA.Id + ".notTheRealSecretAtAll0000000000000";
        foreach (var (method, path, body, _, _) in Routes())
        {
            foreach (var key in new string?[] { null, "wrong-key", forged })
            {
                var reply = await _api.SendAsync(method, path, body, key, idempotencyKey: "iso-" + Guid.NewGuid());
                Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"{method} {path} with key '{key}' answered {(int)reply.Status}");
                Assert.True(reply.IsProblem, $"{method} {path}: {reply.Raw}");
            }
        }
    }

    [Fact]
    public async Task Every_protected_route_refuses_the_key_of_another_tenant_and_changes_nothing()
    {
        var productBefore = await _api.ProductAsync(_w.ProductA);
        var earningsBefore = await _api.EarningsAsync(_w.CreatorA.Id, "EUR");
        foreach (var (method, path, body, refused, status) in Routes())
        {
            foreach (var key in refused)
            {
                var reply = await _api.SendAsync(method, path, body, key, idempotencyKey: "iso-" + Guid.NewGuid());
                Assert.True(reply.Status == status, $"{method} {path} answered {(int)reply.Status} instead of {(int)status}: {reply.Raw}");
                Assert.True(reply.IsProblem, $"{method} {path}: {reply.Raw}");
            }
        }
        Assert.Equal(productBefore.GetRawText(), (await _api.ProductAsync(_w.ProductA)).GetRawText());
        Assert.Equal(earningsBefore, await _api.EarningsAsync(_w.CreatorA.Id, "EUR"));
        Assert.Equal("paid", (await _api.OrderAsync(_w.OrderA)).GetProperty("status").GetString());
        Assert.Equal("scheduled", (await _api.GetAsync($"/api/lives/{_w.LiveA}", key: null)).Expect(HttpStatusCode.OK).Str("status"));
        Assert.Equal("ready", (await _api.GetAsync($"/api/flash-deals/{_w.DealA}", key: null)).Expect(HttpStatusCode.OK).Str("status"));
        var campaign = (await _api.GetAsync($"/api/campaigns/{_w.CampaignA}", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal(("active", 0L), (campaign.Str("status"), campaign.Body.GetProperty("spentMinor").GetInt64()));
        var plans = (await _api.GetAsync($"/api/brands/{_w.BrandA.Id}/collaborations", _w.BrandA.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal("active", Assert.Single(plans.EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_owner_is_let_through_where_others_are_refused()
    {
        (await _api.GetAsync($"/api/brands/{_w.BrandA.Id}", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/brands/{_w.BrandA.Id}/sales", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/orders/{_w.OrderA}", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/creators/{_w.CreatorA.Id}/earnings", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/links/{_w.CodeA}/stats", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/lives/{_w.LiveA}/stats", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/creators/{_w.CreatorA.Id}/statement?currency=EUR", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/creators/{_w.CreatorA.Id}/payouts", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/creators/{_w.CreatorA.Id}/report", _w.CreatorA.Key)).Expect(HttpStatusCode.OK);
        var offers = (await _api.GetAsync($"/api/creators/{_w.CreatorA.Id}/offers", _w.CreatorA.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal($"plan:{_w.PlanA}", Assert.Single(offers.EnumerateArray()).GetProperty("source").GetString());
        (await _api.GetAsync($"/api/brands/{_w.BrandA.Id}/report", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/campaigns/{_w.CampaignA}", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        (await _api.GetAsync($"/api/campaigns/{_w.CampaignA}/report", _w.BrandA.Key)).Expect(HttpStatusCode.OK);
        var brand = (await _api.GetAsync($"/api/brands/{_w.BrandA.Id}")).Expect(HttpStatusCode.OK);
        Assert.False(brand.Body.TryGetProperty("apiKey", out _));
        Assert.DoesNotContain(_w.BrandA.Key, brand.Raw, StringComparison.Ordinal);
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : IsolationTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : IsolationTests(fixture);
}
