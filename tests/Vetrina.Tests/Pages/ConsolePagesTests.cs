namespace Vetrina.Tests.Pages;

/// <summary>
/// The creator and brand consoles over plain HTTP: signing in with a key (wrong keys refused, no open redirect), the
/// cookie's flags, each console only for its own kind of key and only showing its owner's things, forms refused without
/// their token, changes made through forms, and signing out.
/// </summary>
public sealed class ConsolePagesTests : IAsyncLifetime
{
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task Signing_in_takes_a_creator_or_brand_key_and_refuses_anything_else()
    {
        var creator = await Api.CreateCreatorAsync();
        var brand = await Api.CreateBrandAsync();
        using var visitor = new PageSession(_server.Address);

        var away = (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.Redirect);
        Assert.Equal("/console/sign-in", away.Location!.AbsolutePath);
        var form = (await visitor.GetAsync("/console/sign-in")).Expect(HttpStatusCode.OK);
        foreach (var wrong in new[] { "not-a-key", Api.PlatformKey, creator.Key + "x", "", brand.Id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAA" })
        {
            var refused = (await visitor.PostFormAsync("/console/sign-in", form, ("key", wrong))).Expect(HttpStatusCode.Unauthorized);
            Assert.Contains("not a creator's or a brand's key", refused.Text, StringComparison.Ordinal);
            (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.Redirect);
        }
        (await visitor.PostFormAsync("/console/sign-in", null, ("key", creator.Key))).Expect(HttpStatusCode.BadRequest);
        (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.Redirect);

        // Signed in: the cookie is HttpOnly and SameSite=Strict, holds no key, and a return address off the console is ignored.
        var signedIn = (await visitor.PostFormAsync("/console/sign-in", form, ("key", creator.Key), ("returnUrl", "//evil.example/console/creator")))
            .Expect(HttpStatusCode.Redirect);
        Assert.Equal("/console/creator", signedIn.Location!.OriginalString);
        var cookie = signedIn.Header("Set-Cookie")!;
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(creator.Key.Split('.')[1], cookie, StringComparison.Ordinal);
        (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.OK);
        // A creator's cookie does not open the brand console.
        (await visitor.GetAsync("/console/brand")).Expect(HttpStatusCode.Redirect);
        // A bearer key never opens a console (the answer is the sign-in page): only its own sign-in does.
        Assert.Contains("API key", (await Api.GetAsync("/console/brand", brand.Key)).Expect(HttpStatusCode.OK).Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_creator_console_shows_its_own_earnings_and_links_and_signs_out()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await Api.CreateProductAsync(brand, priceMinor: 4999, currency: "EUR");
        var creator = await Api.CreateCreatorAsync();
        var rival = await Api.CreateCreatorAsync();
        var code = await Api.CreateLinkAsync(creator, product);
        var rivalCode = await Api.CreateLinkAsync(rival, product);
        (await Api.BuyAsync(code, "console-buyer", 2)).Expect(HttpStatusCode.Created);
        (await Api.BuyAsync(rivalCode, "rival-buyer", 1)).Expect(HttpStatusCode.Created);
        using var visitor = await SignedInAsync(creator.Key);

        var page = await Eventually.HoldsAsync(() => visitor.GetAsync("/console/creator"), p => p.Text.Contains(code, StringComparison.Ordinal),
            because: "the link's figures reach the report");
        Assert.Contains("9.99 EUR", page.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(rivalCode, page.Text, StringComparison.Ordinal);
        Assert.Contains($"/api/links/{code}", page.Html, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"chart\"", page.Html, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", page.Header("Content-Security-Policy")!, StringComparison.Ordinal);

        (await visitor.PostFormAsync("/console/sign-out", null)).Expect(HttpStatusCode.BadRequest);
        (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.OK);
        (await visitor.PostFormAsync("/console/sign-out", page)).Expect(HttpStatusCode.Redirect);
        (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task The_brand_console_changes_stock_and_moves_its_own_orders_only()
    {
        var brand = await Api.CreateBrandAsync();
        var rival = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand, stock: 5);
        var rivalProduct = await Api.CreateProductAsync(rival, stock: 5);
        var creator = await Api.CreateCreatorAsync();
        var order = (await Api.BuyAsync(await Api.CreateLinkAsync(creator, product), "brand-console-buyer")).Expect(HttpStatusCode.Created).Str("orderId");
        var rivalOrder = (await Api.BuyAsync(await Api.CreateLinkAsync(creator, rivalProduct), "rival-buyer")).Expect(HttpStatusCode.Created).Str("orderId");
        using var visitor = await SignedInAsync(brand.Key);

        var page = (await visitor.GetAsync("/console/brand")).Expect(HttpStatusCode.OK);
        Assert.Contains("A product", page.Text, StringComparison.Ordinal);
        (await visitor.PostFormAsync($"/console/brand/products/{product}/stock", null, ("delta", "10"))).Expect(HttpStatusCode.BadRequest);
        (await visitor.PostFormAsync($"/console/brand/products/{product}/stock", page, ("delta", "ten"))).Expect(HttpStatusCode.BadRequest);
        (await visitor.PostFormAsync($"/console/brand/products/{product}/stock", page, ("delta", "10"))).Expect(HttpStatusCode.Redirect);
        Assert.Equal(14, (await Api.ProductAsync(product)).GetProperty("available").GetInt32());
        (await visitor.PostFormAsync($"/console/brand/products/{rivalProduct}/stock", page, ("delta", "10"))).Expect(HttpStatusCode.Forbidden);
        Assert.Equal(4, (await Api.ProductAsync(rivalProduct)).GetProperty("available").GetInt32());

        var found = (await visitor.GetAsync($"/console/brand?orderId={order}")).Expect(HttpStatusCode.OK);
        Assert.Contains(order, found.Text, StringComparison.Ordinal);
        var early = (await visitor.PostFormAsync($"/console/brand/orders/{order}/deliver", found)).Expect(HttpStatusCode.Conflict);
        Assert.Equal("paid", (await Api.OrderAsync(order)).GetProperty("status").GetString());
        Assert.Contains("paid", early.Text, StringComparison.Ordinal);
        (await visitor.PostFormAsync($"/console/brand/orders/{order}/ship", found)).Expect(HttpStatusCode.Redirect);
        (await visitor.PostFormAsync($"/console/brand/orders/{order}/deliver", found)).Expect(HttpStatusCode.Redirect);
        Assert.Equal("delivered", (await Api.OrderAsync(order)).GetProperty("status").GetString());

        var hidden = (await visitor.GetAsync($"/console/brand?orderId={rivalOrder}")).Expect(HttpStatusCode.NotFound);
        Assert.DoesNotContain("brand-console-buyer", hidden.Text, StringComparison.Ordinal);
        (await visitor.PostFormAsync($"/console/brand/orders/{rivalOrder}/ship", found)).Expect(HttpStatusCode.NotFound);
        Assert.Equal("paid", (await Api.OrderAsync(rivalOrder)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_brand_console_lists_its_orders_to_ship_and_to_deliver_oldest_first_and_moves_them()
    {
        var brand = await Api.CreateBrandAsync();
        var rival = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand, stock: 10);
        var rivalProduct = await Api.CreateProductAsync(rival, stock: 10);
        var creator = await Api.CreateCreatorAsync();
        var link = await Api.CreateLinkAsync(creator, product);
        var orders = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            orders.Add((await Api.BuyAsync(link, $"queue-buyer-{i}")).Expect(HttpStatusCode.Created).Str("orderId"));
        }
        var rivalOrder = (await Api.BuyAsync(await Api.CreateLinkAsync(creator, rivalProduct), "rival-queue-buyer")).Expect(HttpStatusCode.Created).Str("orderId");
        using var visitor = await SignedInAsync(brand.Key);

        // An answered buy is journalled, so listed to ship at once: oldest first, the rival's never.
        var page = (await visitor.GetAsync("/console/brand")).Expect(HttpStatusCode.OK);
        Assert.Equal(orders, Listed(page, "to-ship"));
        Assert.Equal("3", page.TestId("to-ship-count"));
        Assert.DoesNotContain(rivalOrder, page.Text, StringComparison.Ordinal);

        // Shipping the oldest from the list moves it to the deliveries; cancelling one through the API takes it off.
        (await visitor.PostFormAsync($"/console/brand/orders/{orders[0]}/ship", page)).Expect(HttpStatusCode.Redirect);
        (await Api.PostAsync($"/api/orders/{orders[2]}/cancel", null)).Expect(HttpStatusCode.OK);
        // Each change's stage is written before the change answers.
        page = (await visitor.GetAsync("/console/brand")).Expect(HttpStatusCode.OK);
        Assert.Equal([orders[1]], Listed(page, "to-ship"));
        Assert.Equal([orders[0]], Listed(page, "to-deliver"));
        Assert.Equal("1", page.TestId("to-deliver-count"));

        (await visitor.PostFormAsync($"/console/brand/orders/{orders[0]}/deliver", page)).Expect(HttpStatusCode.Redirect);
        page = (await visitor.GetAsync("/console/brand")).Expect(HttpStatusCode.OK);
        Assert.Empty(Listed(page, "to-deliver"));
        Assert.Equal("0", page.TestId("to-deliver-count"));
        Assert.Equal("delivered", (await Api.OrderAsync(orders[0])).GetProperty("status").GetString());
    }

    /// <summary>The order ids of a console list, in the order shown.</summary>
    private static List<string> Listed(PageAnswer page, string testId) =>
        page.Table(testId) is { } table
            ? System.Text.RegularExpressions.Regex.Matches(table, "<code>(o_[A-Za-z0-9_]+)</code>").Select(m => m.Groups[1].Value).ToList()
            : [];

    [Fact]
    public async Task The_creator_runs_a_live_session_from_the_console_and_follows_its_stats()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await Api.CreateProductAsync(brand, priceMinor: 3000);
        var creator = await Api.CreateCreatorAsync();
        var rival = await Api.CreateCreatorAsync();
        var rivalSession = await Api.CreateLiveAsync(rival);
        using var visitor = await SignedInAsync(creator.Key);
        var page = (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.OK);

        (await visitor.PostFormAsync("/console/creator/lives", null, ("title", "Lamp night"))).Expect(HttpStatusCode.BadRequest);
        (await visitor.PostFormAsync("/console/creator/lives", page, ("title", " "))).Expect(HttpStatusCode.BadRequest);
        (await visitor.PostFormAsync("/console/creator/lives", page, ("title", "Lamp night"))).Expect(HttpStatusCode.Redirect);
        page = (await visitor.GetAsync("/console/creator")).Expect(HttpStatusCode.OK);
        var sessionId = System.Text.RegularExpressions.Regex.Match(page.Html, "data-session=\"(l[^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(sessionId);
        Assert.Contains("Lamp night", page.Text, StringComparison.Ordinal);

        (await visitor.PostFormAsync($"/console/creator/lives/{sessionId}/showcase", page, ("productIds", "nonsense"))).Expect(HttpStatusCode.BadRequest);
        (await visitor.PostFormAsync($"/console/creator/lives/{sessionId}/showcase", page, ("productIds", product))).Expect(HttpStatusCode.Redirect);
        (await visitor.PostFormAsync($"/console/creator/lives/{sessionId}/start", page)).Expect(HttpStatusCode.Redirect);
        (await visitor.PostFormAsync($"/console/creator/lives/{sessionId}/pin", page, ("productId", product))).Expect(HttpStatusCode.Redirect);
        var live = (await Api.GetAsync($"/api/lives/{sessionId}", null)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal(("live", product), (live.GetProperty("status").GetString(), live.GetProperty("pinnedProductId").GetString()));
        // Another creator's session is not this console's to run.
        (await visitor.PostFormAsync($"/console/creator/lives/{rivalSession}/start", page)).Expect(HttpStatusCode.Forbidden);
        Assert.Equal("scheduled", (await Api.GetAsync($"/api/lives/{rivalSession}", null)).Expect(HttpStatusCode.OK).Body.GetProperty("status").GetString());

        (await Api.LiveBuyAsync(sessionId, "live-viewer", product, 2)).Expect(HttpStatusCode.Created);
        // The page's script follows the session's stats: the stream gives them to the signed-in creator's cookie.
        var stats = await visitor.ReadStreamUntilAsync($"/api/lives/{sessionId}/events", line => line.StartsWith("data:", StringComparison.Ordinal)
            && line.Contains("\"orders\":1", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Contains("\"gmvMinor\":6000", stats, StringComparison.Ordinal);
        await Eventually.HoldsAsync(() => visitor.GetAsync("/console/creator"), p => p.Html.Contains("data-testid=\"live-orders\">1<", StringComparison.Ordinal),
            because: "the session's stats catch up");
        (await visitor.PostFormAsync($"/console/creator/lives/{sessionId}/end", page)).Expect(HttpStatusCode.Redirect);
        Assert.Equal("ended", (await Api.GetAsync($"/api/lives/{sessionId}", null)).Expect(HttpStatusCode.OK).Body.GetProperty("status").GetString());
    }

    private async Task<PageSession> SignedInAsync(string key)
    {
        var visitor = new PageSession(_server.Address);
        var form = (await visitor.GetAsync("/console/sign-in")).Expect(HttpStatusCode.OK);
        (await visitor.PostFormAsync("/console/sign-in", form, ("key", key))).Expect(HttpStatusCode.Redirect);
        return visitor;
    }
}
