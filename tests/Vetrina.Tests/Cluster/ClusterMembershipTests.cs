namespace Vetrina.Tests.Cluster;

/// <summary>Operators add silos to a running cluster; a new silo joins, takes grains and the API keeps answering.</summary>
public sealed class ClusterMembershipTests : IAsyncLifetime
{
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(2, "grow");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_silo_added_under_load_joins_takes_grains_and_requests_keep_succeeding()
    {
        var api = _cluster.Api;
        var brand = await api.CreateBrandAsync();
        var creator = await api.CreateCreatorAsync();
        var products = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            products.Add(await api.CreateProductAsync(brand, priceMinor: 1000, stock: 10_000));
        }
        var codes = await Task.WhenAll(products.Select(p => api.CreateLinkAsync(creator, p)));

        // A steady load of one-tap buys runs while the third silo starts and joins.
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var bought = 0;
        var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested && n < 5_000; n++)
            {
                Reply reply;
                try
                {
                    reply = await api.BuyAsync(codes[(worker + n) % codes.Length], $"grow-{worker}-{n}");
                }
                catch (HttpRequestException e)
                {
                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                    continue;
                }
                if (reply.Status == HttpStatusCode.Created)
                {
                    Interlocked.Increment(ref bought);
                }
                else
                {
                    lock (failures)
                    {
                        failures.Add($"{(int)reply.Status} {reply.Raw}");
                    }
                }
            }
        })).ToArray();

        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref bought)), b => b >= 50, because: "the load is running");
        var newcomer = await _cluster.AddSiloAsync();
        var boughtWhenJoined = Volatile.Read(ref bought);

        // Requests entering through the new silo succeed.
        using var direct = new VetrinaClient(newcomer.Address, VetrinaServer.PlatformKey);
        foreach (var product in products)
        {
            (await direct.GetAsync($"/api/products/{product}", key: null)).Expect(HttpStatusCode.OK);
        }
        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref bought)), b => b >= boughtWhenJoined + 200,
            because: "buys keep succeeding after the silo joined");
        // Buys entering through the newcomer are decided by its own checkout desk.
        (await direct.BuyAsync(codes[0], "grow-through-newcomer")).Expect(HttpStatusCode.Created);
        Interlocked.Increment(ref bought);
        // Buys create no grains; new products are new grains, and some of them are placed on the newcomer.
        await Eventually.HoldsAsync(async () =>
        {
            await direct.CreateProductAsync(brand, priceMinor: 1000, stock: 1);
            return await ActivationsOnAsync(direct, newcomer);
        }, n => n > 0, because: "the new silo takes grains");
        stop.Cancel();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        var ready = (await direct.GetAsync("/health/ready", key: null)).Expect(HttpStatusCode.OK);
        Assert.Contains("active member", ready.Raw);
        var sold = 0;
        foreach (var product in products)
        {
            var view = await api.ProductAsync(product);
            Assert.Equal(10_000, view.GetProperty("available").GetInt32() + view.GetProperty("sold").GetInt32() + view.GetProperty("reserved").GetInt32());
            sold += view.GetProperty("sold").GetInt32();
        }
        Assert.Equal(bought, sold);
    }

    private static async Task<int> ActivationsOnAsync(VetrinaClient api, SiloProcess silo)
    {
        var report = (await api.GetAsync("/api/cluster")).Expect(HttpStatusCode.OK).Body.GetProperty("silos");
        return report.EnumerateArray()
            .Where(s => s.GetProperty("address").GetString()!.Contains($":{silo.SiloPort}:", StringComparison.Ordinal))
            .Sum(s => s.GetProperty("vetrinaActivations").GetInt32());
    }
}
