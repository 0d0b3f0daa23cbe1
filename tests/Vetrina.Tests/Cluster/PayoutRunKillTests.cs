using System.Diagnostics;
using Xunit.Abstractions;

namespace Vetrina.Tests.Cluster;

/// <summary>
/// A payout run over 80 creators on three PostgreSQL silo processes; the silo that hosts the run is SIGKILLed while it
/// is half-way. The run resumes on another silo (its reminder), and repeats of its key answer it once it finished:
/// every creator is paid exactly once, exactly its settled commission, and the run's payouts are all of them.
/// </summary>
public sealed class PayoutRunKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Creators = 80;
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(3, "payoutkill",
        "--Vetrina:Payouts:PageSize=4",
        "--Vetrina:Payouts:Parallelism=2",
        "--Vetrina:Payouts:PagePause=00:00:00.2",
        "--Vetrina:Payouts:ResumeInterval=00:00:02",
        "--Vetrina:Payouts:AnswerWithin=00:00:00.2");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_payout_run_whose_silo_is_killed_mid_run_resumes_and_pays_each_creator_once()
    {
        var api = _cluster.Api;
        var brand = await api.CreateBrandAsync(defaultCommissionBps: 1000, returnWindowDays: 0);
        var expected = new Dictionary<string, long>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Creators), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var product = await api.CreateProductAsync(brand, priceMinor: 20_000 + 100 * i, stock: 10);
            var creator = await api.CreateCreatorAsync();
            var code = await api.CreateLinkAsync(creator, product);
            var order = (await api.BuyAsync(code, $"payout-kill-{i}")).Expect(HttpStatusCode.Created).Str("orderId");
            (await api.PostAsync($"/api/orders/{order}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
            (await api.PostAsync($"/api/orders/{order}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
            lock (expected)
            {
                expected[creator.Id] = (20_000 + 100 * i) / 10;
            }
        });
        foreach (var (creatorId, commission) in expected)
        {
            await Eventually.HoldsAsync(() => api.EarningsAsync(creatorId, "EUR"), e => e.Settled == commission, TimeSpan.FromSeconds(60));
        }

        var key = Guid.NewGuid().ToString("N");
        var started = (await api.PostAsync("/api/payouts/runs", new { currency = "EUR" }, idempotencyKey: key)).Expect(HttpStatusCode.Accepted);
        Assert.Equal("running", started.Str("status"));
        var victim = await _cluster.HostOfAsync("PayoutRunGrain");
        var progress = (await api.GetAsync($"/api/payouts/runs/{started.Str("runId")}")).Expect(HttpStatusCode.OK);
        Assert.True(progress.Number("creatorsVisited") < Creators, $"the run was still under way at the kill: {progress.Raw}");
        victim.Kill();
        output.WriteLine($"killed the run's silo after {progress.Number("creatorsVisited")} creators");

        // Repeats of the key (503 while the cluster has not declared the silo dead) until the run has finished.
        var deadline = Stopwatch.StartNew();
        Reply finished;
        while (true)
        {
            finished = await api.PostAsync("/api/payouts/runs", new { currency = "EUR" }, idempotencyKey: key);
            if (finished.Status == HttpStatusCode.Created)
            {
                break;
            }
            Assert.True(finished.Status is HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable, finished.Raw);
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(2), $"the run did not finish: {finished.Raw}");
            await Task.Delay(200);
        }

        var paid = finished.Body.GetProperty("payouts").EnumerateArray()
            .Where(p => expected.ContainsKey(p.GetProperty("creatorId").GetString()!))
            .ToDictionary(p => p.GetProperty("creatorId").GetString()!, p => p.GetProperty("amountMinor").GetInt64());
        Assert.Equal(expected.OrderBy(e => e.Key), paid.OrderBy(e => e.Key));
        foreach (var (creatorId, commission) in expected)
        {
            var balance = await api.EarningsAsync(creatorId, "EUR");
            Assert.Equal((0L, commission), (balance.Settled, balance.Paid));
            var payouts = (await api.GetAsync($"/api/creators/{creatorId}/payouts")).Expect(HttpStatusCode.OK).Body;
            Assert.Equal(1, payouts.GetArrayLength());
        }
    }
}
