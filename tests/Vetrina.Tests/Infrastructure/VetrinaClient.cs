using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Vetrina.Tests.Infrastructure;

/// <summary>An HTTP answer: status, content type and JSON body (Undefined when empty).</summary>
public sealed record Reply(HttpStatusCode Status, string? ContentType, JsonElement Body, string Raw)
{
    /// <summary>Response and content headers, by name (case-insensitive).</summary>
    public IReadOnlyDictionary<string, string[]> Headers { get; init; } = new Dictionary<string, string[]>();

    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(", ", values) : null;

    public Reply Expect(HttpStatusCode status) =>
        Status == status ? this : throw new Xunit.Sdk.XunitException($"Expected {(int)status} but got {(int)Status}: {Raw}");

    public string Str(string property) => Body.GetProperty(property).GetString()!;

    public long Number(string property) => Body.GetProperty(property).GetInt64();

    /// <summary>An RFC 9457 body as the contract requires it: the answer's status, a title and a detail.</summary>
    public bool IsProblem => ContentType == "application/problem+json" && Body.ValueKind == JsonValueKind.Object
        && Body.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number && s.GetInt32() == (int)Status
        && IsText(Body, "title") && IsText(Body, "detail");

    private static bool IsText(JsonElement body, string property) =>
        body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString());
}

public sealed record Party(string Id, string Key);

/// <summary>
/// Speaks Vetrina's HTTP contract; every call goes over a real socket. Given <paramref name="spread"/>, each request
/// goes to the address it picks (one silo of a cluster after another). Every answer is checked against the OpenAPI
/// document (<see cref="ContractCheck"/>): one that breaks it fails the call at once and stays in <see cref="Contract"/>,
/// which the server or cluster owning this client asserts on when it stops.
/// </summary>
public sealed class VetrinaClient : IDisposable
{
    private readonly SpreadingHandler? _spreading;
    private readonly HttpClient _http;
    private readonly Uri _address;

    public VetrinaClient(Uri address, string platformKey, Func<Uri>? spread = null)
    {
        var sockets = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        _spreading = spread is null ? null : new SpreadingHandler(spread) { InnerHandler = sockets };
        _address = address;
        _http = new HttpClient(new ContractCheck(Contract, _spreading ?? (HttpMessageHandler)sockets)) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        PlatformKey = platformKey;
    }

    public string PlatformKey { get; }

    /// <summary>What the answers to this client (and to its raw clients) broke of the OpenAPI document.</summary>
    public ContractLog Contract { get; } = new();

    /// <summary>
    /// A plain <see cref="HttpClient"/> for requests this client cannot send (odd headers, raw bytes); its answers are
    /// checked against the document into the same <see cref="Contract"/>. Not spread over a cluster.
    /// </summary>
    public HttpClient CreateRawClient(SocketsHttpHandler? sockets = null) =>
        new(new ContractCheck(Contract, sockets ?? new SocketsHttpHandler())) { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Requests sent to <paramref name="address"/> (picked by the spread) that have no answer yet.</summary>
    public int InFlightTo(Uri address) => _spreading?.InFlightTo(address) ?? 0;

    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body = null, string? key = "platform",
        string? idempotencyKey = null, string? rawBody = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key == "platform" ? PlatformKey : key);
        }
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        if (rawBody is not null)
        {
            request.Content = new StringContent(rawBody, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType());
        }
        using var response = await _http.SendAsync(request);
        ContractCheck.ThrowIfBroken(request);
        var raw = await response.Content.ReadAsStringAsync();
        var json = raw.Length > 0 && raw[0] is '{' or '[' ? JsonDocument.Parse(raw).RootElement.Clone() : default;
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => h.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        return new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, json, raw) { Headers = headers };
    }

    public Task<Reply> GetAsync(string path, string? key = "platform") => SendAsync(HttpMethod.Get, path, key: key);

    /// <summary>Opens a server-sent event stream; the caller reads it and disposes it to disconnect.</summary>
    public async Task<EventReader> OpenEventsAsync(string path, string? key = null, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key == "platform" ? PlatformKey : key);
        }
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        ContractCheck.ThrowIfBroken(request);
        return new EventReader(request, response, await response.Content.ReadAsStreamAsync());
    }

    public Task<Reply> PostAsync(string path, object? body, string? key = "platform", string? idempotencyKey = null) =>
        SendAsync(HttpMethod.Post, path, body, key, idempotencyKey);

    public async Task<Party> CreateBrandAsync(int defaultCommissionBps = 1000, int? attributionWindowHours = null, int? returnWindowDays = null)
    {
        var reply = (await PostAsync("/api/brands", new { name = "Brand " + Guid.NewGuid().ToString("N")[..6], defaultCommissionBps, attributionWindowHours, returnWindowDays }))
            .Expect(HttpStatusCode.Created);
        return new Party(reply.Str("brandId"), reply.Str("apiKey"));
    }

    public async Task<string> CreateProductAsync(Party brand, long priceMinor = 2500, string currency = "EUR", int stock = 100, int? commissionBps = null)
    {
        var reply = (await PostAsync($"/api/brands/{brand.Id}/products",
            new { sku = "SKU-" + Guid.NewGuid().ToString("N")[..10], title = "A product", priceMinor, currency, stock, commissionBps }, brand.Key))
            .Expect(HttpStatusCode.Created);
        return reply.Str("productId");
    }

    public async Task<Party> CreateCreatorAsync(string? shopperId = null)
    {
        var reply = (await PostAsync("/api/creators", new { handle = "creator" + Guid.NewGuid().ToString("N")[..6], followers = 1000, shopperId }))
            .Expect(HttpStatusCode.Created);
        return new Party(reply.Str("creatorId"), reply.Str("apiKey"));
    }

    public async Task<string> CreateLinkAsync(Party creator, string productId) =>
        (await PostAsync($"/api/creators/{creator.Id}/links", new { productId }, creator.Key)).Expect(HttpStatusCode.Created).Str("code");

    public async Task ClickAsync(string code, string shopperId) =>
        (await PostAsync($"/api/links/{code}/clicks", new { shopperId })).Expect(HttpStatusCode.Created);

    public Task<Reply> BuyAsync(string code, string shopperId, int quantity = 1, string? idempotencyKey = null, string? paymentToken = null) =>
        PostAsync($"/api/links/{code}/buy", new { shopperId, quantity, paymentToken }, idempotencyKey: idempotencyKey ?? Guid.NewGuid().ToString("N"));

    /// <summary>Schedules a live session of the creator; answers its id.</summary>
    public async Task<string> CreateLiveAsync(Party creator, string title = "Live now") =>
        (await PostAsync($"/api/creators/{creator.Id}/lives", new { title }, creator.Key)).Expect(HttpStatusCode.Created).Str("sessionId");

    public Task<Reply> LiveBuyAsync(string sessionId, string shopperId, string productId, int quantity = 1, string? idempotencyKey = null) =>
        PostAsync($"/api/lives/{sessionId}/buy", new { shopperId, productId, quantity }, idempotencyKey: idempotencyKey ?? Guid.NewGuid().ToString("N"));

    public async Task PutInCartAsync(string shopperId, string productId, int quantity) =>
        (await SendAsync(HttpMethod.Put, $"/api/carts/{shopperId}/items/{productId}", new { quantity })).Expect(HttpStatusCode.OK);

    public Task<Reply> CheckoutAsync(string shopperId, string? idempotencyKey = null, string? paymentToken = null) =>
        PostAsync($"/api/carts/{shopperId}/checkout", new { paymentToken }, idempotencyKey: idempotencyKey ?? Guid.NewGuid().ToString("N"));

    /// <summary>The product as the platform reads it, with units reserved, sold and stocked (anonymous readers do not see those).</summary>
    public async Task<JsonElement> ProductAsync(string productId) => (await GetAsync($"/api/products/{productId}")).Expect(HttpStatusCode.OK).Body;

    public async Task<JsonElement> OrderAsync(string orderId) => (await GetAsync($"/api/orders/{orderId}")).Expect(HttpStatusCode.OK).Body;

    /// <summary>The creator's balance in one currency, or zeros when none.</summary>
    public async Task<(long Pending, long Settled, long Paid, long Reversed)> EarningsAsync(string creatorId, string currency)
    {
        var balances = (await GetAsync($"/api/creators/{creatorId}/earnings")).Expect(HttpStatusCode.OK).Body.GetProperty("balances");
        foreach (var balance in balances.EnumerateArray())
        {
            if (balance.GetProperty("currency").GetString() == currency)
            {
                return (balance.GetProperty("pendingMinor").GetInt64(), balance.GetProperty("settledMinor").GetInt64(),
                    balance.GetProperty("paidMinor").GetInt64(), balance.GetProperty("reversedMinor").GetInt64());
            }
        }
        return (0, 0, 0, 0);
    }

    public void Dispose() => _http.Dispose();

    private sealed class SpreadingHandler(Func<Uri> pick) : DelegatingHandler
    {
        private readonly ConcurrentDictionary<Uri, int> _inFlight = new();

        public int InFlightTo(Uri address) => _inFlight.GetValueOrDefault(address);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = pick();
            request.RequestUri = new UriBuilder(request.RequestUri!) { Host = target.Host, Port = target.Port }.Uri;
            _inFlight.AddOrUpdate(target, 1, (_, n) => n + 1);
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                _inFlight.AddOrUpdate(target, 0, (_, n) => n - 1);
            }
        }
    }
}
