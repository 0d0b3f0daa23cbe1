using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// Flash deals in live sessions: units carved from the product's stock, sold at the deal price only while active,
/// never more than the deal's units nor more than the limit to one shopper, whatever the concurrency. Runs on one
/// in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).
/// </summary>
public abstract class FlashDealTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task Five_hundred_shoppers_race_for_fifty_units_with_a_limit_of_two_and_nobody_gets_more()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 5000, stock: 250);
        var creator = await _api.CreateCreatorAsync();
        var session = await StartLiveAsync(creator, product);
        var deal = (await _api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = session, dealPriceMinor = 1000, units = 50, perBuyerLimit = 2, durationSeconds = 600 }, brand.Key)).Expect(HttpStatusCode.Created);
        var dealId = deal.Str("dealId");
        Assert.Equal("ready", deal.Str("status"));
        Assert.Equal(200, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        var run = Guid.NewGuid().ToString("N")[..8];

        // 480 shoppers tap once; 20 greedy ones send 6 buys each at once, every one with its own key.
        using var start = new SemaphoreSlim(0);
        var buys = Enumerable.Range(0, 480).Select(i => (Shopper: $"fan-{run}-{i}", Key: $"k-{i}"))
            .Concat(Enumerable.Range(0, 20).SelectMany(g => Enumerable.Range(0, 6).Select(k => (Shopper: $"greedy-{run}-{g}", Key: $"g-{g}-{k}"))))
            .Select(async b =>
            {
                await start.WaitAsync();
                return (b.Shopper, Reply: await _api.LiveBuyAsync(session, b.Shopper, product, idempotencyKey: b.Key));
            }).ToArray();
        start.Release(buys.Length);
        var replies = await Task.WhenAll(buys);

        var sold = replies.Where(r => r.Reply.Status == HttpStatusCode.Created).ToArray();
        Assert.All(replies.Where(r => r.Reply.Status != HttpStatusCode.Created), r => { Assert.Equal(HttpStatusCode.Conflict, r.Reply.Status); Assert.True(r.Reply.IsProblem); });
        Assert.Equal(50, sold.Length);
        Assert.All(sold, r =>
        {
            var line = r.Reply.Body.GetProperty("lines")[0];
            Assert.Equal(1000, line.GetProperty("unitPriceMinor").GetInt64());
            Assert.Equal(dealId, line.GetProperty("dealId").GetString());
        });
        Assert.All(sold.GroupBy(r => r.Shopper), g => Assert.InRange(g.Count(), 1, 2));
        // The product's own stock is untouched: every unit sold came from the deal.
        var after = await _api.ProductAsync(product);
        Assert.Equal(200, after.GetProperty("available").GetInt32());
        var view = (await _api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal((0L, "soldOut"), (view.Number("remaining"), view.Str("status")));
        // Commission on the price paid: floor(1000 × 1000 / 10000) = 100 per unit.
        await Eventually.ProjectedAsync((50 * 100L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Fact]
    public async Task A_key_sent_twice_at_once_buys_once_and_is_never_refused_for_the_limit_it_would_reach_alone()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 100);
        var creator = await _api.CreateCreatorAsync();
        var session = await StartLiveAsync(creator, product);
        var dealId = (await _api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = session, dealPriceMinor = 300, units = 80, perBuyerLimit = 1, durationSeconds = 600 }, brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        var run = Guid.NewGuid().ToString("N")[..8];

        // On the cluster the two sends of a key go to different silos: one window decides the key, the other waits.
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var sends = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => UntilDecidedAsync(() => _api.LiveBuyAsync(session, $"twice-{run}-{i}", product, idempotencyKey: $"twice-{i}"))));
            return sends;
        }));

        Assert.All(shoppers, sends =>
        {
            Assert.All(sends, r => r.Expect(HttpStatusCode.Created));
            Assert.Equal(sends[0].Str("orderId"), sends[1].Str("orderId"));
        });
        Assert.Equal(20, (await _api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Expect(HttpStatusCode.OK).Number("remaining"));
    }

    /// <summary>Sends until the answer is a decision: a 503 (the key is being decided elsewhere) is retried with the same key.</summary>
    private static async Task<Reply> UntilDecidedAsync(Func<Task<Reply>> send)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reply = await send();
            if (reply.Status != HttpStatusCode.ServiceUnavailable || attempt == 50)
            {
                return reply;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    [Fact]
    public async Task Deals_refuse_what_their_rules_forbid_and_change_nothing()
    {
        var brand = await _api.CreateBrandAsync();
        var other = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 10);
        var creator = await _api.CreateCreatorAsync();
        var rival = await _api.CreateCreatorAsync();
        var session = await StartLiveAsync(creator, product);
        object Deal(int units, int limit = 1) => new { sessionId = session, dealPriceMinor = 500, units, perBuyerLimit = limit, durationSeconds = 60 };

        (await _api.PostAsync($"/api/products/{product}/flash-deals", Deal(2), other.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.PostAsync($"/api/products/{product}/flash-deals", Deal(2), creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.PostAsync($"/api/products/{product}/flash-deals", Deal(11), brand.Key)).Expect(HttpStatusCode.Conflict);
        (await _api.PostAsync($"/api/products/{product}/flash-deals", Deal(2, limit: 3), brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await _api.PostAsync($"/api/products/{product}/flash-deals", new { sessionId = "l_" + new string('q', 22), dealPriceMinor = 500, units = 1, perBuyerLimit = 1, durationSeconds = 60 }, brand.Key))
            .Expect(HttpStatusCode.NotFound);
        (await _api.PostAsync($"/api/products/{product}/flash-deals", new { units = 1, perBuyerLimit = 1, durationSeconds = 60 }, brand.Key)).Expect(HttpStatusCode.BadRequest);
        Assert.Equal(10, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());

        var dealId = (await _api.PostAsync($"/api/products/{product}/flash-deals", Deal(4), brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, other.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null)).Expect(HttpStatusCode.Forbidden);
        // Not started: a live buy pays the product's own price from its own stock.
        var regular = (await _api.LiveBuyAsync(session, "before-the-deal-" + Guid.NewGuid().ToString("N")[..6], product)).Expect(HttpStatusCode.Created);
        Assert.Equal(2500, regular.Body.GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());
        Assert.False(regular.Body.GetProperty("lines")[0].TryGetProperty("dealId", out _));
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.Conflict);
        var shopper = "limited-" + Guid.NewGuid().ToString("N")[..6];
        (await _api.LiveBuyAsync(session, shopper, product)).Expect(HttpStatusCode.Created);
        var limited = (await _api.LiveBuyAsync(session, shopper, product)).Expect(HttpStatusCode.Conflict);
        Assert.Contains("deal-limit", limited.Raw, StringComparison.Ordinal);
        (await _api.GetAsync("/api/flash-deals/f_" + new string('w', 22), key: null)).Expect(HttpStatusCode.NotFound);
        Assert.Equal(3, (await _api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Expect(HttpStatusCode.OK).Number("remaining"));
        // The session shows its deal.
        var shown = (await _api.GetAsync($"/api/lives/{session}", key: null)).Expect(HttpStatusCode.OK).Body.GetProperty("deals");
        Assert.Equal(dealId, Assert.Single(shown.EnumerateArray()).GetProperty("dealId").GetString());
    }

    [Fact]
    public async Task The_session_stream_shows_the_deal_start_its_units_falling_and_the_sell_out()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 20);
        var creator = await _api.CreateCreatorAsync();
        var session = await StartLiveAsync(creator, product);
        var dealId = (await _api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = session, dealPriceMinor = 700, units = 6, perBuyerLimit = 3, durationSeconds = 600 }, brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        using var viewer = await _api.OpenEventsAsync($"/api/lives/{session}/events");
        await viewer.UntilAsync(e => e.Kind == "session");

        (await _api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        await viewer.UntilAsync(e => e.Kind == "deal" && e.Data.GetProperty("status").GetString() == "active");
        var run = Guid.NewGuid().ToString("N")[..8];
        foreach (var bought in await Task.WhenAll(Enumerable.Range(0, 3).Select(i => _api.LiveBuyAsync(session, $"deal-stream-{run}-{i}", product, quantity: 2))))
        {
            Assert.Equal(700, bought.Expect(HttpStatusCode.Created).Body.GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());
        }

        var seen = new List<ServerEvent>();
        var soldOut = await viewer.UntilAsync(e => e.Kind == "deal" && e.Data.GetProperty("status").GetString() == "soldOut", seen);
        Assert.Equal(0, soldOut.Data.GetProperty("remaining").GetInt32());
        // Remaining only ever falls on the way there.
        var remaining = seen.Where(e => e.Kind == "deal").Select(e => e.Data.GetProperty("remaining").GetInt32()).ToArray();
        Assert.Equal(remaining.OrderByDescending(r => r), remaining);
    }

    private async Task<string> StartLiveAsync(Party creator, string product)
    {
        var session = await _api.CreateLiveAsync(creator);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        return session;
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : FlashDealTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : FlashDealTests(fixture);
}

/// <summary>A deal's countdown and end move with business time: its own server with a fake clock.</summary>
public sealed class FlashDealClockTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_deal_counts_down_sells_at_its_price_only_while_active_and_gives_its_unsold_units_back_once()
    {
        var api = _server.Api;
        var brand = await api.CreateBrandAsync();
        var product = await api.CreateProductAsync(brand, priceMinor: 4000, stock: 30);
        var creator = await api.CreateCreatorAsync();
        var session = await api.CreateLiveAsync(creator);
        (await api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        var dealId = (await api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = session, dealPriceMinor = 1500, units = 10, perBuyerLimit = 5, countdownSeconds = 10, durationSeconds = 60 }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("dealId");
        (await api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal("counting", (await api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Str("status"));

        // During the countdown the product's own price, from its own stock.
        var early = (await api.LiveBuyAsync(session, "early", product)).Expect(HttpStatusCode.Created);
        Assert.Equal(4000, early.Body.GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("active", (await api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Str("status"));
        var during = (await api.LiveBuyAsync(session, "during", product, quantity: 3)).Expect(HttpStatusCode.Created);
        Assert.Equal(1500, during.Body.GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());
        Assert.Equal(19, (await api.ProductAsync(product)).GetProperty("available").GetInt32());

        // At endsAt the deal ends: no deal price any more, and its 7 unsold units are back on the product, once.
        _clock.Advance(TimeSpan.FromSeconds(60));
        var late = (await api.LiveBuyAsync(session, "late", product)).Expect(HttpStatusCode.Created);
        Assert.Equal(4000, late.Body.GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());
        var ended = (await api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("ended", ended.Str("status"));
        Assert.Equal(30 - 1 - 3 - 1, (await api.ProductAsync(product)).GetProperty("available").GetInt32());
        (await api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal(25, (await api.ProductAsync(product)).GetProperty("available").GetInt32());

        // A deal line cancelled after the end: its units go back to the product too.
        (await api.PostAsync($"/api/orders/{during.Str("orderId")}/cancel", null)).Expect(HttpStatusCode.OK);
        await Eventually.HoldsAsync(() => api.ProductAsync(product), p => p.GetProperty("available").GetInt32() == 28,
            because: "the cancelled deal line's 3 units reach the product");
    }
}
