using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Pages;

/// <summary>
/// The hosted buy page over plain HTTP: who may open a checkout session, the signed and expiring link, the page's
/// security headers, a buy that happens once however often the form is sent, forms without their token refused, and
/// receipts only for the session's own order. (The browser tests drive the same page as a person would.)
/// </summary>
public sealed class BuyPageTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task Only_the_platform_opens_a_checkout_session_and_its_link_expires()
    {
        var (_, code, _) = await SellerAsync();
        var path = $"/api/links/{code}/checkout-sessions";
        var brand = await Api.CreateBrandAsync();
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: null)).Expect(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: "not-a-key")).Expect(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(path, new { shopperId = "s1" }, key: brand.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, new { }, key: Api.PlatformKey)).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync("/api/links/AAAAAAAAAAAA/checkout-sessions", new { shopperId = "s1" })).Expect(HttpStatusCode.NotFound);

        var opened = (await Api.PostAsync(path, new { shopperId = "s1" })).Expect(HttpStatusCode.Created);
        Assert.Equal(_clock.GetUtcNow().AddMinutes(15), opened.Body.GetProperty("expiresAt").GetDateTimeOffset());
        var url = new Uri(opened.Str("url"));
        Assert.Equal(_server.Address.Authority, url.Authority);
        using var visitor = new PageSession(_server.Address);
        (await visitor.GetAsync(url.PathAndQuery)).Expect(HttpStatusCode.OK);

        // Tampered with: another shopper in the same signed payload is refused.
        var token = url.AbsolutePath["/buy/".Length..];
        (await visitor.GetAsync("/buy/" + token[..^2] + (token[^2] == 'A' ? "BB" : "AA"))).Expect(HttpStatusCode.NotFound);
        (await visitor.GetAsync("/buy/nonsense")).Expect(HttpStatusCode.NotFound);

        _clock.Advance(TimeSpan.FromMinutes(15));
        var expired = (await visitor.GetAsync(url.PathAndQuery)).Expect(HttpStatusCode.Gone);
        Assert.Contains("expired", expired.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_page_shows_the_product_and_buys_once_however_often_the_form_is_sent()
    {
        var (productId, code, creator) = await SellerAsync(stock: 7);
        var page = await OpenAsync(code, "shopper-once");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);
        Assert.Equal("text/html", shown.ContentType);
        Assert.Contains("Desk lamp", shown.Text, StringComparison.Ordinal);
        Assert.Contains("49.99 EUR", shown.Text, StringComparison.Ordinal);
        Assert.Contains("7 in stock", shown.Text, StringComparison.Ordinal);
        var csp = shown.Header("Content-Security-Policy")!;
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", shown.Header("Referrer-Policy"));
        Assert.Equal("no-store", shown.Header("Cache-Control"));

        // Sent five times at once, and once more later: one order of two, from the same form.
        var sends = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => visitor.PostFormAsync(page, shown, ("quantity", "2"))));
        var again = await visitor.PostFormAsync(page, shown, ("quantity", "2"));
        var receipts = sends.Append(again).Select(s => s.Expect(HttpStatusCode.Redirect).Location!.OriginalString).Distinct().ToList();
        var receiptPath = Assert.Single(receipts);
        var receipt = (await visitor.GetAsync(receiptPath)).Expect(HttpStatusCode.OK);
        Assert.Contains("your order is placed", receipt.Text, StringComparison.Ordinal);
        Assert.Contains("99.98 EUR", receipt.Text, StringComparison.Ordinal);
        Assert.Equal(5, (await Api.ProductAsync(productId)).GetProperty("available").GetInt32());
        var orderId = receiptPath.Split('/')[^1];
        var order = await Api.OrderAsync(orderId);
        Assert.Equal(("shopper-once", code, creator.Id), (order.GetProperty("shopperId").GetString(), order.GetProperty("lines")[0].GetProperty("linkCode").GetString(),
            order.GetProperty("lines")[0].GetProperty("creatorId").GetString()));

        // A receipt is the shopper's own: another shopper's session of the same link cannot read it.
        var stranger = await OpenAsync(code, "someone-else");
        (await visitor.GetAsync(stranger + "/orders/" + orderId)).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Forms_without_their_token_bad_quantities_and_sold_out_buys_change_nothing()
    {
        var (productId, code, _) = await SellerAsync(stock: 3);
        var page = await OpenAsync(code, "shopper-careful");
        using var visitor = new PageSession(_server.Address);
        var shown = (await visitor.GetAsync(page)).Expect(HttpStatusCode.OK);

        (await visitor.PostFormAsync(page, null, ("quantity", "1"))).Expect(HttpStatusCode.BadRequest);
        using (var forger = new PageSession(_server.Address))
        {
            // A form token without its cookie (another browser's) is refused too.
            (await forger.PostFormAsync(page, shown, ("quantity", "1"))).Expect(HttpStatusCode.BadRequest);
        }
        foreach (var quantity in new[] { "0", "-1", "abc", "", "99999999999" })
        {
            var refused = (await visitor.PostFormAsync(page, shown, ("quantity", quantity))).Expect(HttpStatusCode.BadRequest);
            Assert.Contains("Choose a quantity", refused.Text, StringComparison.Ordinal);
        }
        var tooMany = (await visitor.PostFormAsync(page, shown, ("quantity", "4"))).Expect(HttpStatusCode.Conflict);
        Assert.Contains("stock", tooMany.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, (await Api.ProductAsync(productId)).GetProperty("available").GetInt32());
    }

    private async Task<string> OpenAsync(string code, string shopperId) =>
        new Uri((await Api.PostAsync($"/api/links/{code}/checkout-sessions", new { shopperId })).Expect(HttpStatusCode.Created).Str("url")).AbsolutePath;

    private async Task<(string ProductId, string Code, Party Creator)> SellerAsync(int stock = 100)
    {
        var brand = await Api.CreateBrandAsync();
        var productId = (await Api.PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "LAMP-" + Guid.NewGuid().ToString("N")[..8], title = "Desk lamp", priceMinor = 4999, currency = "EUR", stock }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("productId");
        var creator = await Api.CreateCreatorAsync();
        return (productId, await Api.CreateLinkAsync(creator, productId), creator);
    }
}
