using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Engine;

public sealed record Brand(string BrandId, string ApiKey);

public sealed record Creator(string CreatorId, string ApiKey);

/// <summary>What <c>GET /api/products/{id}</c> says about stock.</summary>
public sealed record StockFigures(int Available, int Sold, int Reserved, int Stocked)
{
    public override string ToString() => $"available {Available}, sold {Sold}, reserved {Reserved}, stocked {Stocked}";
}

/// <summary>A creator's balance in one currency (<c>GET /api/creators/{id}/earnings</c>); all zero without one.</summary>
public sealed record Balance(long PendingMinor, long SettledMinor, long PaidMinor, long ReversedMinor)
{
    public override string ToString() => $"pending {PendingMinor}, settled {SettledMinor}, paid {PaidMinor}, reversed {ReversedMinor}";
}

/// <summary>What <c>GET /api/campaigns/{id}</c> says about a campaign's spend and counts.</summary>
public sealed record CampaignFigures(long SpentMinor, long SpentTodayMinor, long DailyBudgetMinor, long ChargedClicks, long Clicks, long Impressions)
{
    public override string ToString() =>
        $"spentMinor {SpentMinor}, spentTodayMinor {SpentTodayMinor}, dailyBudgetMinor {DailyBudgetMinor}, chargedClicks {ChargedClicks}, clicks {Clicks}, impressions {Impressions}";
}

/// <summary>One ad of a placement: its signed id, campaign, product and the cost per click it quoted.</summary>
public sealed record PlacedAd(string AdId, string CampaignId, string ProductId, long CostMinor);

/// <summary>
/// The engine's HTTP API for everything that is not load: setting up brands, products, creators and links,
/// replaying writes whose answer was lost, and reading the figures the invariant checks compare.
/// </summary>
public sealed class VetrinaClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _platformKey;

    public VetrinaClient(Uri address, string platformKey)
    {
        _platformKey = platformKey;
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public void Dispose() => _http.Dispose();

    public async Task<Brand> CreateBrandAsync(string name, int commissionBps)
    {
        var json = await SendAsync(HttpMethod.Post, "/api/brands", _platformKey, new { name, defaultCommissionBps = commissionBps });
        return new Brand(json.GetProperty("brandId").GetString()!, json.GetProperty("apiKey").GetString()!);
    }

    /// <summary>A brand with its own return window (days after delivery before an order completes and its commission settles).</summary>
    public async Task<Brand> CreateBrandAsync(string name, int commissionBps, int returnWindowDays)
    {
        var json = await SendAsync(HttpMethod.Post, "/api/brands", _platformKey, new { name, defaultCommissionBps = commissionBps, returnWindowDays });
        return new Brand(json.GetProperty("brandId").GetString()!, json.GetProperty("apiKey").GetString()!);
    }

    public async Task<string> CreateProductAsync(Brand brand, string sku, long priceMinor, int stock)
    {
        var json = await SendAsync(HttpMethod.Post, $"/api/brands/{brand.BrandId}/products", brand.ApiKey,
            new { sku, title = $"Bench {sku}", priceMinor, currency = "EUR", stock });
        return json.GetProperty("productId").GetString()!;
    }

    public async Task<Creator> CreateCreatorAsync(string handle)
    {
        var json = await SendAsync(HttpMethod.Post, "/api/creators", _platformKey, new { handle, followers = 1_000_000 });
        return new Creator(json.GetProperty("creatorId").GetString()!, json.GetProperty("apiKey").GetString()!);
    }

    public async Task<string> CreateLinkAsync(Creator creator, string productId)
    {
        var json = await SendAsync(HttpMethod.Post, $"/api/creators/{creator.CreatorId}/links", creator.ApiKey, new { productId });
        return json.GetProperty("code").GetString()!;
    }

    /// <summary>A live session of <paramref name="creator"/> (scheduled); returns its id.</summary>
    public async Task<string> CreateLiveAsync(Creator creator, string title)
    {
        var json = await SendAsync(HttpMethod.Post, $"/api/creators/{creator.CreatorId}/lives", creator.ApiKey, new { title });
        return json.GetProperty("sessionId").GetString()!;
    }

    public Task StartLiveAsync(Creator creator, string sessionId) =>
        SendAsync(HttpMethod.Post, $"/api/lives/{sessionId}/start", creator.ApiKey, null);

    public Task SetShowcaseAsync(Creator creator, string sessionId, IReadOnlyList<string> productIds) =>
        SendAsync(HttpMethod.Put, $"/api/lives/{sessionId}/showcase", creator.ApiKey, new { productIds });

    /// <summary>Pins a product of the showcase (null unpins); returns the status, whatever it is.</summary>
    public async Task<int> PinAsync(Creator creator, string sessionId, string? productId)
    {
        using var request = new HttpRequestMessage(productId is null ? HttpMethod.Delete : HttpMethod.Post, $"/api/lives/{sessionId}/pin");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", creator.ApiKey);
        if (productId is not null)
        {
            request.Content = JsonContent.Create(new { productId });
        }
        using var response = await _http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    /// <summary>A flash deal of a live session on one of its showcase's products (brand key); returns its id.</summary>
    public async Task<string> CreateDealAsync(Brand brand, string productId, string sessionId, long dealPriceMinor, int units, int perBuyerLimit, int durationSeconds)
    {
        var json = await SendAsync(HttpMethod.Post, $"/api/products/{productId}/flash-deals", brand.ApiKey,
            new { sessionId, dealPriceMinor, units, perBuyerLimit, durationSeconds });
        return json.GetProperty("dealId").GetString()!;
    }

    public Task StartDealAsync(Brand brand, string dealId) =>
        SendAsync(HttpMethod.Post, $"/api/flash-deals/{dealId}/start", brand.ApiKey, null);

    /// <summary>A deal's remaining units and status (<c>GET /api/flash-deals/{id}</c>).</summary>
    public async Task<(int Remaining, string Status)> GetDealAsync(string dealId)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/flash-deals/{dealId}", _platformKey, null);
        return (json.GetProperty("remaining").GetInt32(), json.GetProperty("status").GetString()!);
    }

    /// <summary>The orders a live session counts (<c>GET /api/lives/{id}/stats</c>, platform key).</summary>
    public async Task<long> GetLiveOrdersAsync(string sessionId)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/lives/{sessionId}/stats", _platformKey, null);
        return json.GetProperty("orders").GetInt64();
    }

    /// <summary>Stock counts of a product: only its brand and the platform see them (anyone else gets the shop view).</summary>
    public async Task<StockFigures> GetStockAsync(string productId)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/products/{productId}", _platformKey, null);
        return new StockFigures(
            json.GetProperty("available").GetInt32(),
            json.GetProperty("sold").GetInt32(),
            json.GetProperty("reserved").GetInt32(),
            json.GetProperty("stocked").GetInt32());
    }

    /// <summary>The creator's pending commission in EUR minor units (0 without a EUR balance).</summary>
    public async Task<long> GetPendingEarningsAsync(Creator creator)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/creators/{creator.CreatorId}/earnings", creator.ApiKey, null);
        foreach (var balance in json.GetProperty("balances").EnumerateArray())
        {
            if (balance.GetProperty("currency").GetString() == "EUR")
            {
                return balance.GetProperty("pendingMinor").GetInt64();
            }
        }
        return 0;
    }

    /// <summary>A creator's balance in <paramref name="currency"/> (its own key).</summary>
    public async Task<Balance> GetBalanceAsync(Creator creator, string currency = "EUR")
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/creators/{creator.CreatorId}/earnings", creator.ApiKey, null);
        foreach (var balance in json.GetProperty("balances").EnumerateArray())
        {
            if (balance.GetProperty("currency").GetString() == currency)
            {
                return new Balance(balance.GetProperty("pendingMinor").GetInt64(), balance.GetProperty("settledMinor").GetInt64(),
                    balance.GetProperty("paidMinor").GetInt64(), balance.GetProperty("reversedMinor").GetInt64());
            }
        }
        return new Balance(0, 0, 0, 0);
    }

    /// <summary>A click on a link by a shopper (platform key).</summary>
    public Task ClickAsync(string code, string shopperId) =>
        SendAsync(HttpMethod.Post, $"/api/links/{code}/clicks", _platformKey, new { shopperId });

    /// <summary>Sets the quantity of a product in a shopper's cart (platform key).</summary>
    public Task SetCartQuantityAsync(string shopperId, string productId, int quantity) =>
        SendAsync(HttpMethod.Put, $"/api/carts/{shopperId}/items/{productId}", _platformKey, new { quantity });

    /// <summary>Checks a shopper's cart out (platform key); returns the receipt <c>{checkoutId, orders}</c>.</summary>
    public Task<JsonElement> CheckoutAsync(string shopperId, string idempotencyKey) =>
        SendAsync(HttpMethod.Post, $"/api/carts/{shopperId}/checkout", _platformKey, new { }, idempotencyKey);

    public Task<JsonElement> ShipAsync(Brand brand, string orderId) =>
        SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/ship", brand.ApiKey, null);

    public Task<JsonElement> DeliverAsync(Brand brand, string orderId) =>
        SendAsync(HttpMethod.Post, $"/api/orders/{orderId}/deliver", brand.ApiKey, null);

    /// <summary>An order's status (<c>GET /api/orders/{id}</c>, platform key).</summary>
    public async Task<string> GetOrderStatusAsync(string orderId)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/orders/{orderId}", _platformKey, null);
        return json.GetProperty("status").GetString()!;
    }

    /// <summary>An order as the platform reads it (<c>GET /api/orders/{id}</c>).</summary>
    public Task<JsonElement> GetOrderAsync(string orderId) =>
        SendAsync(HttpMethod.Get, $"/api/orders/{orderId}", _platformKey, null);

    /// <summary>A creator's payouts (<c>GET /api/creators/{id}/payouts</c>, its own key).</summary>
    public Task<JsonElement> GetCreatorPayoutsAsync(Creator creator) =>
        SendAsync(HttpMethod.Get, $"/api/creators/{creator.CreatorId}/payouts", creator.ApiKey, null);

    /// <summary>Starts (or, with a key used before, repeats) a payout run; returns the status (201 completed, 202 running) and the run.</summary>
    public async Task<(int Status, JsonElement Run)> StartPayoutRunAsync(string currency, long minimumMinor, string idempotencyKey)
    {
        var (status, text) = await SendForTextAsync(HttpMethod.Post, "/api/payouts/runs", _platformKey, new { currency, minimumMinor }, idempotencyKey);
        if (status is not (201 or 202))
        {
            throw new HttpRequestException($"POST /api/payouts/runs answered {status}: {Shorten(text)}");
        }
        using var document = JsonDocument.Parse(text);
        return (status, document.RootElement.Clone());
    }

    public Task<JsonElement> GetPayoutRunAsync(string runId) =>
        SendAsync(HttpMethod.Get, $"/api/payouts/runs/{runId}", _platformKey, null);

    /// <summary>An ad campaign of <paramref name="brand"/> in EUR, active from now, with no total budget; returns its id.</summary>
    public async Task<string> CreateCampaignAsync(Brand brand, string name, IReadOnlyList<string> productIds, long bidMinor, long dailyBudgetMinor)
    {
        var json = await SendAsync(HttpMethod.Post, $"/api/brands/{brand.BrandId}/campaigns", brand.ApiKey,
            new { name, productIds, bidMinor, currency = "EUR", dailyBudgetMinor });
        return json.GetProperty("campaignId").GetString()!;
    }

    /// <summary>A campaign as the platform reads it (<c>GET /api/campaigns/{id}</c>): spend, charged clicks, impressions.</summary>
    public async Task<CampaignFigures> GetCampaignAsync(string campaignId)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/campaigns/{campaignId}", _platformKey, null);
        return new CampaignFigures(json.GetProperty("spentMinor").GetInt64(), json.GetProperty("spentTodayMinor").GetInt64(),
            json.GetProperty("dailyBudgetMinor").GetInt64(), json.GetProperty("chargedClicks").GetInt64(), json.GetProperty("clicks").GetInt64(),
            json.GetProperty("impressions").GetInt64());
    }

    /// <summary>Ads placed for a shopper (<c>POST /api/ads/placements</c>, platform key), in the order the auction ranked them.</summary>
    public async Task<IReadOnlyList<PlacedAd>> PlaceAdsAsync(string shopperId, string slot, string? query, int count)
    {
        var json = await SendAsync(HttpMethod.Post, "/api/ads/placements", _platformKey, new { shopperId, slot, query, count });
        return json.GetProperty("ads").EnumerateArray().Select(a => new PlacedAd(a.GetProperty("adId").GetString()!, a.GetProperty("campaignId").GetString()!,
            a.GetProperty("productId").GetString()!, a.GetProperty("costPerClickMinor").GetInt64())).ToList();
    }

    /// <summary>A GET with the given key, whatever it answers: the status and, for a 2xx, the JSON body.</summary>
    public async Task<(int Status, JsonElement? Json, string Text)> TryGetAsync(string pathAndQuery, string bearer)
    {
        var (status, text) = await SendForTextAsync(HttpMethod.Get, pathAndQuery, bearer, null, null);
        if (status is < 200 or >= 300)
        {
            return (status, null, text);
        }
        using var document = JsonDocument.Parse(text);
        return (status, document.RootElement.Clone(), text);
    }

    public async Task<long> GetLinkClicksAsync(string code, Creator creator)
    {
        var json = await SendAsync(HttpMethod.Get, $"/api/links/{code}/stats", creator.ApiKey, null);
        return json.GetProperty("clicks").GetInt64();
    }

    /// <summary>Vetrina grain activations over all silos (<c>GET /api/cluster</c>).</summary>
    public async Task<long> GetActivationsAsync()
    {
        var json = await SendAsync(HttpMethod.Get, "/api/cluster", _platformKey, null);
        return json.GetProperty("silos").EnumerateArray().Sum(s => s.GetProperty("vetrinaActivations").GetInt64());
    }

    /// <summary>The engine's Prometheus scrape (<c>GET /metrics</c>, platform key).</summary>
    public async Task<EngineCounters> GetCountersAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _platformKey);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET /metrics answered {(int)response.StatusCode}: {text}");
        }
        return EngineCounters.Parse(text);
    }

    /// <summary>Sends a write again, same shopper and Idempotency-Key; returns the status (the first outcome, replayed).</summary>
    public async Task<int> ReplayAsync(Replay replay) => (await ReadReplayAsync(replay)).Status;

    /// <summary>Sends a write again, same shopper and Idempotency-Key; returns the status and the answer's body (the first outcome, replayed).</summary>
    public async Task<(int Status, string Body)> ReadReplayAsync(Replay replay)
    {
        using var request = new HttpRequestMessage(new HttpMethod(replay.Method), replay.Path)
        {
            Content = new StringContent(replay.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _platformKey);
        if (replay.IdempotencyKey is { } key)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? bearer, object? body, string? idempotencyKey = null)
    {
        var (status, text) = await SendForTextAsync(method, path, bearer, body, idempotencyKey);
        if (status is < 200 or >= 300)
        {
            throw new HttpRequestException($"{method} {path} answered {status}: {Shorten(text)}", null, (System.Net.HttpStatusCode)status);
        }
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private async Task<(int Status, string Text)> SendForTextAsync(HttpMethod method, string path, string? bearer, object? body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
