using System.Diagnostics;
using System.Globalization;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>Activations and memory of the silo at one moment; the live heap only between load phases.</summary>
public sealed record MemorySample(double Seconds, string Phase, long Activations, long ResidentBytes, long? LiveHeapBytes);

/// <summary>Memory per activation: (memory delta) / (activation delta) between two samples.</summary>
public sealed record PerActivation(double? ResidentBytes, double? LiveHeapBytes);

public sealed record WideCatalogReport(
    int Products, double CreatedPerSecond, int Shoppers, double ZipfExponent, string IdleTimeoutSetting,
    IReadOnlyList<MemorySample> Samples, PerActivation ProductActivation, PerActivation TrafficActivation, string DeactivationNote);

public sealed partial class ScenarioRunner
{
    private const int WideBrands = 10;
    private const int WideStock = 1_000_000;
    private const int CreateConcurrency = 64;

    private async Task WideCatalogAsync(PointResult point, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(EngineMode.Memory, [$"--Vetrina:GrainCollection:CollectionAge={options.IdleTimeout}", "--Vetrina:GrainCollection:CollectionQuantum=00:00:05"]);
        var client = vetrina.Client;
        var clock = Stopwatch.StartNew();
        var samples = new List<MemorySample>();
        async Task<MemorySample> SampleAsync(string phase, bool liveHeap = false)
        {
            var heap = liveHeap ? await LiveHeap.MeasureAsync(vetrina.Server.Pid, TimeSpan.FromSeconds(30)) : null;
            var sample = new MemorySample(clock.Elapsed.TotalSeconds, phase, await client.GetActivationsAsync(), ProcessCpu.ResidentBytes(vetrina.Server.Pid), heap);
            lock (samples)
            {
                samples.Add(sample);
            }
            return sample;
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var started = await SampleAsync("started", liveHeap: true);

        // The catalog, created through the API with many requests in flight.
        var brands = new Brand[WideBrands];
        for (var b = 0; b < WideBrands; b++)
        {
            brands[b] = await client.CreateBrandAsync($"Wide brand {b}", CommissionBps);
        }
        var productIds = new string[options.WideProducts];
        var next = -1;
        var creating = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, CreateConcurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < productIds.Length)
            {
                productIds[i] = await client.CreateProductAsync(brands[i % WideBrands], $"W{i:D7}", PriceMinor, WideStock);
                if ((i + 1) % 20_000 == 0)
                {
                    Console.WriteLine($"   {i + 1} products created");
                }
            }
        })));
        var createdPerSecond = productIds.Length / creating.Elapsed.TotalSeconds;
        point.Figures["products created/s"] = createdPerSecond;
        var catalog = await SampleAsync("catalog created", liveHeap: true);

        // Zipf-skewed traffic: reads and buys over the whole catalog by a million shoppers.
        var zipf = new Zipf(productIds.Length, options.ZipfExponent);
        var idBytes = productIds.Select(RequestBuilder.Ascii).ToArray();
        var ledger = new WriteLedger(productIds.Length);
        var requests = Requests(vetrina);
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await SampleAsync("traffic");
            }
        });
        var load = await LoadAsync(vetrina.Server,
            [new ConnectionGroup("catalog", c, ZipfCatalog.Kinds,
                i => new ZipfCatalog(requests, idBytes, zipf, options.WideShoppers, i, c, options.WideReadShare, ledger))]);
        await sampling.CancelAsync();
        await sampler;
        Record(point, load, "Zipf reads and buys (all requests)");
        foreach (var kind in load.Groups[0].Kinds)
        {
            point.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{kind.Kind}: {kind.PerSecond:F0}/s, p50 {kind.Latency.P50:F1} ms, p99 {kind.Latency.P99:F1} ms"));
        }
        var traffic = await SampleAsync("traffic over", liveHeap: true);

        // Idle: do activations (and memory) go down again?
        var idleUntil = clock.Elapsed + options.IdleObserve;
        while (clock.Elapsed < idleUntil - TimeSpan.FromSeconds(5))
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            await SampleAsync("idle");
        }
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idle = await SampleAsync("idle", liveHeap: true);

        point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
        point.Checks.AddRange(await CheckCatalogStockAsync(client, productIds, ledger));

        static PerActivation Per(MemorySample from, MemorySample to) => to.Activations <= from.Activations
            ? new PerActivation(null, null)
            : new PerActivation(
                (double)(to.ResidentBytes - from.ResidentBytes) / (to.Activations - from.Activations),
                to.LiveHeapBytes - from.LiveHeapBytes is { } heap ? (double)heap / (to.Activations - from.Activations) : null);
        var dropped = traffic.Activations - idle.Activations;
        var note = dropped > 0
            ? $"{dropped} of {traffic.Activations} activations were deactivated within {options.IdleObserve.TotalSeconds:F0} s of idleness: live heap {Mb(traffic.LiveHeapBytes)} → {Mb(idle.LiveHeapBytes)} MB, resident memory {Mb(traffic.ResidentBytes)} → {Mb(idle.ResidentBytes)} MB (the GC may keep freed memory reserved)."
            : $"No activation was deactivated within {options.IdleObserve.TotalSeconds:F0} s of idleness. The silo was started with --Vetrina:GrainCollection:CollectionAge={options.IdleTimeout}; an engine without that setting keeps Orleans' default collection age, far longer than this window, and Orleans collects idle grains only once per collection quantum.";
        point.Notes.Add(note);
        point.Notes.Add($"{ledger.Succeeded} successful buys on {ledger.SoldPerProduct.Count(s => s > 0)} distinct products; top 1% of products draw {zipf.ShareOfTop(productIds.Length / 100) * 100:F0}% of the traffic");
        WideCatalog = new WideCatalogReport(productIds.Length, createdPerSecond, options.WideShoppers, options.ZipfExponent,
            options.IdleTimeout, samples.OrderBy(s => s.Seconds).ToList(), Per(started, catalog), Per(catalog, traffic), note);
    }

    private static string Mb(long? bytes) => bytes is { } b ? (b / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture) : "?";

    /// <summary>Every product that was bought, and a sample of those that were not, against the driver's counts.</summary>
    private static async Task<List<Check>> CheckCatalogStockAsync(VetrinaClient client, string[] productIds, WriteLedger ledger)
    {
        var random = new Random(42);
        var toCheck = Enumerable.Range(0, productIds.Length)
            .Where(i => ledger.SoldPerProduct[i] > 0)
            .Concat(Enumerable.Range(0, 200).Select(_ => random.Next(productIds.Length)))
            .Distinct()
            .ToArray();
        var figures = new StockFigures[productIds.Length];
        var pending = toCheck;
        var until = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (true)
        {
            var next = -1;
            var batch = pending;
            await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                int k;
                while ((k = Interlocked.Increment(ref next)) < batch.Length)
                {
                    figures[batch[k]] = await client.GetStockAsync(productIds[batch[k]]);
                }
            })));
            pending = batch.Where(i => figures[i].Sold != ledger.SoldPerProduct[i] || figures[i].Reserved != 0).ToArray();
            if (pending.Length == 0 || Stopwatch.GetTimestamp() > until)
            {
                break;
            }
            await Task.Delay(500);
        }
        var wrongSold = toCheck.Where(i => figures[i].Sold != ledger.SoldPerProduct[i]).ToList();
        var oversold = toCheck.Where(i => figures[i].Sold > figures[i].Stocked || figures[i].Available < 0).ToList();
        var unbalanced = toCheck.Where(i => figures[i].Available + figures[i].Sold + figures[i].Reserved != figures[i].Stocked).ToList();
        var held = toCheck.Where(i => figures[i].Reserved != 0).ToList();
        string Detail(List<int> wrong) => wrong.Count == 0
            ? $"{toCheck.Length} products checked"
            : $"{wrong.Count} of {toCheck.Length} products, e.g. {productIds[wrong[0]]}: {figures[wrong[0]]}, successful buys {ledger.SoldPerProduct[wrong[0]]}";
        return
        [
            new("sold equals successful buys, per product", wrongSold.Count == 0, Detail(wrongSold)),
            new("no oversell", oversold.Count == 0, Detail(oversold)),
            new("available + sold + reserved = stocked", unbalanced.Count == 0, Detail(unbalanced)),
            new("no stock stays held", held.Count == 0, Detail(held)),
        ];
    }
}
