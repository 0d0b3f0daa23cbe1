using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Vetrina.Tests.Observability;

/// <summary>
/// Vetrina's meter is static, so a meter provider sees what every engine in the process records; these tests run
/// alone to read exact values.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "telemetry (runs alone)";
}

/// <summary>
/// Reads what the engine exports, through in-memory exporters added next to its own: one trace from the HTTP request
/// through every grain call of a checkout down to PostgreSQL, and Vetrina's metrics with the values the requests imply.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class TelemetryTests : IAsyncLifetime
{
    private readonly CapturedCollection<Activity> _spans = new();
    private readonly CapturedCollection<MetricSnapshot> _metrics = new();
    private VetrinaServer _server = null!;

    public async Task InitializeAsync()
    {
        var database = await TestPostgres.CreateDatabaseAsync("telemetry");
        _server = await VetrinaServer.StartAsync("postgres",
            settings: new Dictionary<string, string>
            {
                ["Vetrina:PostgresConnectionString"] = database,
                // No OTLP endpoint here: the in-memory exporter reads what would be sent.
                ["Vetrina:Telemetry:TraceSampleRatio"] = "1",
            },
            services: services =>
            {
                services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
                services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
            });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task One_trace_follows_a_checkout_from_the_HTTP_request_through_its_grain_calls_to_the_database()
    {
        var api = _server.Api;
        var brand = await api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await api.CreateProductAsync(brand, priceMinor: 2500, stock: 10);
        var code = await api.CreateLinkAsync(await api.CreateCreatorAsync(), product);
        await api.ClickAsync(code, "traced-shopper");
        await api.PutInCartAsync("traced-shopper", product, 2);

        ActivityTraceId traceId;
        using (var caller = new Activity("test checkout").SetIdFormat(ActivityIdFormat.W3C))
        {
            // The platform's own trace, sampled: its traceparent header makes the engine continue it.
            caller.ActivityTraceFlags = ActivityTraceFlags.Recorded;
            caller.Start();
            traceId = caller.TraceId;
            (await api.CheckoutAsync("traced-shopper")).Expect(HttpStatusCode.Created);
        }

        var spans = await Eventually.HoldsAsync(
            () => Task.FromResult(_spans.Snapshot().Where(s => s.TraceId == traceId).ToList()),
            found => found.Any(IsCheckoutRequest) && found.Any(s => s.DisplayName.EndsWith("IProductGrain/SettleAsync", StringComparison.Ordinal)),
            because: "the checkout's server span and its grain calls are exported");
        var request = Assert.Single(spans, IsCheckoutRequest);
        var names = string.Join("\n", spans.Select(s => $"{s.Source.Name} {s.Kind} {s.DisplayName}"));

        Assert.Equal(201, request.GetTagItem("http.response.status_code"));
        // The checkout desk decides it in a commit window, whose span continues the request's trace.
        Assert.Contains(spans, s => s.Source.Name == "Vetrina" && s.DisplayName == "checkout window");
        foreach (var call in new[] { "ICartGrain/GetCheckoutItemsAsync", "IProductGrain/ReserveAsync", "IProductGrain/SettleAsync", "ICartGrain/RemoveBoughtAsync" })
        {
            Assert.True(spans.Any(s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.EndsWith(call, StringComparison.Ordinal)),
                $"no span for {call} in the trace:\n{names}");
        }
        Assert.True(spans.Any(s => s.Source.Name == "Npgsql"), $"no database span in the trace:\n{names}");
        // Every span of the engine descends from the HTTP request: one trace, not fragments sharing an id.
        var byId = spans.ToDictionary(s => s.SpanId);
        foreach (var span in spans.Where(s => s.StartTimeUtc >= request.StartTimeUtc && s != request && s.Source.Name != "System.Net.Http"))
        {
            var ancestor = span;
            while (ancestor != request && byId.TryGetValue(ancestor.ParentSpanId, out var parent))
            {
                ancestor = parent;
            }
            Assert.True(ancestor == request, $"{span.Source.Name} {span.DisplayName} does not descend from the request:\n{names}");
        }
    }

    [Fact]
    public async Task Vetrinas_metrics_count_checkouts_by_outcome_stock_refusals_commission_and_clicks()
    {
        var api = _server.Api;
        var brand = await api.CreateBrandAsync(defaultCommissionBps: 1000);
        // NOK is used by no other test, so commission in NOK is this test's alone.
        var product = await api.CreateProductAsync(brand, priceMinor: 2500, currency: "NOK", stock: 3);
        var creator = await api.CreateCreatorAsync();
        var code = await api.CreateLinkAsync(creator, product);

        await api.ClickAsync(code, "metered-1");
        await api.PutInCartAsync("metered-1", product, 2);
        var order = (await api.CheckoutAsync("metered-1")).Expect(HttpStatusCode.Created).Body.GetProperty("orders")[0].GetProperty("orderId").GetString();
        (await api.BuyAsync(code, "metered-2", quantity: 5)).Expect(HttpStatusCode.Conflict);
        (await api.BuyAsync(code, "metered-3", quantity: 1, paymentToken: "tok_decline")).Expect(HttpStatusCode.PaymentRequired);
        var replayKey = Guid.NewGuid().ToString("N");
        (await api.BuyAsync(code, "metered-4", quantity: 1, idempotencyKey: replayKey)).Expect(HttpStatusCode.Created);
        (await api.BuyAsync(code, "metered-4", quantity: 1, idempotencyKey: replayKey)).Expect(HttpStatusCode.Created);
        (await api.PostAsync($"/api/orders/{order}/cancel", null)).Expect(HttpStatusCode.OK);
        await Eventually.HoldsAsync(() => api.EarningsAsync(creator.Id, "NOK"), e => e.Pending == 250 && e.Reversed == 500,
            because: "the journal's projection reaches the ledger within a second");

        _server.Services.GetRequiredService<MeterProvider>().ForceFlush();
        var latest = _metrics.Snapshot().GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last());

        // floor(2500 × 2 × 1000 / 10000) = 500 for the cart checkout, 250 for the one-tap buy; the cancellation reverses 500.
        Assert.Equal(1, Sum(latest, "vetrina.checkouts", ("vetrina.checkout.kind", "cart"), ("vetrina.checkout.outcome", "completed")));
        Assert.Equal(1, Sum(latest, "vetrina.checkouts", ("vetrina.checkout.kind", "buy"), ("vetrina.checkout.outcome", "completed")));
        Assert.Equal(1, Sum(latest, "vetrina.checkouts", ("vetrina.checkout.kind", "buy"), ("vetrina.checkout.outcome", "conflict")));
        Assert.Equal(1, Sum(latest, "vetrina.checkouts", ("vetrina.checkout.kind", "buy"), ("vetrina.checkout.outcome", "payment_declined")));
        Assert.Equal(1, Sum(latest, "vetrina.stock.refusals"));
        Assert.Equal(750, Sum(latest, "vetrina.commission.accrued", ("vetrina.currency", "NOK")));
        Assert.Equal(500, Sum(latest, "vetrina.commission.reversed", ("vetrina.currency", "NOK")));
        // One click, and each one-tap buy that reached the link counts one (the replay does not).
        Assert.Equal(4, Sum(latest, "vetrina.clicks"));
        Assert.True(HistogramCount(latest, "vetrina.group_commit.batch_size") > 0, "group commits record their batch sizes");
        Assert.True(HistogramCount(latest, "vetrina.group_commit.flush.duration") > 0, "group commits record their flush durations");
        // Flushes take milliseconds: the buckets must resolve them, not start at 5 s as the exporters' defaults would.
        Assert.Contains(0.001, Bounds(latest, "vetrina.group_commit.flush.duration"));
        Assert.True(HistogramCount(latest, "http.server.request.duration") > 0, "ASP.NET Core's request durations are collected");
        Assert.Contains(latest.Keys, name => name.StartsWith("orleans-", StringComparison.Ordinal) || name.StartsWith("orleans.", StringComparison.Ordinal));
    }

    private static bool IsCheckoutRequest(Activity span) =>
        span.Kind == ActivityKind.Server && span.GetTagItem("http.route") as string == "/api/carts/{shopperId}/checkout";

    private static long Sum(Dictionary<string, MetricSnapshot> metrics, string name, params (string Key, string Value)[] tags)
    {
        Assert.True(metrics.TryGetValue(name, out var metric), $"{name} was not exported; exported: {string.Join(", ", metrics.Keys)}");
        long sum = 0;
        foreach (var point in metric.MetricPoints)
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }
            if (tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value)))
            {
                sum += point.GetSumLong();
            }
        }
        return sum;
    }

    private static List<double> Bounds(Dictionary<string, MetricSnapshot> metrics, string name)
    {
        var bounds = new List<double>();
        foreach (var bucket in metrics[name].MetricPoints[0].GetHistogramBuckets())
        {
            bounds.Add(bucket.ExplicitBound);
        }
        return bounds;
    }

    private static long HistogramCount(Dictionary<string, MetricSnapshot> metrics, string name)
    {
        Assert.True(metrics.TryGetValue(name, out var metric), $"{name} was not exported; exported: {string.Join(", ", metrics.Keys)}");
        return metric.MetricPoints.Sum(p => p.GetHistogramCount());
    }
}
