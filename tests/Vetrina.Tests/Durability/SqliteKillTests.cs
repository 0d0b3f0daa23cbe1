using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Vetrina.Tests.Durability;

/// <summary>
/// The embedded default killed with SIGKILL in the middle of a viral sale, then started again on its SQLite file.
/// Every shopper whose call broke retries it with the same Idempotency-Key once the silo is back, as the contract
/// tells platforms to. Afterwards every answered order is there once, stock is what was stocked less what the
/// orders hold, and the creator's ledger is the formula over the orders: the dead run's unprojected batches are
/// projected by the new run once the dead writer goes stale.
/// </summary>
public sealed class SqliteKillTests(ITestOutputHelper output) : IAsyncDisposable
{
    private const int Stock = 400;
    private const int Buys = 500;
    private const int Concurrency = 16;
    private const int Commission = 1200;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "vetrina-kill-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_silo_killed_mid_sale_keeps_every_answered_order_once_and_its_ledger_exact_after_restart()
    {
        await using var first = await StartAsync();
        using var api = new VetrinaClient(first.Address, VetrinaServer.PlatformKey, () => first.Address);
        var brand = await api.CreateBrandAsync(defaultCommissionBps: Commission);
        var product = await api.CreateProductAsync(brand, priceMinor: 2500, stock: Stock);
        var creator = await api.CreateCreatorAsync();
        var code = await api.CreateLinkAsync(creator, product);
        var plan = Enumerable.Range(0, Buys).Select(i => (Shopper: $"kill-{i}", Key: $"key-{i}", Quantity: 1 + i % 3)).ToArray();

        // Before the kill: buys run until one breaks, which leaves it unanswered.
        var answers = new ConcurrentDictionary<int, Reply>();
        var unanswered = new ConcurrentBag<int>();
        var next = -1;
        var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < plan.Length; i = Interlocked.Increment(ref next))
            {
                if (i == Buys / 3)
                {
                    await Eventually.HoldsAsync(() => Task.FromResult(api.InFlightTo(first.Address)), n => n >= 3, TimeSpan.FromSeconds(30),
                        because: "requests of the load are in flight when the silo is killed");
                    first.Kill();
                }
                try
                {
                    var reply = await api.BuyAsync(code, plan[i].Shopper, plan[i].Quantity, plan[i].Key);
                    if ((int)reply.Status >= 500)
                    {
                        unanswered.Add(i);
                        continue;
                    }
                    answers[i] = reply;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    unanswered.Add(i);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.True(first.HasExited);
        Assert.NotEmpty(unanswered);

        // After the restart: every broken call again with its key, as a retrying platform would.
        var restarted = Stopwatch.StartNew();
        await using var second = await StartAsync();
        using var again = new VetrinaClient(second.Address, VetrinaServer.PlatformKey);
        foreach (var i in unanswered)
        {
            answers[i] = await again.BuyAsync(code, plan[i].Shopper, plan[i].Quantity, plan[i].Key);
        }
        Assert.All(answers.Values, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var created = answers.Where(a => a.Value.Status == HttpStatusCode.Created).ToArray();

        // Each answered order is stored once and paid; a replay of an answered key gives the same order.
        var orders = new List<JsonElement>();
        foreach (var (i, reply) in created)
        {
            var order = await again.OrderAsync(reply.Str("orderId"));
            Assert.Equal("paid", order.GetProperty("status").GetString());
            orders.Add(order);
        }
        Assert.Equal(created.Length, orders.Select(o => o.GetProperty("orderId").GetString()).Distinct().Count());
        foreach (var (i, reply) in created.Take(20))
        {
            Assert.Equal(reply.Str("orderId"), (await again.BuyAsync(code, plan[i].Shopper, plan[i].Quantity, plan[i].Key)).Expect(HttpStatusCode.Created).Str("orderId"));
        }

        // Stock: what the orders hold is sold, exactly, once the dead run's reservations are resolved.
        var units = orders.Sum(o => o.GetProperty("lines")[0].GetProperty("quantity").GetInt32());
        var view = await Eventually.HoldsAsync(() => again.ProductAsync(product), v => v.GetProperty("reserved").GetInt32() == 0,
            because: "the dead run's reservations are resolved from the journal");
        Assert.Equal((units, Stock - units), (view.GetProperty("sold").GetInt32(), view.GetProperty("available").GetInt32()));

        // The ledger is the formula over the orders: nothing the dead run committed is lost, nothing counted twice.
        var expected = orders.Sum(o => 2500L * o.GetProperty("lines")[0].GetProperty("quantity").GetInt64() * Commission / 10_000);
        await Eventually.ProjectedAsync((expected, 0L, 0L, 0L), () => again.EarningsAsync(creator.Id, "EUR"), TimeSpan.FromSeconds(60));
        output.WriteLine($"{created.Length} orders, {answers.Count - created.Length} refused, {unanswered.Count} calls broken by the kill; " +
            $"ledger exact {restarted.Elapsed.TotalSeconds:F1} s after the restart began");
    }

    private async Task<SiloProcess> StartAsync()
    {
        var silo = SiloProcess.Start([
            "--environment=Production",
            $"--Vetrina:PlatformKey={VetrinaServer.PlatformKey}",
            "--Vetrina:Storage=sqlite",
            $"--Vetrina:DataDirectory={_dataDirectory}",
            "--Vetrina:Journal:WriterStaleAfter=00:00:03",
            "--Vetrina:Journal:WriterCheckInterval=00:00:01",
            "--Vetrina:Checkout:ReservationTimeout=00:00:03",
            "--Vetrina:Checkout:ReservationSweepInterval=00:00:01",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return silo;
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        return ValueTask.CompletedTask;
    }
}
