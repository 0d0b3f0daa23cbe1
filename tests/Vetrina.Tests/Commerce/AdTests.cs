using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// Brand ads over real HTTP on one silo with a fake clock: the second-price auction and who is never placed, paid
/// clicks racing for a budget (never a minor unit over), repeats within 24 hours free, the daily budget's reset at UTC
/// midnight, ad attribution against links (the latest click wins), the campaign's report, and who may call what.
/// </summary>
public sealed class AdTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock,
        settings: new Dictionary<string, string> { ["Vetrina:Ads:IndexRefresh"] = "00:00:00.100", ["Vetrina:Ads:ProductRefresh"] = "00:00:00.100" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task The_auction_ranks_by_bid_charges_the_next_bid_plus_one_and_never_places_the_ineligible()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var brand = await Api.CreateBrandAsync();
        async Task<(string Product, string Campaign)> CampaignAsync(long bid, string title, int stock = 100, long daily = 100_000)
        {
            var product = (await Api.PostAsync($"/api/brands/{brand.Id}/products",
                new { sku = "AD-" + Guid.NewGuid().ToString("N")[..8], title = $"{title} {tag}", priceMinor = 2500, currency = "EUR", stock }, brand.Key)).Expect(HttpStatusCode.Created).Str("productId");
            var campaign = await CreateCampaignAsync(brand, product, bid, daily);
            return (product, campaign);
        }
        var (_, high) = await CampaignAsync(50, "Red lamp");
        var (_, middle) = await CampaignAsync(40, "Blue lamp");
        var (_, tied) = await CampaignAsync(40, "Green chair");
        var (_, low) = await CampaignAsync(10, "Green lamp");
        var (_, paused) = await CampaignAsync(90, "Paused lamp");
        var (_, broke) = await CampaignAsync(80, "Broke lamp", daily: 80);
        var (_, empty) = await CampaignAsync(70, "Sold-out lamp", stock: 0);
        var (archivedProduct, archived) = await CampaignAsync(60, "Archived lamp");
        (await Api.SendAsync(HttpMethod.Patch, $"/api/campaigns/{paused}", new { status = "paused" }, brand.Key)).Expect(HttpStatusCode.OK);
        (await Api.SendAsync(HttpMethod.Patch, $"/api/products/{archivedProduct}", new { status = "archived" }, brand.Key)).Expect(HttpStatusCode.OK);
        // The broke campaign (bid 80, 80 a day) wins and pays one click at the next bid plus 1 (51), then cannot pay a
        // whole bid any more; the paused, sold-out and archived ones are never placed.
        var brokeAd = (await PlaceUntilAsync("feed", null, 5, ads => ads.Count == 5 && ads[0].Campaign == broke && ads[1].Campaign == high)).Single(a => a.Campaign == broke);
        Assert.Equal(51, (await ClickAsync(brokeAd.AdId, "broke-shopper")).Expect(HttpStatusCode.Created).Body.GetProperty("chargedMinor").GetInt64());

        var mine = new[] { high, middle, tied, low, paused, broke, empty, archived };
        // The two bids of 40 tie: either may come first, and the first of them pays 40 (the next bid, 40, plus 1, at most its bid).
        var placed = await PlaceUntilAsync("feed", null, 5, ads => ads.Count == 4 && ads[0].Campaign == high && ads[3].Campaign == low);
        Assert.Equal(new[] { middle, tied }.Order(StringComparer.Ordinal), placed.Skip(1).Take(2).Select(a => a.Campaign).Order(StringComparer.Ordinal));
        Assert.All(placed, a => Assert.Contains(a.Campaign, mine));
        Assert.Equal([41L, 40L, 11L, 1L], placed.Select(a => a.Cost));

        var search = await PlaceUntilAsync("search", $"lamp {tag}", 5, ads => ads.Count > 0);
        Assert.Equal([high, middle, low], search.Select(a => a.Campaign));
        Assert.Equal([41L, 11L, 1L], search.Select(a => a.Cost));
    }

    [Fact]
    public async Task Two_thousand_shoppers_racing_for_a_budget_of_three_hundred_clicks_spend_it_exactly()
    {
        var brand = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand, priceMinor: 5000, stock: 10_000);
        const long cost = 7;
        var campaign = await CreateCampaignAsync(brand, product, bid: cost, daily: 300 * cost + cost - 1, total: 1_000_000);
        var ad = (await PlaceUntilAsync("feed", null, 5, ads => ads.Any(a => a.Campaign == campaign))).Single(a => a.Campaign == campaign);
        Assert.Equal(1, ad.Cost);

        // A fresh placement with a second campaign right below, so that this one's clicks cost its whole bid.
        var other = await Api.CreateProductAsync(brand, priceMinor: 5000);
        await CreateCampaignAsync(brand, other, bid: cost - 1, daily: 1_000_000);
        ad = (await PlaceUntilAsync("feed", null, 5, ads => ads.Any(a => a.Campaign == campaign && a.Cost == cost))).Single(a => a.Campaign == campaign);

        using var reading = new CancellationTokenSource();
        var reads = Task.Run(async () =>
        {
            var seen = new List<long>();
            while (!reading.IsCancellationRequested)
            {
                seen.Add((await Api.GetAsync($"/api/campaigns/{campaign}", brand.Key)).Expect(HttpStatusCode.OK).Body.GetProperty("spentMinor").GetInt64());
            }
            return seen;
        });
        var replies = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => ClickAsync(ad.AdId, $"racer-{i}")));
        await reading.CancelAsync();
        var seenSpend = await reads;

        var charged = replies.Where(r => r.Status == HttpStatusCode.Created).ToArray();
        Assert.Equal(300, charged.Length);
        Assert.All(charged, r => Assert.Equal(cost, r.Body.GetProperty("chargedMinor").GetInt64()));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        Assert.All(seenSpend, s => Assert.InRange(s, 0, 300 * cost));
        var view = (await Api.GetAsync($"/api/campaigns/{campaign}", brand.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal((300 * cost, 300L), (view.GetProperty("spentMinor").GetInt64(), view.GetProperty("chargedClicks").GetInt64()));
        // A charged shopper clicking again within 24 h pays nothing, even with the budget spent.
        var again = (await ClickAsync(ad.AdId, charged.Length > 0 ? Shopper(replies, charged[0]) : "racer-0")).Expect(HttpStatusCode.Created);
        Assert.Equal(0, again.Body.GetProperty("chargedMinor").GetInt64());
    }

    [Fact]
    public async Task Repeats_are_free_for_24_hours_and_the_daily_budget_resets_at_utc_midnight_but_the_total_does_not()
    {
        var brand = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand, priceMinor: 5000, stock: 1000);
        // Alone in the auction, the campaign pays 1 per click (no bid below): two a day, three in all.
        var campaign = await CreateCampaignAsync(brand, product, bid: 1, daily: 2, total: 3);
        async Task<string> AdAsync() => (await PlaceUntilAsync("feed", null, 5, ads => ads.Any(a => a.Campaign == campaign))).Single(a => a.Campaign == campaign).AdId;

        var ad = await AdAsync();
        Assert.Equal(1, Charged(await ClickAsync(ad, "a")));
        Assert.Equal(0, Charged(await ClickAsync(ad, "a")));
        Assert.Equal(1, Charged(await ClickAsync(ad, "b")));
        (await ClickAsync(ad, "c")).Expect(HttpStatusCode.Conflict);   // today's 2 spent
        Assert.Equal(0, Charged(await ClickAsync(ad, "a")));           // still a repeat

        _clock.Advance(TimeSpan.FromHours(15));                        // 00:00 UTC the next day
        ad = await AdAsync();
        Assert.Equal(1, Charged(await ClickAsync(ad, "c")));
        var view = (await Api.GetAsync($"/api/campaigns/{campaign}", brand.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal((3L, 1L), (view.GetProperty("spentMinor").GetInt64(), view.GetProperty("spentTodayMinor").GetInt64()));
        (await ClickAsync(ad, "d")).Expect(HttpStatusCode.Conflict);   // the total of 3 is spent for good

        _clock.Advance(TimeSpan.FromDays(1));
        await Eventually.HoldsAsync(() => PlaceAsync("feed", null, 5), ads => ads.All(a => a.Campaign != campaign), because: "a campaign that cannot pay is not placed");
    }

    [Fact]
    public async Task The_latest_click_wins_between_links_and_ads_and_ad_lines_pay_no_commission()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 1000, attributionWindowHours: 24);
        var product = await Api.CreateProductAsync(brand, priceMinor: 10_000, stock: 1000);
        var creator = await Api.CreateCreatorAsync();
        var link = await Api.CreateLinkAsync(creator, product);
        var campaign = await CreateCampaignAsync(brand, product, bid: 25, daily: 100_000);   // alone: 1 per click
        var ad = (await PlaceUntilAsync("feed", null, 5, ads => ads.Any(a => a.Campaign == campaign))).Single(a => a.Campaign == campaign).AdId;

        async Task<JsonElement> CartLineAsync(string shopper)
        {
            await Api.PutInCartAsync(shopper, product, 1);
            return (await Api.CheckoutAsync(shopper)).Expect(HttpStatusCode.Created).Body.GetProperty("orders")[0].GetProperty("lines")[0];
        }

        // Ad, then link: the creator's.
        (await ClickAsync(ad, "ad-then-link")).Expect(HttpStatusCode.Created);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await Api.ClickAsync(link, "ad-then-link");
        var line = await CartLineAsync("ad-then-link");
        Assert.Equal(creator.Id, line.GetProperty("creatorId").GetString());
        Assert.False(line.TryGetProperty("campaignId", out _));

        // Link, then ad: the campaign's, no commission.
        await Api.ClickAsync(link, "link-then-ad");
        _clock.Advance(TimeSpan.FromSeconds(1));
        (await ClickAsync(ad, "link-then-ad")).Expect(HttpStatusCode.Created);
        line = await CartLineAsync("link-then-ad");
        Assert.Equal(campaign, line.GetProperty("campaignId").GetString());
        Assert.False(line.TryGetProperty("creatorId", out _));
        Assert.Equal(0, line.GetProperty("commissionMinor").GetInt64());

        // An ad click past its attribution window: direct.
        (await ClickAsync(ad, "too-late")).Expect(HttpStatusCode.Created);
        _clock.Advance(TimeSpan.FromHours(25));
        line = await CartLineAsync("too-late");
        Assert.False(line.TryGetProperty("campaignId", out _));
        Assert.False(line.TryGetProperty("creatorId", out _));

        var report = await Eventually.HoldsAsync(async () => (await Api.GetAsync($"/api/campaigns/{campaign}/report?from=2026-11-01T00:00:00Z", brand.Key)).Expect(HttpStatusCode.OK).Body,
            r => r.GetProperty("orders").GetInt64() == 1 && r.GetProperty("clicks").GetInt64() == 3, because: "the campaign's report catches up");
        Assert.Equal((3L, 3L, 1L, 10_000L), (report.GetProperty("chargedClicks").GetInt64(), report.GetProperty("spentMinor").GetInt64(),
            report.GetProperty("units").GetInt64(), report.GetProperty("gmvMinor").GetInt64()));
        Assert.Equal(10_000.0 / 3, report.GetProperty("roas").GetDouble(), 6);
        var byChannel = (await Api.GetAsync($"/api/brands/{brand.Id}/report", brand.Key)).Expect(HttpStatusCode.OK).Body.GetProperty("byChannel");
        Assert.Contains(byChannel.EnumerateArray(), c => c.GetProperty("channel").GetString() == "ad" && c.GetProperty("orders").GetInt64() == 1);
    }

    [Fact]
    public async Task Campaigns_and_ads_refuse_bad_input_and_other_callers()
    {
        var brand = await Api.CreateBrandAsync();
        var rival = await Api.CreateBrandAsync();
        var creator = await Api.CreateCreatorAsync();
        var product = await Api.CreateProductAsync(brand);
        var dollars = await Api.CreateProductAsync(brand, currency: "USD");
        var rivalProduct = await Api.CreateProductAsync(rival);
        var path = $"/api/brands/{brand.Id}/campaigns";
        object Body(object productId, long bid = 10, long daily = 1000, string currency = "EUR") => new { name = "Winter", productIds = new[] { productId }, bidMinor = bid, currency, dailyBudgetMinor = daily };

        (await Api.PostAsync(path, Body(rivalProduct), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, Body(dollars), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, Body(product, bid: 10, daily: 5), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, Body(product, currency: "XXQ"), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, Body(product, bid: 0), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { name = "x", productIds = new[] { product } }, brand.Key)).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync(path, Body(product), rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, Body(product), creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, Body(product))).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, Body(product), "not-a-key")).Expect(HttpStatusCode.Unauthorized);

        var campaign = (await Api.PostAsync(path, Body(product), brand.Key)).Expect(HttpStatusCode.Created);
        Assert.Equal(("active", 0L, 0L), (campaign.Str("status"), campaign.Body.GetProperty("spentMinor").GetInt64(), campaign.Body.GetProperty("spentTodayMinor").GetInt64()));
        var id = campaign.Str("campaignId");
        (await Api.GetAsync($"/api/campaigns/{id}", rival.Key)).Expect(HttpStatusCode.NotFound);
        (await Api.GetAsync($"/api/campaigns/{id}", creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.GetAsync($"/api/campaigns/{id}")).Expect(HttpStatusCode.OK);
        (await Api.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", new { status = "paused" }, rival.Key)).Expect(HttpStatusCode.NotFound);
        (await Api.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", new { status = "ended" }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.SendAsync(HttpMethod.Patch, $"/api/campaigns/{id}", new { bidMinor = 0 }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.GetAsync($"/api/campaigns/{id}/report", rival.Key)).Expect(HttpStatusCode.NotFound);
        (await Api.GetAsync($"/api/campaigns/{id}/report", creator.Key)).Expect(HttpStatusCode.Forbidden);
        Assert.Equal("active", (await Api.GetAsync($"/api/campaigns/{id}", brand.Key)).Expect(HttpStatusCode.OK).Str("status"));

        (await Api.PostAsync("/api/ads/placements", new { shopperId = "s", slot = "feed" }, brand.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync("/api/ads/placements", new { shopperId = "s", slot = "banner" })).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync("/api/ads/placements", new { shopperId = "s", slot = "search" })).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync("/api/ads/placements", new { shopperId = "s", slot = "feed", count = 6 })).Expect(HttpStatusCode.UnprocessableEntity);
        var ad = (await PlaceUntilAsync("feed", null, 5, ads => ads.Any(a => a.Campaign == id))).Single(a => a.Campaign == id).AdId;
        (await Api.PostAsync($"/api/ads/{ad}/clicks", new { shopperId = "s" }, brand.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync($"/api/ads/{ad[..^2]}xx/clicks", new { shopperId = "s" })).Expect(HttpStatusCode.NotFound);
        (await Api.PostAsync($"/api/ads/{ad}/clicks", new { })).Expect(HttpStatusCode.BadRequest);
        _clock.Advance(TimeSpan.FromHours(2));
        (await Api.PostAsync($"/api/ads/{ad}/clicks", new { shopperId = "s" })).Expect(HttpStatusCode.NotFound);   // expired
        Assert.Equal(0, (await Api.GetAsync($"/api/campaigns/{id}", brand.Key)).Expect(HttpStatusCode.OK).Body.GetProperty("spentMinor").GetInt64());
    }

    private async Task<string> CreateCampaignAsync(Party brand, string productId, long bid, long daily, long? total = null) =>
        (await Api.PostAsync($"/api/brands/{brand.Id}/campaigns",
            new { name = "Campaign " + Guid.NewGuid().ToString("N")[..6], productIds = new[] { productId }, bidMinor = bid, currency = "EUR", dailyBudgetMinor = daily, totalBudgetMinor = total },
            brand.Key)).Expect(HttpStatusCode.Created).Str("campaignId");

    private async Task<List<(string AdId, string Campaign, long Cost)>> PlaceAsync(string slot, string? query, int count) =>
        (await Api.PostAsync("/api/ads/placements", new { shopperId = "viewer", slot, query, count })).Expect(HttpStatusCode.OK).Body.GetProperty("ads").EnumerateArray()
            .Select(a => (a.GetProperty("adId").GetString()!, a.GetProperty("campaignId").GetString()!, a.GetProperty("costPerClickMinor").GetInt64()))
            .ToList();

    /// <summary>Placements come from each silo's index, refreshed every 100 ms here: waits until it shows what the test set up.</summary>
    private Task<List<(string AdId, string Campaign, long Cost)>> PlaceUntilAsync(string slot, string? query, int count, Func<List<(string AdId, string Campaign, long Cost)>, bool> condition) =>
        Eventually.HoldsAsync(() => PlaceAsync(slot, query, count), condition, because: "the placement index is refreshed");

    private Task<Reply> ClickAsync(string adId, string shopperId) => Api.PostAsync($"/api/ads/{adId}/clicks", new { shopperId });

    private static int Charged(Reply reply) => reply.Expect(HttpStatusCode.Created).Body.GetProperty("chargedMinor").GetInt64() > 0 ? 1 : 0;

    private static string Shopper(Reply[] replies, Reply reply) => $"racer-{Array.IndexOf(replies, reply)}";
}
