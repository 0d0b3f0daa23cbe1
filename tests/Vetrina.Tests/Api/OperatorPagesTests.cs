using System.Net.Http.Headers;
using System.Text;

namespace Vetrina.Tests.Api;

/// <summary>The Orleans dashboard and the Prometheus scrape endpoint are for operators: the platform key only.</summary>
public sealed class OperatorPagesTests
{
    [Fact]
    public async Task The_dashboard_is_off_by_default()
    {
        await using var server = await VetrinaServer.StartAsync();

        var reply = await server.Api.GetAsync("/dashboard/");

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.True(reply.IsProblem, reply.Raw);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Api.GetAsync("/dashboard/DashboardCounters")).Status);
    }

    [Fact]
    public async Task When_enabled_the_dashboard_opens_only_for_the_platform_key()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string> { ["Vetrina:Dashboard:Enabled"] = "true" });
        var api = server.Api;
        var brand = await api.CreateBrandAsync();
        var creator = await api.CreateCreatorAsync();

        var anonymous = await api.GetAsync("/dashboard/", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.True(anonymous.IsProblem, anonymous.Raw);
        Assert.StartsWith("Basic ", anonymous.Header("WWW-Authenticate"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/dashboard/", key: "not-a-key")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/dashboard/", key: brand.Key)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/dashboard/DashboardCounters", key: creator.Key)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithBasicAsync(server, "/dashboard/", "operator", brand.Key)).StatusCode);

        var page = (await api.GetAsync("/dashboard/")).Expect(HttpStatusCode.OK);
        Assert.Equal("text/html", page.ContentType);
        var counters = (await api.GetAsync("/dashboard/DashboardCounters")).Expect(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Object, counters.Body.ValueKind);
        // A browser cannot send a bearer key: it answers the Basic challenge with the platform key as the password.
        using var viaBrowser = await GetWithBasicAsync(server, "/dashboard/", "operator", VetrinaServer.PlatformKey);
        Assert.Equal(HttpStatusCode.OK, viaBrowser.StatusCode);
        // Basic is for operator pages only; the API keeps to bearer keys.
        using var apiViaBasic = await GetWithBasicAsync(server, "/api/cluster", "operator", VetrinaServer.PlatformKey);
        Assert.Equal(HttpStatusCode.Unauthorized, apiViaBasic.StatusCode);
    }

    [Fact]
    public async Task Prometheus_scrapes_with_the_platform_key_only_and_finds_the_engines_metrics()
    {
        await using var server = await VetrinaServer.StartAsync();
        var api = server.Api;
        var brand = await api.CreateBrandAsync();
        var code = await api.CreateLinkAsync(await api.CreateCreatorAsync(), await api.CreateProductAsync(brand));
        await api.ClickAsync(code, "scraped-shopper");
        (await api.BuyAsync(code, "scraped-shopper")).Expect(HttpStatusCode.Created);

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/metrics", key: null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/metrics", key: brand.Key)).Status);
        var scrape = (await api.GetAsync("/metrics")).Expect(HttpStatusCode.OK);

        Assert.Equal("text/plain", scrape.ContentType);
        foreach (var metric in new[] { "vetrina_checkouts_total", "vetrina_clicks_total", "vetrina_commission_accrued_total",
                     "http_server_request_duration_seconds_count", "orleans_catalog_activations" })
        {
            Assert.Contains(metric, scrape.Raw, StringComparison.Ordinal);
        }
    }

    private static async Task<HttpResponseMessage> GetWithBasicAsync(VetrinaServer server, string path, string user, string password)
    {
        using var http = new HttpClient { BaseAddress = server.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return await http.SendAsync(request);
    }
}
