using Microsoft.Playwright;

namespace Vetrina.Tests.Pages;

/// <summary>
/// The browser set-up against the real engine: the Orleans dashboard (an operator page behind HTTP Basic with the
/// platform key) opens and renders its live figures on a phone and on a desktop, and a failed visit names its screenshot.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class BrowserSmokeTests(Browser browser, BrowserSmokeTests.DashboardServer site) : IClassFixture<BrowserSmokeTests.DashboardServer>
{
    private static readonly HttpCredentials Operator = new() { Username = "operator", Password = VetrinaServer.PlatformKey };

    [Theory]
    [InlineData(Viewport.Phone)]
    [InlineData(Viewport.Desktop)]
    public async Task The_dashboard_renders_its_figures_at_phone_and_desktop_size(Viewport viewport) =>
        await browser.VisitAsync(site.Address, viewport, async page =>
        {
            var answer = await page.GotoAsync("/dashboard/");
            Assert.Equal((int)HttpStatusCode.OK, answer?.Status);

            // Written by the dashboard's script from the counters it fetches with the same credentials.
            await page.ShowsAsync("Total activations");
            await page.Locator(".info-box", new() { HasText = "Active silos" }).Locator(".info-box-number").ShowsAsync("1");
            var width = await page.EvaluateAsync<int>("() => window.innerWidth");
            var touch = await page.EvaluateAsync<bool>("() => navigator.maxTouchPoints > 0");
            var menu = page.GetByRole(AriaRole.Link, new() { Name = "Silos" });
            if (viewport == Viewport.Phone)
            {
                Assert.Equal((390, true), (width, touch));
                // A phone gets the menu behind a button: tap it, as a thumb would.
                await Assertions.Expect(menu).Not.ToBeInViewportAsync();
                await page.GetByRole(AriaRole.Button, new() { Name = "Toggle navigation" }).TapAsync();
            }
            else
            {
                Assert.Equal((1366, false), (width, touch));
            }
            await Assertions.Expect(menu).ToBeInViewportAsync();
        }, Operator);

    [Fact]
    public async Task A_visit_without_credentials_is_refused_the_dashboard() =>
        // Each visit is a context of its own: the credentials of the visits before it are not there.
        await browser.VisitAsync(site.Address, Viewport.Desktop, async page =>
        {
            var refused = await Assert.ThrowsAsync<PlaywrightException>(() => page.GotoAsync("/dashboard/"));

            Assert.Contains("ERR_INVALID_AUTH_CREDENTIALS", refused.Message, StringComparison.Ordinal);
            await page.ShowsNoAsync("Total activations", TimeSpan.FromSeconds(1));
        });

    [Fact]
    public async Task A_failed_visit_names_a_screenshot_of_the_page_and_its_html()
    {
        var expected = BrowserPage.ScreenshotPath($"{nameof(BrowserSmokeTests)}.{nameof(A_failed_visit_names_a_screenshot_of_the_page_and_its_html)}.Phone");

        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => browser.VisitAsync(site.Address, Viewport.Phone, async page =>
        {
            await page.GotoAsync("/dashboard/");
            await page.ShowsAsync("Total activations");
            await page.ShowsAsync("A text the dashboard never shows", TimeSpan.FromSeconds(1));
        }, Operator));

        Assert.Contains("A text the dashboard never shows", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"Screenshot: {expected}", failure.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<PlaywrightException>(failure.InnerException);
        var png = await File.ReadAllBytesAsync(expected);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.True(png.Length > 10_000, $"The screenshot has {png.Length} bytes: a blank page?");
        Assert.Contains("Total activations", await File.ReadAllTextAsync(Path.ChangeExtension(expected, ".html")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_page_that_asks_for_an_outside_address_fails_its_visit_and_sends_nothing()
    {
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.XunitException>(() => browser.VisitAsync(site.Address, Viewport.Desktop, async page =>
        {
            await page.GotoAsync("/dashboard/");
            var fetched = await page.EvaluateAsync<bool>("() => fetch('https://cdn.example.invalid/app.js').then(() => true, () => false)");
            Assert.False(fetched);
        }, Operator));

        Assert.StartsWith("The page asked for addresses outside this machine: https://cdn.example.invalid/app.js", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Screenshot: ", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>One engine with the dashboard on for the whole class.</summary>
    public sealed class DashboardServer : IAsyncLifetime
    {
        private VetrinaServer? _server;

        public Uri Address => (_server ?? throw new InvalidOperationException("Not started.")).Address;

        public async Task InitializeAsync() =>
            _server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string> { ["Vetrina:Dashboard:Enabled"] = "true" });

        public async Task DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
