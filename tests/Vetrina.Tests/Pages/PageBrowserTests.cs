using Microsoft.Playwright;

namespace Vetrina.Tests.Pages;

/// <summary>
/// The hosted pages as a person uses them, in Chromium on a phone and on a desktop: the buy page bought once however
/// often its button is pressed and its receipt reloaded; the live viewer page following the pin and a deal from the
/// session's stream and buying at the deal price; the creator console signed in with a key, showing earnings and
/// links, running a live session, signed out; the brand console shipping and delivering an order from its lists.
/// A failure saves a screenshot (see <see cref="Browser"/>); no page may ask for anything outside this machine.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class PageBrowserTests(Browser browser, PageBrowserTests.Site site) : IClassFixture<PageBrowserTests.Site>
{
    private VetrinaClient Api => site.Server.Api;

    [Theory]
    [InlineData(Viewport.Phone)]
    [InlineData(Viewport.Desktop)]
    public async Task A_shopper_buys_on_the_hosted_page_once_however_often_it_presses(Viewport viewport)
    {
        var brand = await Api.CreateBrandAsync();
        var product = (await Api.PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "LAMP-" + Guid.NewGuid().ToString("N")[..8], title = "Desk lamp", priceMinor = 4999, currency = "EUR", stock = 9 }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("productId");
        var code = await Api.CreateLinkAsync(await Api.CreateCreatorAsync(), product);
        var url = new Uri((await Api.PostAsync($"/api/links/{code}/checkout-sessions", new { shopperId = $"browser-{viewport}" })).Expect(HttpStatusCode.Created).Str("url"));

        await browser.VisitAsync(site.Server.Address, viewport, async page =>
        {
            await page.GotoAsync(url.PathAndQuery);
            await page.ShowsAsync("Desk lamp");
            await page.ShowsAsync("49.99 EUR");
            await page.ShowsAsync("9 in stock");
            await page.GetByLabel("Quantity").FillAsync("2");
            var buy = page.GetByRole(AriaRole.Button, new() { Name = "Buy now" });
            // A double tap: the second press finds the button disabled; a reload after the receipt sends nothing again.
            await buy.DblClickAsync();
            await page.ShowsAsync("your order is placed");
            await page.ShowsAsync("99.98 EUR");
            await page.ReloadAsync();
            await page.ShowsAsync("your order is placed");
            await page.GoBackAsync();
            await page.ShowsAsync("Desk lamp");
            await page.GetByRole(AriaRole.Button, new() { Name = "Buy now" }).ClickAsync();
            await page.ShowsAsync("your order is placed");
        });
        Assert.Equal(7, (await Api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Theory]
    [InlineData(Viewport.Phone)]
    [InlineData(Viewport.Desktop)]
    public async Task A_creator_signs_in_sees_its_earnings_and_links_runs_a_live_and_signs_out(Viewport viewport)
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await Api.CreateProductAsync(brand, priceMinor: 4999);
        var creator = await Api.CreateCreatorAsync();
        var code = await Api.CreateLinkAsync(creator, product);
        (await Api.BuyAsync(code, "console-fan", 2)).Expect(HttpStatusCode.Created);
        await Eventually.HoldsAsync(() => Api.EarningsAsync(creator.Id, "EUR"), e => e.Pending == 999, because: "the commission is projected");

        await browser.VisitAsync(site.Server.Address, viewport, async page =>
        {
            await page.GotoAsync("/console/creator");
            await page.ShowsAsync("Sign in");
            await page.GetByLabel("API key").FillAsync("c_nobody.wrong");
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.ShowsAsync("not a creator's or a brand's key");
            await page.GetByLabel("API key").FillAsync(creator.Key);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.ShowsAsync("Hello");
            await page.Locator("[data-testid=balances]").ShowsAsync("9.99 EUR");
            await page.Locator("[data-testid=links]").ShowsAsync(code);
            if (viewport == Viewport.Phone && Environment.GetEnvironmentVariable("VETRINA_README_SCREENSHOT") is { Length: > 0 } readme)
            {
                await page.ScreenshotAsync(new() { Path = readme, FullPage = false });
            }

            await page.GetByLabel("Title of a new session").FillAsync("Lamp night");
            await page.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();
            await page.ShowsAsync("Live session created");
            await page.GetByLabel("Showcase (product ids)").FillAsync(product);
            await page.GetByRole(AriaRole.Button, new() { Name = "Save showcase" }).ClickAsync();
            await page.ShowsAsync("Showcase saved");
            await page.GetByRole(AriaRole.Button, new() { Name = "Go live" }).ClickAsync();
            await page.ShowsAsync("You are live");
            var session = await page.Locator("[data-session]").First.GetAttributeAsync("data-session");
            // A viewer buys in the live: the page's stats follow the session's stream without a reload.
            (await Api.LiveBuyAsync(session!, "live-fan", product, 1)).Expect(HttpStatusCode.Created);
            await page.Locator("[data-testid=live-orders]").ShowsAsync("1");

            await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await page.ShowsAsync("Sign in");
            await page.GotoAsync("/console/creator");
            await page.ShowsAsync("Sign in");
        });
    }

    [Theory]
    [InlineData(Viewport.Phone)]
    [InlineData(Viewport.Desktop)]
    public async Task A_brand_ships_and_delivers_an_order_from_its_lists(Viewport viewport)
    {
        var brand = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand, stock: 5);
        var order = (await Api.BuyAsync(await Api.CreateLinkAsync(await Api.CreateCreatorAsync(), product), "parcel-fan")).Expect(HttpStatusCode.Created).Str("orderId");

        await browser.VisitAsync(site.Server.Address, viewport, async page =>
        {
            await page.GotoAsync("/console");
            await page.GetByLabel("API key").FillAsync(brand.Key);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.Locator("[data-testid=products]").ShowsAsync("A product");
            await page.Locator("[data-testid=to-ship]").ShowsAsync(order);
            await page.GetByRole(AriaRole.Button, new() { Name = $"Mark shipped: {order}", Exact = true }).ClickAsync();
            await page.ShowsAsync("Order marked shipped");
            await page.Locator("[data-testid=to-deliver]").ShowsAsync(order);
            await page.GetByRole(AriaRole.Button, new() { Name = $"Mark delivered: {order}", Exact = true }).ClickAsync();
            await page.Locator("[data-testid=order-status]").ShowsAsync("delivered");
            await page.Locator("[data-testid=to-deliver-count]").ShowsAsync("0");
        });
        Assert.Equal("delivered", (await Api.OrderAsync(order)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(Viewport.Phone)]
    [InlineData(Viewport.Desktop)]
    public async Task A_viewer_watches_the_live_page_follow_the_pin_and_a_deal_then_buys_at_the_deal_price(Viewport viewport)
    {
        var brand = await Api.CreateBrandAsync();
        var lamp = (await Api.PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "LIVE-" + Guid.NewGuid().ToString("N")[..8], title = "Desk lamp", priceMinor = 4999, currency = "EUR", stock = 20 }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("productId");
        var mug = (await Api.PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "LIVE-" + Guid.NewGuid().ToString("N")[..8], title = "Tea mug", priceMinor = 1200, currency = "EUR", stock = 20 }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("productId");
        var creator = await Api.CreateCreatorAsync();
        var session = await Api.CreateLiveAsync(creator, "Friday drop");
        (await Api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await Api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { lamp, mug } }, creator.Key)).Expect(HttpStatusCode.OK);
        (await Api.PostAsync($"/api/lives/{session}/pin", new { productId = mug }, creator.Key)).Expect(HttpStatusCode.OK);
        // A deal of the mug for every session: it prices live buys too, though the session's stream does not tell of it.
        var mugDeal = (await Api.PostAsync($"/api/products/{mug}/flash-deals",
            new { dealPriceMinor = 900, units = 5, perBuyerLimit = 2, durationSeconds = 600 }, brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await Api.PostAsync($"/api/flash-deals/{mugDeal}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        var url = new Uri((await Api.PostAsync($"/api/lives/{session}/checkout-sessions", new { shopperId = $"live-{viewport}" })).Expect(HttpStatusCode.Created).Str("url"));
        var deal = "";

        await browser.VisitAsync(site.Server.Address, viewport, async page =>
        {
            await page.GotoAsync(url.PathAndQuery);
            await page.ShowsAsync("Friday drop");
            await page.Locator("[data-testid=pinned]").ShowsAsync("Tea mug");

            // Without a reload: the creator pins the lamp and the brand starts a deal on it; the page follows the stream.
            (await Api.PostAsync($"/api/lives/{session}/pin", new { productId = lamp }, creator.Key)).Expect(HttpStatusCode.OK);
            await page.Locator("[data-testid=pinned]").ShowsAsync("Desk lamp");
            // Repainted from the stream, the mug keeps its deal for every session.
            var mugCard = page.Locator($"[data-product='{mug}']");
            await mugCard.Locator("[data-testid=price]").ShowsAsync("9.00 EUR");
            await mugCard.Locator("[data-testid=deal]").ShowsAsync("5 of 5 left");
            deal = (await Api.PostAsync($"/api/products/{lamp}/flash-deals",
                new { sessionId = session, dealPriceMinor = 1500, units = 10, perBuyerLimit = 3, durationSeconds = 600 }, brand.Key)).Expect(HttpStatusCode.Created).Str("dealId");
            (await Api.PostAsync($"/api/flash-deals/{deal}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
            var card = page.Locator($"[data-product='{lamp}']");
            await card.Locator("[data-testid=price]").ShowsAsync("15.00 EUR");
            await card.Locator("[data-testid=deal]").ShowsAsync("10 of 10 left");

            await card.Locator("input[name=quantity]").FillAsync("2");
            await card.GetByRole(AriaRole.Button, new() { Name = "Buy" }).ClickAsync();
            await page.ShowsAsync("your order is placed");
            await page.ShowsAsync("30.00 EUR");
        });
        // Two of the deal's units were sold, once.
        Assert.Equal(8, (await Api.GetAsync($"/api/flash-deals/{deal}", null)).Expect(HttpStatusCode.OK).Body.GetProperty("remaining").GetInt32());
    }

    /// <summary>One engine for the class.</summary>
    public sealed class Site : IAsyncLifetime
    {
        private VetrinaServer? _server;

        public VetrinaServer Server => _server ?? throw new InvalidOperationException("Not started.");

        public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync();

        public async Task DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
