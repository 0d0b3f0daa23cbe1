using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Vetrina.Tests.Cluster;

/// <summary>
/// Three silo processes share a throwaway PostgreSQL; one is killed with SIGKILL in the middle of a sale. Every
/// shopper retries a failed call with the same Idempotency-Key until it gets an answer, as the contract tells
/// platforms to. Afterwards the invariants of product.md hold over everything that was answered, and a live
/// session that sold during the kill counts each of its orders once.
/// </summary>
public sealed class SiloFailureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int HotStock = 300;
    private const int ColdStock = 1_000;
    private const int Buys = 700;
    private const int Concurrency = 16;
    private static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AnswerDeadline = TimeSpan.FromSeconds(120);

    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(3, "kill",
        $"--Vetrina:Checkout:ReservationTimeout={ReservationTimeout:c}",
        "--Vetrina:Checkout:ReservationSweepInterval=00:00:01");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_silo_killed_mid_sale_loses_no_answered_order_oversells_nothing_and_pays_commission_exactly_once()
    {
        var api = _cluster.Api;
        var brand = await api.CreateBrandAsync(defaultCommissionBps: 1500);
        var hotCreator = await api.CreateCreatorAsync();
        var otherCreator = await api.CreateCreatorAsync();
        var hot = new Stocked(await api.CreateProductAsync(brand, priceMinor: 1999, stock: HotStock), HotStock);
        var hotCode = await api.CreateLinkAsync(hotCreator, hot.ProductId);
        var cold = new List<(Stocked Product, string Code)>();
        for (var i = 0; i < 3; i++)
        {
            var product = new Stocked(await api.CreateProductAsync(brand, priceMinor: 1000 + 250 * i, stock: ColdStock), ColdStock);
            cold.Add((product, await api.CreateLinkAsync(otherCreator, product.ProductId)));
        }

        // The hot creator is also live, selling a product of its own in the session.
        var live = new Stocked(await api.CreateProductAsync(brand, priceMinor: 2999, stock: ColdStock), ColdStock);
        var session = await api.CreateLiveAsync(hotCreator);
        (await api.PostAsync($"/api/lives/{session}/start", null, hotCreator.Key)).Expect(HttpStatusCode.OK);
        (await api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { live.ProductId } }, hotCreator.Key)).Expect(HttpStatusCode.OK);

        // Two buys in three go to the hot product; quantities 1–3 so that its stock runs out during the run. Half of
        // the others are live buys in the session.
        var plan = Enumerable.Range(0, Buys).Select(i => i % 6 == 5
            ? new PlannedBuy($"kill-shopper-{i}", $"key-{i}", "", 1 + i % 2, session, live.ProductId)
            : i % 3 == 2
            ? new PlannedBuy($"kill-shopper-{i}", $"key-{i}", cold[i % cold.Count].Code, 1 + i % 2)
            : new PlannedBuy($"kill-shopper-{i}", $"key-{i}", hotCode, 1 + i % 3)).ToArray();

        var answers = new ConcurrentDictionary<PlannedBuy, Reply>();
        var failedCalls = 0;
        var next = -1;
        var victim = _cluster.Silos[1];
        var killed = new TaskCompletionSource();
        var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < plan.Length; i = Interlocked.Increment(ref next))
            {
                if (i == Buys / 3)
                {
                    // Killed while it serves some of the load, so that the kill really breaks calls in flight.
                    await Eventually.HoldsAsync(() => Task.FromResult(api.InFlightTo(victim.Address)), n => n >= 3, TimeSpan.FromSeconds(30),
                        because: "requests of the load are in flight on the silo about to be killed");
                    // Buys sent straight to the victim, still unanswered when it dies: a buy takes milliseconds, so
                    // the load's own in-flight calls may all have been answered by the time the signal lands.
                    using var direct = new VetrinaClient(victim.Address, VetrinaServer.PlatformKey);
                    var doomed = Enumerable.Range(0, 8).Select(k => new PlannedBuy($"kill-doomed-{k}", $"doomed-key-{k}", hotCode, 1)).ToArray();
                    var sent = doomed.Select(buy => direct.BuyAsync(buy.Code, buy.ShopperId, buy.Quantity, buy.IdempotencyKey)).ToArray();
                    victim.Kill();
                    killed.SetResult();
                    for (var k = 0; k < doomed.Length; k++)
                    {
                        var broken = 0;
                        try
                        {
                            if ((int)(await sent[k]).Status >= 500)
                            {
                                broken = 1;
                            }
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                        {
                            broken = 1;
                        }
                        var (retried, retries) = await BuyUntilAnsweredAsync(api, doomed[k]);
                        Interlocked.Add(ref failedCalls, broken + retries);
                        answers[doomed[k]] = retried;
                    }
                }
                var (reply, failures) = await BuyUntilAnsweredAsync(api, plan[i]);
                Interlocked.Add(ref failedCalls, failures);
                answers[plan[i]] = reply;
            }
        })).ToArray();
        await Task.WhenAll(workers);
        Assert.True(killed.Task.IsCompleted);
        Assert.True(victim.HasExited);

        // Units the dead silo held come back on sale once its reservations time out; new shoppers buy what is left of
        // the hot product until it is refused, so its last unit is sold exactly once whatever the load's timing.
        await Eventually.HoldsAsync(() => ReadAsync(api, hot.ProductId), v => v.GetProperty("reserved").GetInt32() == 0,
            deadline: TimeSpan.FromSeconds(90), because: "the dead silo's holds on the hot product time out");
        for (var k = 0; ; k++)
        {
            var last = new PlannedBuy($"kill-last-{k}", $"last-key-{k}", hotCode, 1);
            var (reply, _) = await BuyUntilAnsweredAsync(api, last);
            answers[last] = reply;
            if (reply.Status == HttpStatusCode.Conflict)
            {
                break;
            }
            reply.Expect(HttpStatusCode.Created);
        }

        // Every answer is final: created, out of stock, or declined. Nothing else reaches a retrying shopper.
        Assert.All(answers.Values, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var created = answers.Where(a => a.Value.Status == HttpStatusCode.Created).ToDictionary(a => a.Key, a => a.Value);

        // Retrying an answered buy with its key replays the same order: exactly once.
        foreach (var (buy, reply) in created.Take(40))
        {
            var again = (await BuyUntilAnsweredAsync(api, buy)).Reply.Expect(HttpStatusCode.Created);
            Assert.Equal(reply.Str("orderId"), again.Str("orderId"));
        }

        // Every order answered 201 is readable and paid, and there is one per answered buy.
        var orders = new List<JsonElement>();
        foreach (var reply in created.Values)
        {
            var order = await ReadAsync(api, reply.Str("orderId"), "orders");
            Assert.Equal("paid", order.GetProperty("status").GetString());
            orders.Add(order);
        }
        Assert.Equal(created.Count, orders.Select(o => o.GetProperty("orderId").GetString()).Distinct().Count());

        // Stock: once the reservation time has passed nothing stays held, and what is sold is what was answered.
        foreach (var product in cold.Select(c => c.Product).Prepend(hot).Append(live))
        {
            var view = await Eventually.HoldsAsync(() => ReadAsync(api, product.ProductId), v => v.GetProperty("reserved").GetInt32() == 0,
                deadline: TimeSpan.FromSeconds(90), because: $"holds on {product.ProductId} are resolved after the reservation time");
            var sold = view.GetProperty("sold").GetInt32();
            Assert.Equal(product.Stock, view.GetProperty("available").GetInt32() + sold);
            Assert.InRange(sold, 0, product.Stock);
            Assert.Equal(UnitsOrdered(orders, product.ProductId), sold);
        }
        var hotView = await ReadAsync(api, hot.ProductId);
        Assert.Equal(HotStock, hotView.GetProperty("sold").GetInt32());
        Assert.Equal(0, hotView.GetProperty("available").GetInt32());
        Assert.Contains(answers.Values, r => r.Status == HttpStatusCode.Conflict);

        // Every creator's ledger equals the formula over its orders, paid once (effects reach ledgers asynchronously).
        foreach (var creator in new[] { hotCreator, otherCreator })
        {
            var expected = orders.SelectMany(o => o.GetProperty("lines").EnumerateArray())
                .Where(l => l.TryGetProperty("creatorId", out var c) && c.GetString() == creator.Id)
                .Sum(l => l.GetProperty("unitPriceMinor").GetInt64() * l.GetProperty("quantity").GetInt64() * 1500 / 10_000);
            Assert.True(expected > 0);
            await Eventually.HoldsAsync(() => api.EarningsAsync(creator.Id, "EUR"), e => e == (expected, 0L, 0L, 0L),
                deadline: TimeSpan.FromSeconds(60), because: $"creator {creator.Id} earns {expected} pending");
        }

        // The session's stats count each live order once, through the kill and the take-over of the dead silo's writer.
        var liveLines = orders.SelectMany(o => o.GetProperty("lines").EnumerateArray())
            .Where(l => l.TryGetProperty("liveSessionId", out var s) && s.GetString() == session).ToArray();
        Assert.NotEmpty(liveLines);
        var (units, gmv, commission) = (liveLines.Sum(l => l.GetProperty("quantity").GetInt64()),
            liveLines.Sum(l => l.GetProperty("unitPriceMinor").GetInt64() * l.GetProperty("quantity").GetInt64()),
            liveLines.Sum(l => l.GetProperty("commissionMinor").GetInt64()));
        await Eventually.HoldsAsync(() => api.GetAsync($"/api/lives/{session}/stats", hotCreator.Key),
            r => r.Number("orders") == liveLines.Length && r.Number("units") == units && r.Number("gmvMinor") == gmv && r.Number("commissionMinor") == commission,
            deadline: TimeSpan.FromSeconds(60), because: $"the session counts its {liveLines.Length} live orders once");

        // The kill really hit the load: some calls failed and were retried with their keys.
        output.WriteLine($"{created.Count} orders, {answers.Count - created.Count} refused for stock, {failedCalls} failed calls retried, " +
            $"hot product sold {hotView.GetProperty("sold").GetInt32()} of {HotStock}");
        Assert.True(failedCalls > 0, "no call failed: the silo died outside the load");
    }

    /// <summary>
    /// Reads a product (or an order) as a platform would right after a silo died: a 503 while the cluster has not yet
    /// declared the dead silo gone is retried, as the contract says.
    /// </summary>
    private static async Task<JsonElement> ReadAsync(VetrinaClient api, string id, string collection = "products")
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reply = await api.GetAsync($"/api/{collection}/{id}");
            if (reply.Status != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > AnswerDeadline)
            {
                return reply.Expect(HttpStatusCode.OK).Body;
            }
            Assert.True(reply.IsProblem, reply.Raw);
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Sends the buy until it gets a final answer, retrying 5xx and broken connections with the same key.</summary>
    private static async Task<(Reply Reply, int Failures)> BuyUntilAnsweredAsync(VetrinaClient api, PlannedBuy buy)
    {
        var failures = 0;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = buy.SessionId is { } session
                    ? await api.LiveBuyAsync(session, buy.ShopperId, buy.ProductId!, buy.Quantity, buy.IdempotencyKey)
                    : await api.BuyAsync(buy.Code, buy.ShopperId, buy.Quantity, buy.IdempotencyKey);
                if ((int)reply.Status < 500)
                {
                    return (reply, failures);
                }
                Assert.True(reply.IsProblem, reply.Raw);
            }
            catch (HttpRequestException)
            {
                // The connection died with the silo: the request may or may not have been applied.
            }
            catch (TaskCanceledException)
            {
                // The client gave up waiting: same as above.
            }
            failures++;
            if (deadline.Elapsed > AnswerDeadline)
            {
                throw new TimeoutException($"{buy} got no final answer in {AnswerDeadline} ({failures} failed calls).");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static long UnitsOrdered(IEnumerable<JsonElement> orders, string productId) =>
        orders.SelectMany(o => o.GetProperty("lines").EnumerateArray())
            .Where(l => l.GetProperty("productId").GetString() == productId)
            .Sum(l => l.GetProperty("quantity").GetInt64());

    private sealed record Stocked(string ProductId, int Stock);

    private sealed record PlannedBuy(string ShopperId, string IdempotencyKey, string Code, int Quantity, string? SessionId = null, string? ProductId = null);
}
