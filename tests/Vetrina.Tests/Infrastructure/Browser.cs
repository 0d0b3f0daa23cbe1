using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Sdk;

namespace Vetrina.Tests.Infrastructure;

/// <summary>The two screens every page is tested on.</summary>
public enum Viewport
{
    /// <summary>390×844 with touch, as a phone that opens a link from a video app.</summary>
    Phone,

    /// <summary>1366×900, as a laptop running a console.</summary>
    Desktop,
}

/// <summary>
/// Headless Chromium from Debian's <c>chromium</c> package (its path in <c>VETRINA_TEST_CHROMIUM</c>, which
/// <c>tests/run.sh</c> sets after installing it), driven by Playwright's driver that ships inside its NuGet package:
/// no browser is downloaded. One browser serves the whole <see cref="BrowserTests"/> collection, so page tests run one
/// at a time beside the rest of the suite (two cores); each visit gets a context of its own, so no cookie or storage
/// passes from one test to the next. Pages reach only this machine: a request for any other address is refused in
/// the browser and fails the visit (pages must not load assets from outside, and tests send no traffic off the
/// machine). There is no skip: without Chromium these tests fail and say how to run them.
/// </summary>
public sealed partial class Browser : IAsyncLifetime
{
    public const string Variable = "VETRINA_TEST_CHROMIUM";

    /// <summary>How long an action or an expectation waits (the machine is small and shared) before it fails.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Where failed visits leave their screenshot and HTML.</summary>
    public static readonly string ScreenshotFolder = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public string Version => Running.Version;

    private IBrowser Running => _browser ?? throw new InvalidOperationException("The browser has not been started.");

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(executable) || !File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"{Variable} {(string.IsNullOrWhiteSpace(executable) ? "is not set" : $"names '{executable}', which does not exist")}. " +
                "Run the suite with 'bash tests/run.sh', which installs Debian's chromium package and sets it.");
        }
        // The folder then holds this run's failures only.
        if (Directory.Exists(ScreenshotFolder))
        {
            Directory.Delete(ScreenshotFolder, recursive: true);
        }
        Assertions.SetDefaultExpectTimeout((float)Deadline.TotalMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Every host but loopback (names and IP addresses alike) fails to resolve, so neither a page nor the browser
            // itself connects or looks up anything outside this machine.
            Args = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }
        _playwright?.Dispose();
    }

    /// <summary>
    /// Opens <paramref name="site"/> in a fresh context at <paramref name="viewport"/>, runs <paramref name="steps"/> on its
    /// page (relative addresses resolve against <paramref name="site"/>) and closes it. Should a step throw, the failure
    /// names a screenshot and the page's HTML saved under <see cref="ScreenshotFolder"/>, and the page's script errors;
    /// so does a visit whose page asked for an address outside this machine.
    /// </summary>
    /// <param name="credentials">Sent when the site asks for HTTP Basic authentication (the operator pages).</param>
    public async Task VisitAsync(Uri site, Viewport viewport, Func<IPage, Task> steps, HttpCredentials? credentials = null,
        [CallerFilePath] string file = "", [CallerMemberName] string test = "")
    {
        await using var visit = await OpenAsync(site, viewport, credentials);
        var name = $"{Path.GetFileNameWithoutExtension(file)}.{test}.{viewport}";
        try
        {
            await steps(visit.Page);
        }
        catch (Exception failure)
        {
            throw new XunitException($"{failure.Message}\n{await visit.CaptureAsync(name)}", failure);
        }
        if (visit.RefusedRequests.Count > 0)
        {
            throw new XunitException($"The page asked for addresses outside this machine: {string.Join(", ", visit.RefusedRequests)}\n" +
                await visit.CaptureAsync(name));
        }
    }

    /// <summary>
    /// A page in a fresh context, for a test that needs more than one page open at once (a viewer and a console).
    /// Unlike <see cref="VisitAsync"/> it takes no screenshot by itself: call <see cref="BrowserPage.CaptureAsync"/>.
    /// </summary>
    public async Task<BrowserPage> OpenAsync(Uri site, Viewport viewport, HttpCredentials? credentials = null)
    {
        var options = viewport switch
        {
            Viewport.Phone => new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 1,
            },
            Viewport.Desktop => new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } },
            _ => throw new ArgumentOutOfRangeException(nameof(viewport)),
        };
        options.BaseURL = site.ToString();
        options.HttpCredentials = credentials;
        options.Locale = "en-US";
        options.TimezoneId = "UTC";
        var context = await Running.NewContextAsync(options);
        context.SetDefaultTimeout((float)Deadline.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)Deadline.TotalMilliseconds);
        var page = new BrowserPage(context, await context.NewPageAsync());
        await context.RouteAsync(OutsideThisMachine(), page.RefuseAsync);
        return page;
    }

    /// <summary>
    /// http(s) addresses whose host is not loopback. The driver matches the pattern in the browser, so only these requests
    /// stop for the route and the rest load as usual.
    /// </summary>
    [GeneratedRegex(@"^(?!https?://(localhost|127\.0\.0\.1)(:\d+)?(/|$))https?://", RegexOptions.IgnoreCase)]
    private static partial Regex OutsideThisMachine();
}

/// <summary>One page in a context of its own; disposing it closes both.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _scriptErrors = [];
    private readonly List<string> _refused = [];

    internal BrowserPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.PageError += (_, error) => Record($"uncaught: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                Record($"console: {message.Text}");
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Uncaught exceptions and console errors of the page's scripts so far.</summary>
    public IReadOnlyList<string> ScriptErrors
    {
        get
        {
            lock (_scriptErrors)
            {
                return [.. _scriptErrors];
            }
        }
    }

    /// <summary>Addresses outside this machine that the page asked for; the browser refused them.</summary>
    public IReadOnlyList<string> RefusedRequests
    {
        get
        {
            lock (_refused)
            {
                return [.. _refused];
            }
        }
    }

    /// <summary>The full-page screenshot saved by <see cref="CaptureAsync"/>.</summary>
    public static string ScreenshotPath(string name) => Path.Combine(Browser.ScreenshotFolder, $"{name}.png");

    /// <summary>
    /// Saves a full-page screenshot and the page's HTML as <paramref name="name"/>.png and .html under
    /// <see cref="Browser.ScreenshotFolder"/> and answers lines to put in a failure message: both paths, the page's
    /// address and its script errors. A page that cannot be captured any more (it crashed) is said so instead.
    /// </summary>
    public async Task<string> CaptureAsync(string name)
    {
        Directory.CreateDirectory(Browser.ScreenshotFolder);
        var screenshot = ScreenshotPath(name);
        var html = Path.ChangeExtension(screenshot, ".html");
        var lines = new List<string> { $"Page: {Page.Url}" };
        try
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true, Timeout = 10_000 });
            lines.Add($"Screenshot: {screenshot}");
            await File.WriteAllTextAsync(html, await Page.ContentAsync());
            lines.Add($"HTML: {html}");
        }
        catch (PlaywrightException failure)
        {
            lines.Add($"No screenshot: {failure.Message}");
        }
        lines.AddRange(ScriptErrors.Select(error => $"Script error: {error}"));
        return string.Join('\n', lines);
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    internal async Task RefuseAsync(IRoute route)
    {
        lock (_refused)
        {
            _refused.Add(route.Request.Url);
        }
        await route.AbortAsync("blockedbyclient");
    }

    private void Record(string error)
    {
        lock (_scriptErrors)
        {
            _scriptErrors.Add(error);
        }
    }
}

/// <summary>Waits for what a person would look for, with Playwright's auto-waiting and <see cref="Browser.Deadline"/>.</summary>
public static class PageText
{
    /// <summary>
    /// Waits until some visible element shows <paramref name="text"/>: a substring, case-insensitive (what a person reads
    /// does not depend on a CSS text-transform) and with white space collapsed.
    /// </summary>
    public static Task ShowsAsync(this IPage page, string text, TimeSpan? deadline = null) =>
        Assertions.Expect(page.GetByText(text).Filter(new() { Visible = true }).First).ToBeVisibleAsync(new() { Timeout = Milliseconds(deadline) });

    /// <summary>Waits until <paramref name="locator"/> contains <paramref name="text"/> (case-insensitive, as above).</summary>
    public static Task ShowsAsync(this ILocator locator, string text, TimeSpan? deadline = null) =>
        Assertions.Expect(locator).ToContainTextAsync(text, new() { IgnoreCase = true, Timeout = Milliseconds(deadline) });

    /// <summary>Waits until no element shows <paramref name="text"/> any more.</summary>
    public static Task ShowsNoAsync(this IPage page, string text, TimeSpan? deadline = null) =>
        Assertions.Expect(page.GetByText(text)).ToHaveCountAsync(0, new() { Timeout = Milliseconds(deadline) });

    private static float Milliseconds(TimeSpan? deadline) => (float)(deadline ?? Browser.Deadline).TotalMilliseconds;
}

/// <summary>The page tests: they share one browser and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<Browser>
{
    public const string Name = "browser";
}
