using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// A creator goes live, shows and pins products, viewers join and buy in a tap: sales are the creator's, carry the
/// session and reach its stats. Runs on one in-memory silo and on a three-silo PostgreSQL cluster (nested classes).
/// </summary>
public abstract class LiveSessionTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task A_live_session_sells_its_showcase_for_its_creator_and_counts_the_sales_in_its_stats()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 5000, stock: 20);
        var run = Guid.NewGuid().ToString("N")[..8];
        var creator = await _api.CreateCreatorAsync(shopperId: $"creator-as-shopper-{run}");
        var created = (await _api.PostAsync($"/api/creators/{creator.Id}/lives", new { title = "Friday drop" }, creator.Key)).Expect(HttpStatusCode.Created);
        var session = created.Str("sessionId");
        Assert.Equal("scheduled", created.Str("status"));

        // Nothing sells before the session is live.
        (await _api.LiveBuyAsync(session, $"early-{run}", product)).Expect(HttpStatusCode.Conflict);

        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/lives/{session}/pin", new { productId = product }, creator.Key)).Expect(HttpStatusCode.OK);
        foreach (var viewer in new[] { "a", "b", "c", "a" })
        {
            (await _api.PostAsync($"/api/lives/{session}/viewers", new { shopperId = $"viewer-{run}-{viewer}" })).Expect(HttpStatusCode.OK);
        }
        var live = (await _api.GetAsync($"/api/lives/{session}", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("live", live.Str("status"));
        Assert.Equal(product, live.Str("pinnedProductId"));
        Assert.Equal(3, live.Number("viewers"));

        var order = (await _api.LiveBuyAsync(session, $"viewer-{run}-a", product, quantity: 2)).Expect(HttpStatusCode.Created);
        var line = order.Body.GetProperty("lines")[0];
        Assert.Equal(session, line.GetProperty("liveSessionId").GetString());
        Assert.Equal(creator.Id, line.GetProperty("creatorId").GetString());
        Assert.Equal(1000, line.GetProperty("commissionMinor").GetInt64());
        // The creator buying in their own session earns nothing (self-referral), but the sale is the session's.
        var own = (await _api.LiveBuyAsync(session, $"creator-as-shopper-{run}", product)).Expect(HttpStatusCode.Created);
        Assert.False(own.Body.GetProperty("lines")[0].TryGetProperty("creatorId", out _));

        var stats = await Eventually.HoldsAsync(() => _api.GetAsync($"/api/lives/{session}/stats", creator.Key), r => r.Number("orders") == 2,
            because: "both live orders reach the session's stats from the journal");
        Assert.Equal((3L, 15000L, 1000L), (stats.Number("units"), stats.Number("gmvMinor"), stats.Number("commissionMinor")));
        Assert.Equal(3, stats.Number("uniqueViewers"));
        Assert.Equal(product, stats.Body.GetProperty("byProduct")[0].GetProperty("productId").GetString());
        await Eventually.ProjectedAsync((1000L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));

        // Cancelling a live order takes it out of the session's stats and the creator's earnings.
        (await _api.PostAsync($"/api/orders/{order.Str("orderId")}/cancel", null)).Expect(HttpStatusCode.OK);
        await Eventually.HoldsAsync(() => _api.GetAsync($"/api/lives/{session}/stats", creator.Key),
            r => r.Number("orders") == 1 && r.Number("units") == 1 && r.Number("commissionMinor") == 0, because: "the cancellation reaches the session");
        await Eventually.ProjectedAsync((0L, 0L, 0L, 1000L), () => _api.EarningsAsync(creator.Id, "EUR"));

        // An ended session sells nothing more, and cannot be changed.
        (await _api.PostAsync($"/api/lives/{session}/end", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.LiveBuyAsync(session, $"late-{run}", product)).Expect(HttpStatusCode.Conflict);
        (await _api.PostAsync($"/api/lives/{session}/pin", new { productId = product }, creator.Key)).Expect(HttpStatusCode.Conflict);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.Conflict);
        // 20 stocked, 3 sold, the cancelled order's 2 back in stock.
        Assert.Equal(19, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task A_storm_of_live_buys_sells_the_last_unit_once_and_every_sale_reaches_the_stats_and_the_ledger_once()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 1999, stock: 150);
        var creator = await _api.CreateCreatorAsync();
        var session = await _api.CreateLiveAsync(creator);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        var run = Guid.NewGuid().ToString("N")[..8];

        using var start = new SemaphoreSlim(0);
        var buys = Enumerable.Range(0, 200).Select(async i =>
        {
            await start.WaitAsync();
            return await _api.LiveBuyAsync(session, $"storm-{run}-{i}", product);
        }).ToArray();
        start.Release(buys.Length);
        var replies = await Task.WhenAll(buys);

        Assert.Equal(150, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.Equal(50, replies.Count(r => r.Status == HttpStatusCode.Conflict && r.IsProblem));
        // floor(1999 × 1000 / 10000) = 199 per unit.
        await Eventually.HoldsAsync(() => _api.GetAsync($"/api/lives/{session}/stats", creator.Key),
            r => r.Number("orders") == 150 && r.Number("units") == 150 && r.Number("gmvMinor") == 150 * 1999L && r.Number("commissionMinor") == 150 * 199L,
            because: "every live sale reaches the session's stats once");
        await Eventually.ProjectedAsync((150 * 199L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
        Assert.Equal(0, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task Live_routes_refuse_what_the_session_does_not_allow_and_change_nothing()
    {
        var brand = await _api.CreateBrandAsync();
        var shown = await _api.CreateProductAsync(brand, stock: 5);
        var other = await _api.CreateProductAsync(brand, stock: 5);
        var creator = await _api.CreateCreatorAsync();
        var rival = await _api.CreateCreatorAsync();
        var session = await _api.CreateLiveAsync(creator);
        var shopper = "refused-" + Guid.NewGuid().ToString("N")[..8];

        (await _api.PostAsync($"/api/lives/{session}/start", null, rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { shown } }, rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { "p_" + new string('x', 22) } }, creator.Key)).Expect(HttpStatusCode.NotFound);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = Enumerable.Repeat(shown, 101).ToArray() }, creator.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { shown } }, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/lives/{session}/pin", new { productId = other }, creator.Key)).Expect(HttpStatusCode.Conflict);
        (await _api.PostAsync($"/api/creators/{creator.Id}/lives", new { title = "" }, creator.Key)).Expect(HttpStatusCode.BadRequest);
        (await _api.GetAsync($"/api/lives/{session}/stats", rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await _api.GetAsync("/api/lives/l_" + new string('y', 22), key: null)).Expect(HttpStatusCode.NotFound);
        (await _api.LiveBuyAsync("l_" + new string('y', 22), shopper, shown)).Expect(HttpStatusCode.NotFound);
        (await _api.LiveBuyAsync(session, shopper, other)).Expect(HttpStatusCode.Conflict);
        (await _api.LiveBuyAsync(session, shopper, shown, quantity: 0)).Expect(HttpStatusCode.UnprocessableEntity);

        Assert.Equal(5, (await _api.ProductAsync(shown)).GetProperty("available").GetInt32());
        Assert.Equal(5, (await _api.ProductAsync(other)).GetProperty("available").GetInt32());
        var view = (await _api.GetAsync($"/api/lives/{session}", key: null)).Expect(HttpStatusCode.OK);
        Assert.False(view.Body.TryGetProperty("pinnedProductId", out _));

        // The same key again, during and after its first request: one order.
        var key = Guid.NewGuid().ToString("N");
        var replies = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _api.LiveBuyAsync(session, shopper, shown, idempotencyKey: key)));
        Assert.Single(replies.Select(r => r.Expect(HttpStatusCode.Created).Str("orderId")).Distinct());
        Assert.Equal(replies[0].Str("orderId"), (await _api.LiveBuyAsync(session, shopper, shown, idempotencyKey: key)).Expect(HttpStatusCode.Created).Str("orderId"));
        Assert.Equal(4, (await _api.ProductAsync(shown)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task The_event_stream_shows_changes_as_they_happen_and_resumes_from_the_last_event_id_without_a_gap()
    {
        var brand = await _api.CreateBrandAsync();
        var first = await _api.CreateProductAsync(brand);
        var second = await _api.CreateProductAsync(brand);
        var creator = await _api.CreateCreatorAsync();
        var session = await _api.CreateLiveAsync(creator);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);

        string lastId;
        using (var viewer = await _api.OpenEventsAsync($"/api/lives/{session}/events"))
        {
            Assert.Equal("text/event-stream", viewer.Response.Content.Headers.ContentType?.MediaType);
            // The stream opens with the session as it is.
            var opening = await viewer.UntilAsync(e => e.Kind == "session");
            Assert.Equal("live", opening.Data.GetProperty("status").GetString());

            (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { first, second } }, creator.Key)).Expect(HttpStatusCode.OK);
            (await _api.PostAsync($"/api/lives/{session}/pin", new { productId = first }, creator.Key)).Expect(HttpStatusCode.OK);
            var pin = await viewer.UntilAsync(e => e.Kind == "pin");
            Assert.Equal(first, pin.Data.GetProperty("pinnedProductId").GetString());
            lastId = pin.Id!;
        }

        // While nobody listens: a new pin, then the session ends.
        (await _api.PostAsync($"/api/lives/{session}/pin", new { productId = second }, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.PostAsync($"/api/lives/{session}/end", null, creator.Key)).Expect(HttpStatusCode.OK);

        using var resumed = await _api.OpenEventsAsync($"/api/lives/{session}/events", lastEventId: lastId);
        var missed = new List<ServerEvent>();
        await resumed.UntilAsync(e => e.Kind == "session" && e.Data.GetProperty("status").GetString() == "ended", missed);
        // Every event after the last one seen, in order, and nothing before it.
        LiveEventIds(lastId, out var epoch, out var sequence);
        Assert.All(missed, e => Assert.StartsWith(epoch + "-", e.Id));
        Assert.Equal(Enumerable.Range(1, missed.Count).Select(i => sequence + i), missed.Select(e => { LiveEventIds(e.Id!, out _, out var s); return s; }));
        Assert.Contains(missed, e => e.Kind == "pin" && e.Data.GetProperty("pinnedProductId").GetString() == second);
    }

    [Fact]
    public async Task Only_the_creator_and_the_platform_get_the_stats_events()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, priceMinor: 3000);
        var creator = await _api.CreateCreatorAsync();
        var session = await _api.CreateLiveAsync(creator);
        (await _api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await _api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        using var anonymous = await _api.OpenEventsAsync($"/api/lives/{session}/events");
        using var own = await _api.OpenEventsAsync($"/api/lives/{session}/events", creator.Key);
        await anonymous.UntilAsync(e => e.Kind == "session");
        await own.UntilAsync(e => e.Kind == "session");

        (await _api.LiveBuyAsync(session, "stats-stream-" + Guid.NewGuid().ToString("N")[..8], product, quantity: 2)).Expect(HttpStatusCode.Created);
        var stats = await own.UntilAsync(e => e.Kind == "stats" && e.Data.GetProperty("orders").GetInt64() == 1);
        Assert.Equal(6000, stats.Data.GetProperty("gmvMinor").GetInt64());

        // The anonymous stream sees the same session changes, never a stats event.
        (await _api.PostAsync($"/api/lives/{session}/end", null, creator.Key)).Expect(HttpStatusCode.OK);
        var seen = new List<ServerEvent>();
        await anonymous.UntilAsync(e => e.Kind == "session" && e.Data.GetProperty("status").GetString() == "ended", seen);
        Assert.DoesNotContain(seen, e => e.Kind == "stats");
        (await _api.GetAsync("/api/lives/l_" + new string('z', 22) + "/events", key: null)).Expect(HttpStatusCode.NotFound);
    }

    private static void LiveEventIds(string id, out string epoch, out long sequence)
    {
        var dash = id.LastIndexOf('-');
        epoch = id[..dash];
        sequence = long.Parse(id[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : LiveSessionTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : LiveSessionTests(fixture);
}

/// <summary>
/// Viewer presence moves with business time, and the silo's count of open streams is read: its own server, so that
/// no other test sees the clock jump or opens streams.
/// </summary>
public sealed class LiveViewerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Streams_that_disconnect_at_any_point_leave_nothing_open_on_the_silo()
    {
        var api = _server.Api;
        var hub = _server.Services.GetRequiredService<Vetrina.Grains.Live.LiveEventHub>();
        var creator = await api.CreateCreatorAsync();
        var session = await api.CreateLiveAsync(creator);
        (await api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);

        // Viewers that leave at once, after the opening event, and while events are being sent.
        var viewers = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var stream = await api.OpenEventsAsync($"/api/lives/{session}/events");
            if (i % 3 == 1)
            {
                await stream.UntilAsync(e => e.Kind == "session");
            }
            if (i % 3 != 2)
            {
                stream.Dispose();
                return null;
            }
            return stream;
        }));
        await Eventually.HoldsAsync(() => Task.FromResult(hub.OpenStreams), n => n == 20, because: "the streams still open are the 20 kept");
        var pins = Task.Run(async () =>
        {
            for (var k = 0; k < 3; k++)
            {
                (await api.SendAsync(HttpMethod.Delete, $"/api/lives/{session}/pin", key: creator.Key)).Expect(HttpStatusCode.OK);
            }
        });
        foreach (var stream in viewers.OfType<EventReader>())
        {
            stream.Dispose();
        }
        await pins;

        await Eventually.HoldsAsync(() => Task.FromResult(hub.OpenStreams), n => n == 0, because: "every stream that disconnected was released");
    }

    [Fact]
    public async Task A_viewer_counts_once_and_stays_present_while_it_joins_again_within_the_presence_window()
    {
        var api = _server.Api;
        var creator = await api.CreateCreatorAsync();
        var session = await api.CreateLiveAsync(creator);
        (await api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);

        for (var i = 0; i < 5; i++)
        {
            (await api.PostAsync($"/api/lives/{session}/viewers", new { shopperId = $"watcher-{i}" })).Expect(HttpStatusCode.OK);
        }
        _clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(5, (await api.PostAsync($"/api/lives/{session}/viewers", new { shopperId = "watcher-0" })).Expect(HttpStatusCode.OK).Number("viewers"));
        _clock.Advance(TimeSpan.FromSeconds(30));

        // Only watcher-0 joined again within the last 60 s; the peak and the unique count stay.
        var stats = (await api.GetAsync($"/api/lives/{session}/stats")).Expect(HttpStatusCode.OK);
        Assert.Equal((1L, 5L, 5L), (stats.Number("viewers"), stats.Number("peakViewers"), stats.Number("uniqueViewers")));
    }
}
