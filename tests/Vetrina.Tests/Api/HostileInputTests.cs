using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.OpenApi;
using Xunit.Abstractions;

namespace Vetrina.Tests.Api;

/// <summary>
/// More than ten thousand generated malformed or adversarial requests against every route (see
/// <see cref="HostileRequests"/>) on a silo that stores its grains in SQLite: none may answer 5xx, every 4xx is a
/// complete problem+json, no request that could change something is accepted, every answer of a documented operation
/// is one its OpenAPI description lists, and afterwards every product, cart, order, ledger, link and sales report reads
/// exactly as before and storage holds no grain it did not hold before.
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Requests = 12_000;
    private const int Seed = 5_2026;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "vetrina-hostile-" + Guid.NewGuid().ToString("N"));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("sqlite", _dataDirectory);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Ten_thousand_hostile_requests_get_clean_4xx_problems_and_change_nothing()
    {
        var world = await CreateWorldAsync(_server.Api);
        var before = await SnapshotAsync(_server.Api, world);
        var storedBefore = await StoredGrainsAsync();
        var generator = new HostileRequests(world, VetrinaServer.PlatformKey, Seed);
        var requests = Enumerable.Range(0, Requests).Select(_ => generator.Next()).ToList();

        var answers = new ConcurrentBag<(HostileRequest Request, Reply Reply)>();
        using var http = HostileClient();
        var aborted = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (request, _) =>
        {
            try
            {
                answers.Add((request, await SendAsync(http, request)));
            }
            catch (HttpRequestException exception)
            {
                aborted.Add($"no answer ({exception.InnerException?.Message ?? exception.Message}):\n    {request.Describe()}");
            }
        });

        var failures = aborted.Take(15).ToList();
        void Check(string rule, IEnumerable<(HostileRequest Request, Reply Reply)> broken)
        {
            foreach (var (request, reply) in broken.Take(15))
            {
                failures.Add($"{rule}: {(int)reply.Status} {Shorten(reply.Raw)}\n    {request.Describe()}");
            }
        }
        var document = await DocumentAsync();
        Check("5xx", answers.Where(a => (int)a.Reply.Status >= 500));
        Check("4xx without a complete problem+json", answers.Where(a => (int)a.Reply.Status is >= 400 and < 500 && !a.Reply.IsProblem));
        Check("a request that could change something was accepted", answers.Where(a => !a.Request.Safe && (int)a.Reply.Status < 400));
        Check("an answer its operation does not document", answers.Where(a => Routed(a) && !Documented(document, a.Request.Operation!, a.Reply.Status)));
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        Assert.True(answers.Count >= 10_000);
        var operations = answers.Where(a => a.Request.Operation is not null).GroupBy(a => a.Request.Operation!).ToDictionary(g => g.Key, g => g.Count());
        foreach (var operation in document.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => $"{m.Method.ToUpperInvariant()} {p.Key}")))
        {
            Assert.True(operations.GetValueOrDefault(operation) >= 100, $"{operation} got only {operations.GetValueOrDefault(operation)} requests");
        }
        output.WriteLine(string.Join(", ", answers.GroupBy(a => (int)a.Reply.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));

        Assert.Equal(before, await SnapshotAsync(_server.Api, world));
        Assert.Equal(storedBefore, await StoredGrainsAsync());
    }

    [Fact]
    public async Task Requests_the_HTTP_server_refuses_itself_are_4xx_without_reaching_the_engine()
    {
        // Kestrel answers these before any middleware runs, so without a body: a NUL in the path, a request line
        // over 8 KB, headers over 32 KB. They must still never be a 5xx or change anything.
        var world = await CreateWorldAsync(_server.Api);
        var before = await SnapshotAsync(_server.Api, world);
        using var http = HostileClient(checkedAgainstDocument: false);

        var refused = new[]
        {
            await RawAsync(http, HttpMethod.Put, $"/api/carts/%00/items/{world.Product}", "{\"quantity\":1}"),
            await RawAsync(http, HttpMethod.Get, "/api/products/" + new string('p', 9000), null),
            await RawAsync(http, HttpMethod.Post, $"/api/links/{world.Link}/buy", "{\"shopperId\":\"s\",\"quantity\":1}", ("X-Padding", new string('h', 40_000))),
        };

        Assert.All(refused, status => Assert.InRange((int)status, 400, 499));
        Assert.Equal(before, await SnapshotAsync(_server.Api, world));
    }

    private static bool Routed((HostileRequest Request, Reply Reply) answer) =>
        answer.Request.Operation is not null && answer.Reply.Status != HttpStatusCode.MethodNotAllowed &&
        !(answer.Reply.Status == HttpStatusCode.NotFound && answer.Reply.Raw.Contains("No route of the API", StringComparison.Ordinal));

    private static bool Documented(OpenApiDocument document, string operation, HttpStatusCode status)
    {
        var space = operation.IndexOf(' ', StringComparison.Ordinal);
        var item = document.Paths[operation[(space + 1)..]];
        var found = item.Operations!.First(o => o.Key.Method.Equals(operation[..space], StringComparison.OrdinalIgnoreCase)).Value;
        return found.Responses!.ContainsKey(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<OpenApiDocument> DocumentAsync()
    {
        var raw = (await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK).Raw;
        return OpenApiDocument.Parse(raw, "json").Document!;
    }

    /// <summary>
    /// A raw client. Its answers are checked against the OpenAPI document too (the server asserts it when it stops),
    /// except those Kestrel gives before the API's pipeline runs: bodiless 4xx that no operation describes.
    /// </summary>
    private HttpClient HostileClient(bool checkedAgainstDocument = true)
    {
        var sockets = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 32,
            // Send header values as UTF-8 bytes as they are, like a careless client would.
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        };
        return checkedAgainstDocument ? _server.Api.CreateRawClient(sockets) : new HttpClient(sockets) { Timeout = TimeSpan.FromSeconds(60) };
    }

    private async Task<Reply> SendAsync(HttpClient http, HostileRequest hostile)
    {
        using var request = new HttpRequestMessage(new HttpMethod(hostile.Method), new Uri(_server.Address, hostile.Url()));
        foreach (var (name, value) in hostile.Headers)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, value), $"could not add {name}: {hostile.Describe()}");
        }
        if (hostile.Body is { } body)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            foreach (var contentType in hostile.ContentTypes)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        using var response = await http.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        JsonElement json = default;
        if (raw.StartsWith('{'))
        {
            try
            {
                json = JsonDocument.Parse(raw).RootElement.Clone();
            }
            catch (JsonException)
            {
                // Left undefined: such an answer fails the problem+json check with its raw text.
            }
        }
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, json, raw);
    }

    private async Task<HttpStatusCode> RawAsync(HttpClient http, HttpMethod method, string path, string? body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, new Uri(_server.Address, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", VetrinaServer.PlatformKey);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "kestrel-" + Guid.NewGuid().ToString("N"));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Every grain stored in SQLite, by type and key. Refused checkouts are left out: a checkout keeps its refusal so a retry with the same key replays it.</summary>
    private async Task<string> StoredGrainsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDirectory, "vetrina.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT GrainTypeString, GrainIdN0, GrainIdN1, COALESCE(GrainIdExtensionString, '') FROM OrleansStorage " +
                              "WHERE GrainTypeString NOT LIKE '%checkout%' ORDER BY 1, 2, 3, 4";
        var rows = new StringBuilder();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Append(reader.GetString(0)).Append('|').Append(reader.GetInt64(1)).Append('|').Append(reader.GetInt64(2)).Append('|').AppendLine(reader.GetString(3));
        }
        Assert.True(rows.Length > 0, "the world is stored");
        return rows.ToString();
    }

    /// <summary>Everything a hostile request could aim at, read back through the API.</summary>
    private static async Task<string> SnapshotAsync(VetrinaClient api, HostileWorld w)
    {
        var reads = new (string Path, string? Key)[]
        {
            ($"/api/products/{w.Product}", null), ($"/api/products/{w.ArchivedProduct}", null), ($"/api/products/{w.ProductB}", null),
            ($"/api/brands/{w.BrandA.Id}", "platform"), ($"/api/brands/{w.BrandB.Id}", "platform"),
            ($"/api/brands/{w.BrandA.Id}/sales", w.BrandA.Key), ($"/api/brands/{w.BrandB.Id}/sales", w.BrandB.Key),
            ($"/api/creators/{w.CreatorA.Id}/earnings", "platform"), ($"/api/creators/{w.CreatorB.Id}/earnings", "platform"),
            ($"/api/links/{w.Link}", null), ($"/api/links/{w.LinkB}", null), ($"/api/links/{w.Link}/stats", "platform"), ($"/api/links/{w.LinkB}/stats", "platform"),
            ($"/api/carts/{w.CartShopper}", "platform"), ($"/api/carts/{w.CartShopperB}", "platform"),
            ($"/api/orders/{w.PaidOrder}", "platform"), ($"/api/orders/{w.ShippedOrder}", "platform"),
            ($"/api/orders/{w.DeliveredOrder}", "platform"), ($"/api/orders/{w.CancelledOrder}", "platform"),
            ($"/api/lives/{w.LiveSession}", null), ($"/api/lives/{w.EndedSession}", null), ($"/api/lives/{w.ScheduledSessionB}", null),
            ($"/api/lives/{w.LiveSession}/stats", "platform"), ($"/api/lives/{w.EndedSession}/stats", "platform"), ($"/api/lives/{w.ScheduledSessionB}/stats", "platform"),
            ($"/api/flash-deals/{w.Deal}", null),
        };
        var snapshot = new StringBuilder();
        foreach (var (path, key) in reads)
        {
            snapshot.Append(path).Append(" => ").AppendLine((await api.GetAsync(path, key)).Expect(HttpStatusCode.OK).Raw);
        }
        return snapshot.ToString();
    }

    private static async Task<HostileWorld> CreateWorldAsync(VetrinaClient api)
    {
        var brandA = await api.CreateBrandAsync(defaultCommissionBps: 1000);
        var brandB = await api.CreateBrandAsync(defaultCommissionBps: 500);
        var product = await api.CreateProductAsync(brandA, priceMinor: 2500, stock: 50);
        var archived = await api.CreateProductAsync(brandA, stock: 5);
        (await api.SendAsync(HttpMethod.Patch, $"/api/products/{archived}", new { status = "archived" }, brandA.Key)).Expect(HttpStatusCode.OK);
        var productB = await api.CreateProductAsync(brandB, currency: "USD", stock: 20);
        var creatorA = await api.CreateCreatorAsync(shopperId: "creator-a-" + Guid.NewGuid().ToString("N")[..6]);
        var creatorB = await api.CreateCreatorAsync();
        var link = await api.CreateLinkAsync(creatorA, product);
        var linkB = await api.CreateLinkAsync(creatorB, productB);

        var cartShopper = "cart-" + Guid.NewGuid().ToString("N")[..8];
        await api.ClickAsync(link, cartShopper);
        await api.PutInCartAsync(cartShopper, product, 2);
        var cartShopperB = "cart-b-" + Guid.NewGuid().ToString("N")[..8];
        await api.PutInCartAsync(cartShopperB, productB, 1);

        async Task<string> OrderAsync(string shopper, int quantity) =>
            (await api.BuyAsync(link, shopper + Guid.NewGuid().ToString("N")[..6], quantity)).Expect(HttpStatusCode.Created).Str("orderId");
        var paid = await OrderAsync("paid-", 1);
        var shipped = await OrderAsync("shipped-", 1);
        (await api.PostAsync($"/api/orders/{shipped}/ship", null, brandA.Key)).Expect(HttpStatusCode.OK);
        var delivered = await OrderAsync("delivered-", 2);
        (await api.PostAsync($"/api/orders/{delivered}/ship", null, brandA.Key)).Expect(HttpStatusCode.OK);
        (await api.PostAsync($"/api/orders/{delivered}/deliver", null, brandA.Key)).Expect(HttpStatusCode.OK);
        var cancelled = await OrderAsync("cancelled-", 1);
        (await api.PostAsync($"/api/orders/{cancelled}/cancel", null)).Expect(HttpStatusCode.OK);

        // A live session showing and pinning the product with one sale, one that ended after a viewer watched, and
        // one of creator B still scheduled. No viewer joins the live one: its count would fall as the presence expires.
        async Task<string> LiveAsync(Party creator, string title, bool start)
        {
            var session = await api.CreateLiveAsync(creator, title);
            if (start)
            {
                (await api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
                (await api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
                (await api.PostAsync($"/api/lives/{session}/pin", new { productId = product }, creator.Key)).Expect(HttpStatusCode.OK);
            }
            return session;
        }
        var live = await LiveAsync(creatorA, "Hostile live", start: true);
        (await api.LiveBuyAsync(live, "live-" + Guid.NewGuid().ToString("N")[..8], product)).Expect(HttpStatusCode.Created);
        var ended = await LiveAsync(creatorA, "Hostile ended", start: true);
        (await api.PostAsync($"/api/lives/{ended}/viewers", new { shopperId = "viewer-" + Guid.NewGuid().ToString("N")[..8] })).Expect(HttpStatusCode.OK);
        (await api.PostAsync($"/api/lives/{ended}/end", null, creatorA.Key)).Expect(HttpStatusCode.OK);
        var scheduledB = await LiveAsync(creatorB, "Hostile scheduled", start: false);
        // A flash deal of the product in the live session, started (for a day, so that it stays active throughout).
        var deal = (await api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = live, dealPriceMinor = 900, units = 3, perBuyerLimit = 1, durationSeconds = 86_400 }, brandA.Key)).Expect(HttpStatusCode.Created).Str("dealId");
        (await api.PostAsync($"/api/flash-deals/{deal}/start", null, brandA.Key)).Expect(HttpStatusCode.OK);
        await Eventually.HoldsAsync(() => api.GetAsync($"/api/lives/{live}", key: null),
            r => r.Body.GetProperty("deals").EnumerateArray().Any(d => d.GetProperty("status").GetString() == "active"),
            because: "the deal reports its start to its session");

        // One click and four one-tap buys (one cancelled) and one live buy: wait until the silo's click tally and the
        // journal's projection have reached the link, the session and the brand, so that the snapshot taken next is the settled state.
        await Eventually.HoldsAsync(() => api.GetAsync($"/api/links/{link}/stats"), r => r.Number("clicks") == 5 && r.Number("units") == 4,
            because: "the setup's clicks and sales reach the link");
        await Eventually.HoldsAsync(() => api.GetAsync($"/api/brands/{brandA.Id}/sales", brandA.Key),
            r => r.Body.GetProperty("byProduct").EnumerateArray().Sum(p => p.GetProperty("units").GetInt64()) == 4 + 1,
            because: "the setup's sales reach the brand");
        await Eventually.HoldsAsync(() => api.EarningsAsync(creatorA.Id, "EUR"), e => e.Pending == 2500L * (4 + 1) * 1000 / 10_000,
            because: "the setup's commission reaches the creator");
        await Eventually.HoldsAsync(() => api.GetAsync($"/api/lives/{live}/stats"), r => r.Number("orders") == 1 && r.Number("units") == 1,
            because: "the setup's live sale reaches the session");
        var view = await api.ProductAsync(product);
        return new HostileWorld(brandA, brandB, creatorA, creatorB, product, view.GetProperty("sku").GetString()!, archived, productB, link, linkB,
            cartShopper, cartShopperB, paid, shipped, delivered, cancelled, live, ended, scheduledB, deal, view.GetProperty("available").GetInt32());
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";
}
