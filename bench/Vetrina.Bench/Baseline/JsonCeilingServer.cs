using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json.Serialization;

namespace Vetrina.Bench.Baseline;

/// <summary>
/// The JSON ceiling: what the one-tap buy and the click would cost with nothing behind the HTTP layer. The same
/// routes, headers and bodies as the engine's, on ASP.NET Core minimal APIs with source-generated System.Text.Json:
/// the buy checks the bearer key and the Idempotency-Key header, takes its units from an in-memory counter
/// (409 problem+json when short) and answers 201 with an order as large as the engine's; the click answers 201 with a
/// click. No database, no grains, no idempotency store. Started by the benchmark as its own process:
/// <c>Vetrina.Bench json-ceiling-server --urls=... --key=... --stock=...</c>.
/// </summary>
public static partial class JsonCeilingServer
{
    public const string Command = "json-ceiling-server";

    // The engine's own limits and the shape of its ids (a prefix and 22 characters), so the bodies are as long.
    private const int MaxQuantity = 10_000;
    private const long PriceMinor = 4999;
    private const int CommissionBps = 1200;
    private const string BrandId = "b_JsonCeilingBrand0000000";
    private const string ProductId = "p_JsonCeilingProduct00000";
    private const string CreatorId = "c_JsonCeilingCreator00000";
    private static readonly TimeSpan AttributionWindow = TimeSpan.FromDays(7);

    /// <summary>What <c>GET /counts</c> answers, for the invariant checks.</summary>
    public sealed record Counts(int Stocked, int Available, long Clicks);

    public sealed record BuyBody(string? ShopperId, int? Quantity, string? PaymentToken);

    public sealed record ClickBody(string? ShopperId);

    public sealed record OrderLine(
        string ProductId, int Quantity, long UnitPriceMinor, string LinkCode, string CreatorId, int CommissionBps,
        long CommissionMinor, int RefundedQuantity, int CancelledQuantity);

    public sealed record Order(
        string OrderId, string ShopperId, string BrandId, string Status, string Currency, long TotalMinor, long RefundedMinor,
        DateTimeOffset CreatedAt, string PaymentId, IReadOnlyList<OrderLine> Lines);

    public sealed record Click(string Code, string ProductId, DateTimeOffset AttributedUntil);

    [JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(BuyBody))]
    [JsonSerializable(typeof(ClickBody))]
    [JsonSerializable(typeof(Order))]
    [JsonSerializable(typeof(Click))]
    [JsonSerializable(typeof(Counts))]
    public sealed partial class Json : JsonSerializerContext;

    /// <summary>The stock counter, the click counter and the key every request must carry.</summary>
    private sealed class Shelf(string platformKey, int stocked)
    {
        private readonly string _authorization = "Bearer " + platformKey;
        private readonly int _stocked = stocked;
        private int _available = stocked;
        private long _orders;
        private long _clicks;

        public bool Authorized(HttpRequest request) => string.Equals(request.Headers.Authorization.ToString(), _authorization, StringComparison.Ordinal);

        public bool TryTake(int quantity)
        {
            var available = Volatile.Read(ref _available);
            while (available >= quantity)
            {
                var seen = Interlocked.CompareExchange(ref _available, available - quantity, available);
                if (seen == available)
                {
                    return true;
                }
                available = seen;
            }
            return false;
        }

        public long NextOrder() => Interlocked.Increment(ref _orders);

        public void Clicked() => Interlocked.Increment(ref _clicks);

        public Counts Counts() => new(_stocked, Volatile.Read(ref _available), Interlocked.Read(ref _clicks));
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var key = builder.Configuration["key"] ?? throw new InvalidOperationException("--key is required.");
        var stock = int.Parse(builder.Configuration["stock"] ?? throw new InvalidOperationException("--stock is required."), System.Globalization.CultureInfo.InvariantCulture);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, Json.Default));
        // Problem answers as the engine writes them (application/problem+json with a traceId).
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(new Shelf(key, stock));
        var app = builder.Build();
        app.MapGet("/ready", () => TypedResults.Ok());
        app.MapGet("/counts", Read);
        app.MapPost("/api/links/{code}/buy", Buy);
        app.MapPost("/api/links/{code}/clicks", RecordClick);
        await app.RunAsync();
        return 0;
    }

    private static Results<Created<Order>, ProblemHttpResult> Buy(string code, BuyBody body, HttpRequest request, Shelf shelf)
    {
        if (!shelf.Authorized(request))
        {
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized");
        }
        if (string.IsNullOrEmpty(request.Headers["Idempotency-Key"].ToString()))
        {
            return TypedResults.Problem(statusCode: 400, title: "Malformed request", detail: "The Idempotency-Key header is required.");
        }
        if (string.IsNullOrEmpty(body.ShopperId) || body.Quantity is not (> 0 and <= MaxQuantity))
        {
            return TypedResults.Problem(statusCode: 400, title: "Malformed request");
        }
        var quantity = body.Quantity.Value;
        if (!shelf.TryTake(quantity))
        {
            return TypedResults.Problem(statusCode: 409, title: "Not enough stock", detail: $"Product '{ProductId}' has too few units available; {quantity} requested.");
        }
        var number = shelf.NextOrder();
        var orderId = $"o_{number:D22}";
        var line = new OrderLine(ProductId, quantity, PriceMinor, code, CreatorId, CommissionBps, PriceMinor * CommissionBps / 10_000 * quantity, 0, 0);
        var order = new Order(orderId, body.ShopperId, BrandId, "paid", "EUR", PriceMinor * quantity, 0, DateTimeOffset.UtcNow, $"pay_k_{number:D22}", [line]);
        return TypedResults.Created($"/api/orders/{orderId}", order);
    }

    private static Results<Created<Click>, ProblemHttpResult> RecordClick(string code, ClickBody body, HttpRequest request, Shelf shelf)
    {
        if (!shelf.Authorized(request))
        {
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized");
        }
        if (string.IsNullOrEmpty(body.ShopperId))
        {
            return TypedResults.Problem(statusCode: 400, title: "Malformed request");
        }
        shelf.Clicked();
        return TypedResults.Created($"/api/links/{code}", new Click(code, ProductId, DateTimeOffset.UtcNow + AttributionWindow));
    }

    private static Results<Ok<Counts>, ProblemHttpResult> Read(HttpRequest request, Shelf shelf) =>
        shelf.Authorized(request) ? TypedResults.Ok(shelf.Counts()) : TypedResults.Problem(statusCode: 401, title: "Unauthorized");
}
