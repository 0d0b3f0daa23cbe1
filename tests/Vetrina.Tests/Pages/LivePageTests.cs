using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Pages;

/// <summary>
/// The live viewer page over plain HTTP: who may open a live checkout session, signed and expiring tokens of the right
/// kind only, the pinned product and a running deal's price and units, a buy at the deal price that happens once
/// however often its form is sent, an ended session that sells nothing, and the event stream the page's script
/// listens to carrying the updates. (The browser tests drive the same page as a person would.)
/// </summary>
public sealed partial class LivePageTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task Only_the_platform_opens_a_live_checkout_session_and_not_for_an_ended_session()
    {
        var live = await LiveAsync();
        var path = $"/api/lives/{live.SessionId}/checkout-sessions";
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: null)).Expect(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: "not-a-key")).Expect(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: live.Brand.Key)).Expect(HttpStatusCode.Forbidden);
        // Not even the session's own creator: the page buys for a shopper, which only the platform vouches for.
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: live.Creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, new { }, key: Api.PlatformKey)).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync("/api/lives/l_" + new string('y', 22) + "/checkout-sessions", new { shopperId = "s1" })).Expect(HttpStatusCode.NotFound);

        var opened = (await Api.PostAsync(path, new { shopperId = "s1" })).Expect(HttpStatusCode.Created);
        Assert.Equal(_clock.GetUtcNow().AddMinutes(15), opened.Body.GetProperty("expiresAt").GetDateTimeOffset());
        var url = new Uri(opened.Str("url"));
        Assert.Equal(_server.Address.Authority, url.Authority);
        Assert.StartsWith("/live/", url.AbsolutePath, StringComparison.Ordinal);
        using var visitor = new PageSession(_server.Address);
        (await visitor.GetAsync(url.PathAndQuery)).Expect(HttpStatusCode.OK);

        (await Api.PostAsync($"/api/lives/{live.SessionId}/end", null, live.Creator.Key)).Expect(HttpStatusCode.OK);
        (await Api.PostAsync(path, new { shopperId = "s2" })).Expect(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Tampered_expired_and_other_kinds_of_token_are_refused()
    {
        var live = await LiveAsync();
        var page = await OpenAsync(live.SessionId, "shopper-tokens");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        // Another shopper or session in the same signed payload, or no token at all, opens nothing.
        var token = page["/live/".Length..];
        (await visitor.GetAsync("/live/" + token[..^2] + (token[^2] == 'A' ? "BB" : "AA"))).Expect(HttpStatusCode.NotFound);
        (await visitor.GetAsync("/live/" + token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..])).Expect(HttpStatusCode.NotFound);
        (await visitor.GetAsync("/live/nonsense")).Expect(HttpStatusCode.NotFound);
        (await visitor.GetAsync("/live/" + live.SessionId)).Expect(HttpStatusCode.NotFound);

        // A buy page's token does not open a live page, nor a live page's token a buy page.
        var code = await Api.CreateLinkAsync(live.Creator, live.Lamp);
        var buyPage = new Uri((await Api.PostAsync($"/api/links/{code}/checkout-sessions", new { shopperId = "shopper-tokens" }))
            .Expect(HttpStatusCode.Created).Str("url")).AbsolutePath;
        (await visitor.GetAsync("/live/" + buyPage["/buy/".Length..])).Expect(HttpStatusCode.NotFound);
        (await visitor.GetAsync("/buy/" + token)).Expect(HttpStatusCode.NotFound);
        (await visitor.PostFormAsync("/buy/" + token, shown, ("quantity", "1"))).Expect(HttpStatusCode.NotFound);

        _clock.Advance(TimeSpan.FromMinutes(15));
        Assert.Contains("expired", (await visitor.GetAsync(page)).Expect(HttpStatusCode.Gone).Text, StringComparison.OrdinalIgnoreCase);
        (await visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "1"))).Expect(HttpStatusCode.Gone);
        Assert.Equal(20, (await Api.ProductAsync(live.Lamp)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task The_page_shows_the_pinned_product_and_a_running_deals_price_units_and_countdown()
    {
        var live = await LiveAsync();
        var dealId = await StartDealAsync(live);
        var page = await OpenAsync(live.SessionId, "shopper-sees");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        Assert.Equal("text/html", shown.ContentType);
        Assert.Contains("Friday drop", shown.Text, StringComparison.Ordinal);
        Assert.Contains("with @" + live.Handle, shown.Text, StringComparison.Ordinal);
        Assert.Contains("LIVE", shown.Text, StringComparison.Ordinal);
        Assert.Contains("Pinned now: Desk lamp", shown.Text, StringComparison.Ordinal);
        // The pinned product comes first; the whole showcase is shown.
        var cards = ProductCards().Matches(shown.Html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal([live.Lamp, live.Mug], cards);
        // The deal's price, the product's own struck through, units left and the countdown by the server's clock.
        Assert.Contains("15.00 EUR 49.99 EUR", shown.Text, StringComparison.Ordinal);
        Assert.Contains("Flash deal · 10 of 10 left · up to 3 each · ends in 10:00", shown.Text, StringComparison.Ordinal);
        Assert.Contains("12.00 EUR", shown.Text, StringComparison.Ordinal);
        Assert.Contains("Buying as shopper-sees", shown.Text, StringComparison.Ordinal);

        // Security as on every hosted page; the script may connect to the engine's own event stream and nowhere else.
        var csp = shown.Header("Content-Security-Policy")!;
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", shown.Header("Referrer-Policy"));
        Assert.Equal("no-store", shown.Header("Cache-Control"));
        Assert.Contains($"data-events=\"/api/lives/{live.SessionId}/events\"", shown.Html, StringComparison.Ordinal);
        Assert.Contains("new EventSource(", shown.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", shown.Html, StringComparison.Ordinal);

        // A countdown a minute on reads a minute less.
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Contains("ends in 9:00", (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK).Text, StringComparison.Ordinal);
        Assert.Equal("active", (await Api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Str("status"));
    }

    [Fact]
    public async Task A_buy_through_the_page_at_the_deal_price_happens_once_however_often_the_form_is_sent()
    {
        var live = await LiveAsync();
        var dealId = await StartDealAsync(live);
        var page = await OpenAsync(live.SessionId, "shopper-once");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        // Sent five times at once, and once more later: one order of two at the deal price.
        var sends = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "2"))));
        var again = await visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "2"));
        var receiptPath = Assert.Single(sends.Append(again).Select(s => s.Expect(HttpStatusCode.Redirect).Location!.OriginalString).Distinct());
        Assert.StartsWith(page + "/orders/", receiptPath, StringComparison.Ordinal);
        var receipt = (await visitor.GetAsync(receiptPath)).Expect(HttpStatusCode.OK);
        Assert.Contains("your order is placed", receipt.Text, StringComparison.Ordinal);
        Assert.Contains("30.00 EUR", receipt.Text, StringComparison.Ordinal);
        Assert.Contains($"href=\"{page}\"", receipt.Html, StringComparison.Ordinal);

        var orderId = receiptPath.Split('/')[^1];
        var order = await Api.OrderAsync(orderId);
        var line = Assert.Single(order.GetProperty("lines").EnumerateArray());
        Assert.Equal("shopper-once", order.GetProperty("shopperId").GetString());
        Assert.Equal((live.SessionId, dealId, 1500L, 2), (line.GetProperty("liveSessionId").GetString(), line.GetProperty("dealId").GetString(),
            line.GetProperty("unitPriceMinor").GetInt64(), line.GetProperty("quantity").GetInt32()));
        Assert.Equal(8, (await Api.GetAsync($"/api/flash-deals/{dealId}", key: null)).Number("remaining"));
        // The deal's units were carved from the product's stock: the sale took none of what is left.
        Assert.Equal(10, (await Api.ProductAsync(live.Lamp)).GetProperty("available").GetInt32());

        // Another product of the showcase is another buy, at its own price.
        var mug = (await visitor.PostFormAsync(page, shown, ("productId", live.Mug), ("quantity", "1"))).Expect(HttpStatusCode.Redirect).Location!.OriginalString;
        Assert.NotEqual(receiptPath, mug);
        Assert.Equal(1200, (await Api.OrderAsync(mug.Split('/')[^1])).GetProperty("lines")[0].GetProperty("unitPriceMinor").GetInt64());

        // A receipt is the shopper's own: another shopper's session of the same live cannot read it.
        var stranger = await OpenAsync(live.SessionId, "someone-else");
        (await visitor.GetAsync(stranger + "/orders/" + orderId)).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_deal_for_every_session_shows_and_prices_the_page_and_the_sessions_own_deal_comes_first()
    {
        var live = await LiveAsync();
        // A deal of the mug with no session: it prices a live buy too, so the page shows it.
        var wide = (await Api.PostAsync($"/api/products/{live.Mug}/flash-deals",
            new { dealPriceMinor = 900, units = 5, perBuyerLimit = 2, durationSeconds = 300 }, live.Brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await Api.PostAsync($"/api/flash-deals/{wide}/start", null, live.Brand.Key)).Expect(HttpStatusCode.OK);
        // And one of the lamp for every session, beside the session's own (which a live buy tries first).
        var lampWide = (await Api.PostAsync($"/api/products/{live.Lamp}/flash-deals",
            new { dealPriceMinor = 2000, units = 5, perBuyerLimit = 2, durationSeconds = 300 }, live.Brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await Api.PostAsync($"/api/flash-deals/{lampWide}/start", null, live.Brand.Key)).Expect(HttpStatusCode.OK);
        var own = await StartDealAsync(live);
        var page = await OpenAsync(live.SessionId, "shopper-wide");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        Assert.Contains("9.00 EUR 12.00 EUR", shown.Text, StringComparison.Ordinal);
        Assert.Contains("Flash deal · 5 of 5 left · up to 2 each · ends in 5:00", shown.Text, StringComparison.Ordinal);
        Assert.Contains("15.00 EUR 49.99 EUR", shown.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("20.00 EUR", shown.Text, StringComparison.Ordinal);
        // The page's script gets the deals for every session, which the session's stream does not carry.
        Assert.Contains(wide, shown.Html, StringComparison.Ordinal);
        Assert.Contains("data-product-deals=", shown.Html, StringComparison.Ordinal);

        var receipt = (await visitor.PostFormAsync(page, shown, ("productId", live.Mug), ("quantity", "1"))).Expect(HttpStatusCode.Redirect).Location!.OriginalString;
        var line = (await Api.OrderAsync(receipt.Split('/')[^1])).GetProperty("lines")[0];
        Assert.Equal((wide, 900L), (line.GetProperty("dealId").GetString(), line.GetProperty("unitPriceMinor").GetInt64()));
        var lamp = (await visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "1"))).Expect(HttpStatusCode.Redirect).Location!.OriginalString;
        Assert.Equal(own, (await Api.OrderAsync(lamp.Split('/')[^1])).GetProperty("lines")[0].GetProperty("dealId").GetString());
    }

    [Fact]
    public async Task Forms_without_their_token_products_outside_the_showcase_and_bad_quantities_buy_nothing()
    {
        var live = await LiveAsync();
        var outsider = await Api.CreateProductAsync(live.Brand, priceMinor: 700, stock: 5);
        var page = await OpenAsync(live.SessionId, "shopper-careful");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        (await visitor.PostFormAsync(page, null, ("productId", live.Lamp), ("quantity", "1"))).Expect(HttpStatusCode.BadRequest);
        using (var forger = new PageSession(_server.Address))
        {
            (await forger.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "1"))).Expect(HttpStatusCode.BadRequest);
        }
        foreach (var quantity in new[] { "0", "-1", "abc", "", "99999999999" })
        {
            Assert.Contains("Choose a quantity", (await visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", quantity)))
                .Expect(HttpStatusCode.BadRequest).Text, StringComparison.Ordinal);
        }
        Assert.Contains("Choose a product", (await visitor.PostFormAsync(page, shown, ("productId", "lamp"), ("quantity", "1")))
            .Expect(HttpStatusCode.BadRequest).Text, StringComparison.Ordinal);
        var refused = (await visitor.PostFormAsync(page, shown, ("productId", outsider), ("quantity", "1"))).Expect(HttpStatusCode.Conflict);
        Assert.Contains("showcase", refused.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(20, (await Api.ProductAsync(live.Lamp)).GetProperty("available").GetInt32());
        Assert.Equal(5, (await Api.ProductAsync(outsider)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task An_ended_session_shows_that_it_ended_and_sells_nothing_more()
    {
        var live = await LiveAsync();
        var page = await OpenAsync(live.SessionId, "shopper-late");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);
        var bought = (await visitor.PostFormAsync(page, shown, ("productId", live.Mug), ("quantity", "1"))).Expect(HttpStatusCode.Redirect).Location;

        (await Api.PostAsync($"/api/lives/{live.SessionId}/end", null, live.Creator.Key)).Expect(HttpStatusCode.OK);
        Assert.Contains("has ended", (await visitor.GetAsync(page)).Expect(HttpStatusCode.Gone).Text, StringComparison.Ordinal);
        var late = (await visitor.PostFormAsync(page, shown, ("productId", live.Lamp), ("quantity", "1"))).Expect(HttpStatusCode.Conflict);
        Assert.Contains("nothing was bought", late.Text, StringComparison.Ordinal);
        Assert.Equal(20, (await Api.ProductAsync(live.Lamp)).GetProperty("available").GetInt32());
        // The form that bought before the end, sent again, still answers its one order.
        Assert.Equal(bought, (await visitor.PostFormAsync(page, shown, ("productId", live.Mug), ("quantity", "1"))).Expect(HttpStatusCode.Redirect).Location);
        Assert.Equal(29, (await Api.ProductAsync(live.Mug)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task The_event_stream_the_page_listens_to_carries_pin_deal_viewer_and_session_updates()
    {
        var live = await LiveAsync();
        var page = await OpenAsync(live.SessionId, "shopper-watching");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);
        var events = EventsPath().Match(shown.Html).Groups[1].Value;

        // The page's script opens the stream as any browser does: no key.
        using var stream = await Api.OpenEventsAsync(events);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        var seen = new List<ServerEvent>();
        var opening = await stream.UntilAsync(e => e.Kind == "session", seen);
        Assert.Equal(("live", live.Lamp), (opening.Data.GetProperty("status").GetString(), opening.Data.GetProperty("pinnedProductId").GetString()));
        Assert.Equal([live.Mug, live.Lamp], opening.Data.GetProperty("showcase").EnumerateArray().Select(p => p.GetString()!).ToList());

        (await Api.PostAsync($"/api/lives/{live.SessionId}/pin", new { productId = live.Mug }, live.Creator.Key)).Expect(HttpStatusCode.OK);
        await stream.UntilAsync(e => e.Kind == "pin" && e.Data.GetProperty("pinnedProductId").GetString() == live.Mug, seen);

        (await Api.PostAsync($"/api/lives/{live.SessionId}/viewers", new { shopperId = "shopper-watching" })).Expect(HttpStatusCode.OK);
        await stream.UntilAsync(e => e.Kind == "viewers" && e.Data.GetProperty("viewers").GetInt32() == 1, seen);

        // A deal starts, then a buy through the page takes two of its units: the stream tells both.
        var dealId = await StartDealAsync(live);
        var active = await stream.UntilAsync(e => e.Kind == "deal" && e.Data.GetProperty("dealId").GetString() == dealId
            && e.Data.GetProperty("status").GetString() == "active", seen);
        Assert.Equal((live.Lamp, 1500L, "EUR", 10), (active.Data.GetProperty("productId").GetString(), active.Data.GetProperty("dealPriceMinor").GetInt64(),
            active.Data.GetProperty("currency").GetString(), active.Data.GetProperty("remaining").GetInt32()));
        Assert.Equal(_clock.GetUtcNow().AddMinutes(10), active.Data.GetProperty("endsAt").GetDateTimeOffset());
        var fresh = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);
        (await visitor.PostFormAsync(page, fresh, ("productId", live.Lamp), ("quantity", "2"))).Expect(HttpStatusCode.Redirect);
        await stream.UntilAsync(e => e.Kind == "deal" && e.Data.GetProperty("dealId").GetString() == dealId && e.Data.GetProperty("remaining").GetInt32() == 8, seen);

        (await Api.PostAsync($"/api/lives/{live.SessionId}/end", null, live.Creator.Key)).Expect(HttpStatusCode.OK);
        await stream.UntilAsync(e => e.Kind == "session" && e.Data.GetProperty("status").GetString() == "ended", seen);
        // What the page's script handles, and never the creator's figures.
        Assert.All(seen, e => Assert.Contains(e.Kind, PageEventKinds));
    }

    private static readonly string[] PageEventKinds = ["session", "pin", "deal", "viewers"];

    private sealed record Live(Party Brand, Party Creator, string Handle, string SessionId, string Lamp, string Mug);

    /// <summary>A live session showing a 49.99 EUR lamp (pinned, 20 in stock) and a 12.00 EUR mug (30 in stock).</summary>
    private async Task<Live> LiveAsync()
    {
        var brand = await Api.CreateBrandAsync();
        var lamp = await ProductAsync(brand, "Desk lamp", 4999, 20);
        var mug = await ProductAsync(brand, "Mug", 1200, 30);
        var handle = "host" + Guid.NewGuid().ToString("N")[..6];
        var created = (await Api.PostAsync("/api/creators", new { handle, followers = 1000 })).Expect(HttpStatusCode.Created);
        var creator = new Party(created.Str("creatorId"), created.Str("apiKey"));
        var session = await Api.CreateLiveAsync(creator, "Friday drop");
        (await Api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await Api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { mug, lamp } }, creator.Key)).Expect(HttpStatusCode.OK);
        (await Api.PostAsync($"/api/lives/{session}/pin", new { productId = lamp }, creator.Key)).Expect(HttpStatusCode.OK);
        return new Live(brand, creator, handle, session, lamp, mug);
    }

    private async Task<string> ProductAsync(Party brand, string title, long priceMinor, int stock) =>
        (await Api.PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "LIVE-" + Guid.NewGuid().ToString("N")[..8], title, priceMinor, currency = "EUR", stock }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("productId");

    /// <summary>Starts a ten-minute deal of 10 lamps at 15.00 EUR, at most 3 each, and waits until the session shows it active.</summary>
    private async Task<string> StartDealAsync(Live live)
    {
        var dealId = (await Api.PostAsync($"/api/products/{live.Lamp}/flash-deals",
            new { sessionId = live.SessionId, dealPriceMinor = 1500, units = 10, perBuyerLimit = 3, durationSeconds = 600 }, live.Brand.Key))
            .Expect(HttpStatusCode.Created).Str("dealId");
        (await Api.PostAsync($"/api/flash-deals/{dealId}/start", null, live.Brand.Key)).Expect(HttpStatusCode.OK);
        // The deal tells its session one way: the page shows it once the session has it.
        await Eventually.HoldsAsync(() => Api.GetAsync($"/api/lives/{live.SessionId}", key: null),
            r => r.Body.GetProperty("deals").EnumerateArray().Any(d => d.GetProperty("dealId").GetString() == dealId && d.GetProperty("status").GetString() == "active"),
            because: "the started deal reaches its session");
        return dealId;
    }

    private async Task<string> OpenAsync(string sessionId, string shopperId) =>
        new Uri((await Api.PostAsync($"/api/lives/{sessionId}/checkout-sessions", new { shopperId })).Expect(HttpStatusCode.Created).Str("url")).AbsolutePath;

    [GeneratedRegex("data-product=\"([^\"]+)\"")]
    private static partial Regex ProductCards();

    [GeneratedRegex("data-events=\"([^\"]+)\"")]
    private static partial Regex EventsPath();
}
