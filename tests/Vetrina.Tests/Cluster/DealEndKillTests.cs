using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Vetrina.Tests.Cluster;

/// <summary>
/// A flash deal ends while live buys are in flight on three silo processes, and the silo that hosts the deal is
/// SIGKILLed before the end. No order placed at or after <c>endsAt</c> carries the deal price, the deal's unsold units
/// go back to the product exactly once, and nothing is oversold. The silos run on the machine's clock (each process
/// has its own, so a fake clock cannot be shared across them): the deal lasts a few real seconds, and every wait is
/// on a condition with a deadline. The same rules under a fake clock, on one silo, are in <c>FlashDealClockTests</c>.
/// </summary>
public sealed class DealEndKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int ProductStock = 40_000;
    private const int DealUnits = 20_000;
    private const long PriceMinor = 3000;
    private const long DealPriceMinor = 1200;
    private const int DurationSeconds = 8;
    private const int Workers = 8;
    private static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AnswerDeadline = TimeSpan.FromSeconds(120);

    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(3, "dealkill",
        $"--Vetrina:Checkout:ReservationTimeout={ReservationTimeout:c}",
        "--Vetrina:Checkout:ReservationSweepInterval=00:00:01");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_deal_ending_while_buys_are_in_flight_and_its_silo_killed_sells_no_deal_price_after_its_end_and_returns_its_units_once()
    {
        var api = _cluster.Api;
        var brand = await api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await api.CreateProductAsync(brand, priceMinor: PriceMinor, stock: ProductStock);
        var creator = await api.CreateCreatorAsync();
        var session = await api.CreateLiveAsync(creator);
        (await api.PostAsync($"/api/lives/{session}/start", null, creator.Key)).Expect(HttpStatusCode.OK);
        (await api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, creator.Key)).Expect(HttpStatusCode.OK);
        var dealId = (await api.PostAsync($"/api/products/{product}/flash-deals",
            new { sessionId = session, dealPriceMinor = DealPriceMinor, units = DealUnits, perBuyerLimit = 1, durationSeconds = DurationSeconds }, brand.Key))
            .Expect(HttpStatusCode.Created).Str("dealId");
        var started = (await api.PostAsync($"/api/flash-deals/{dealId}/start", null, brand.Key)).Expect(HttpStatusCode.OK);
        var startsAt = DateTimeOffset.Parse(started.Str("startsAt"), CultureInfo.InvariantCulture);
        var endsAt = DateTimeOffset.Parse(started.Str("endsAt"), CultureInfo.InvariantCulture);

        // Shoppers buy one unit each, retrying a failed call with its key, until well past the deal's end.
        var orders = new ConcurrentBag<JsonElement>();
        var failedCalls = 0;
        var shopper = 0;
        var dealSalesAtKill = -1;
        var stopAt = endsAt + TimeSpan.FromSeconds(3);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            while (DateTimeOffset.UtcNow < stopAt)
            {
                var n = Interlocked.Increment(ref shopper);
                var (reply, failures) = await BuyUntilAnsweredAsync(api, session, product, $"dk-shopper-{n}", $"dk-key-{n}");
                Interlocked.Add(ref failedCalls, failures);
                if (reply.Status == HttpStatusCode.Created)
                {
                    orders.Add(reply.Body);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Conflict, reply.Status);
                }
            }
        })).ToArray();

        // Once the deal sells, the silo that hosts it dies while the load runs.
        await Eventually.HoldsAsync(() => Task.FromResult(orders.Count(IsDealOrder)), n => n >= 50, TimeSpan.FromSeconds(30),
            because: "the deal sells before its silo is killed");
        var victim = await _cluster.HostOfAsync("FlashDealGrain");
        await Eventually.HoldsAsync(() => Task.FromResult(api.InFlightTo(victim.Address)), n => n >= 2, TimeSpan.FromSeconds(30),
            because: "buys are in flight on the silo about to be killed");
        victim.Kill();
        dealSalesAtKill = orders.Count(IsDealOrder);
        await Task.WhenAll(workers);
        Assert.True(victim.HasExited);

        // Every answer is an order: at the deal price, of the deal, placed while it was active; or at the product's price.
        var all = orders.ToArray();
        var dealOrders = all.Where(IsDealOrder).ToArray();
        foreach (var order in all)
        {
            var line = order.GetProperty("lines")[0];
            var placedAt = order.GetProperty("createdAt").GetDateTimeOffset();
            if (IsDealOrder(order))
            {
                Assert.Equal(DealPriceMinor, line.GetProperty("unitPriceMinor").GetInt64());
                Assert.True(placedAt >= startsAt && placedAt < endsAt, $"deal order {order.GetProperty("orderId")} placed at {placedAt:O}, deal active {startsAt:O} – {endsAt:O}");
            }
            else
            {
                Assert.Equal(PriceMinor, line.GetProperty("unitPriceMinor").GetInt64());
            }
        }
        Assert.Equal(all.Length, all.Select(o => o.GetProperty("orderId").GetString()).Distinct().Count());
        Assert.True(dealOrders.Length > dealSalesAtKill, "the deal sold again after its silo died");
        Assert.Contains(all, o => !IsDealOrder(o) && o.GetProperty("createdAt").GetDateTimeOffset() >= endsAt);
        Assert.True(dealOrders.Length < DealUnits, "the deal sold out: its end returned nothing");

        // Once the dead silo's holds have timed out: the deal has ended and holds nothing; its unsold units are on the
        // product once (product and deal rows together still hold the product's stock, and the deal row only what it
        // sold), and each row sold exactly what the answers say.
        var deal = await Eventually.HoldsAsync(() => ReadAsync(api, $"flash-deals/{dealId}"), d => d.GetProperty("status").GetString() == "ended",
            deadline: TimeSpan.FromSeconds(90), because: "the deal's reminder or a buy ends it on a live silo");
        Assert.Equal(0, deal.GetProperty("remaining").GetInt32());
        var regularUnits = all.Length - dealOrders.Length;
        var dealRow = await Eventually.HoldsAsync(() => _cluster.Journal.ReadDealAsync(dealId), c => c!.Stock.Stocked == c.Stock.Sold,
            deadline: TimeSpan.FromSeconds(90), because: "units held past the end go back to the product once their windows settle or time out");
        var productRow = (await _cluster.Journal.ReadStockAsync(product))!;
        Assert.Equal(dealOrders.Length, dealRow!.Stock.Sold);
        Assert.Equal(regularUnits, productRow.Sold);
        Assert.Equal(ProductStock, productRow.Stocked + dealRow.Stock.Stocked);
        var view = await Eventually.HoldsAsync(() => ReadAsync(api, $"products/{product}"),
            v => v.GetProperty("reserved").GetInt32() == 0 && v.GetProperty("available").GetInt32() == ProductStock - dealOrders.Length - regularUnits,
            deadline: TimeSpan.FromSeconds(90), because: "the product's holds resolve and it learns of the units the deal gave back");
        Assert.Equal(regularUnits, view.GetProperty("sold").GetInt32());
        Assert.Equal(dealOrders.Length, dealRow.Buyers.Count);

        output.WriteLine($"{all.Length} orders ({dealOrders.Length} at the deal price, {dealSalesAtKill} before the kill), {failedCalls} failed calls retried; " +
            $"{DealUnits - dealOrders.Length} unsold deal units back on the product");
        Assert.True(failedCalls > 0, "no call failed: the silo died outside the load");
    }

    private static bool IsDealOrder(JsonElement order) => order.GetProperty("lines")[0].TryGetProperty("dealId", out var deal) && deal.ValueKind == JsonValueKind.String;

    /// <summary>A read retried on 503 while the cluster has not yet declared the dead silo gone.</summary>
    private static async Task<JsonElement> ReadAsync(VetrinaClient api, string path)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reply = await api.GetAsync($"/api/{path}");
            if (reply.Status != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > AnswerDeadline)
            {
                return reply.Expect(HttpStatusCode.OK).Body;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task<(Reply Reply, int Failures)> BuyUntilAnsweredAsync(VetrinaClient api, string session, string product, string shopperId, string key)
    {
        var failures = 0;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await api.LiveBuyAsync(session, shopperId, product, 1, key);
                if ((int)reply.Status < 500)
                {
                    return (reply, failures);
                }
                Assert.True(reply.IsProblem, reply.Raw);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // The connection died with the silo: the buy may or may not have been applied; its key decides.
            }
            failures++;
            if (deadline.Elapsed > AnswerDeadline)
            {
                throw new TimeoutException($"{shopperId} got no final answer in {AnswerDeadline} ({failures} failed calls).");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }
}
