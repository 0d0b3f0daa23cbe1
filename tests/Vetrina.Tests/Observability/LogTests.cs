using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using Vetrina.Grains.Payments;

namespace Vetrina.Tests.Observability;

/// <summary>
/// Logs are structured records that carry the trace of the request they belong to, and no key or payment token ever
/// appears in one, at any level down to Debug, including the warnings of a request that timed out.
/// </summary>
public sealed class LogTests
{
    [Fact]
    public async Task Logs_carry_the_requests_trace_id_and_never_a_key_or_token()
    {
        var logs = new CapturedCollection<LogRecord>();
        var gateway = new TestPaymentGateway(held: true);
        await using var server = await VetrinaServer.StartAsync(
            settings: new Dictionary<string, string>
            {
                ["Logging:LogLevel:Default"] = "Debug",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
                ["Logging:LogLevel:Orleans"] = "Debug",
                ["Vetrina:Limits:RequestTimeout"] = "00:00:01",
            },
            services: services =>
            {
                services.AddSingleton<IPaymentGateway>(gateway);
                services.ConfigureOpenTelemetryLoggerProvider(provider => provider.AddInMemoryExporter(logs));
            });
        var api = server.Api;
        var brand = await api.CreateBrandAsync();
        var creator = await api.CreateCreatorAsync();
        var product = await api.CreateProductAsync(brand, stock: 5);
        var code = await api.CreateLinkAsync(creator, product);
        (await api.GetAsync($"/api/creators/{creator.Id}/earnings", creator.Key)).Expect(HttpStatusCode.OK);
        var paymentToken = "tok_secret_" + Guid.NewGuid().ToString("N");
        var guessedKey = "b_guessed0000000000000000." + Guid.NewGuid().ToString("N");

        var refusedTrace = await TracedAsync(async () =>
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync($"/api/brands/{brand.Id}", guessedKey)).Status));
        var timedOutTrace = await TracedAsync(async () =>
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await api.BuyAsync(code, "logged-shopper", idempotencyKey: "logged-1", paymentToken: paymentToken)).Status));
        gateway.Release();
        (await api.BuyAsync(code, "logged-shopper", idempotencyKey: "logged-1", paymentToken: paymentToken)).Expect(HttpStatusCode.Created);

        var timedOut = await Eventually.HoldsAsync(
            () => Task.FromResult(logs.Snapshot().Where(l => l.CategoryName == "Vetrina.Silo.Defaults.RequestLimits").ToList()),
            found => found.Count > 0, because: "the timed-out request logs a warning");
        var warning = Assert.Single(timedOut);
        Assert.Equal(LogLevel.Warning, warning.LogLevel);
        Assert.Equal(timedOutTrace, warning.TraceId);
        Assert.Contains(warning.Attributes!, a => a.Key == "Route" && a.Value as string == "/api/links/{code}/buy");
        Assert.Contains(logs.Snapshot(), l => l.TraceId == refusedTrace && l.CategoryName!.StartsWith("Vetrina.Api.Auth", StringComparison.Ordinal));

        var secrets = new[] { VetrinaServer.PlatformKey, brand.Key, creator.Key, brand.Key.Split('.')[1], creator.Key.Split('.')[1], paymentToken, guessedKey };
        var records = logs.Snapshot();
        Assert.True(records.Count > 100, $"only {records.Count} records: the test must look at the engine's debug logs");
        foreach (var record in records)
        {
            var text = Text(record);
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a secret was logged by {record.CategoryName}: {text}");
            }
        }
    }

    private static async Task<ActivityTraceId> TracedAsync(Func<Task> request)
    {
        using var caller = new Activity("test request").SetIdFormat(ActivityIdFormat.W3C);
        caller.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        caller.Start();
        await request();
        return caller.TraceId;
    }

    /// <summary>Everything a log record could show: message, template values, scopes and exception.</summary>
    private static string Text(LogRecord record)
    {
        var parts = new List<string?> { record.FormattedMessage, record.Body, record.Exception?.ToString() };
        parts.AddRange(record.Attributes?.Select(a => $"{a.Key}={a.Value}") ?? []);
        record.ForEachScope((scope, state) =>
        {
            state.Add(scope.Scope?.ToString());
            foreach (var item in scope)
            {
                state.Add($"{item.Key}={item.Value}");
            }
        }, parts);
        return string.Join(" | ", parts);
    }
}
