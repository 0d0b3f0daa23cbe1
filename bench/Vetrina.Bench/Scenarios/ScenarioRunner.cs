using System.Globalization;
using Vetrina.Bench.Baseline;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;
using Vetrina.Bench.Report;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// Runs the scenarios of issue 4. Every run (a scenario, a series, a concurrency) gets a fresh engine process
/// (and in PostgreSQL modes a fresh database) and its own product, creator and link, so each run's invariants
/// are checked on its own numbers and no run inherits another's activations.
/// </summary>
public sealed partial class ScenarioRunner(BenchOptions options, Engines engines, RunContext context)
{
    public const long PriceMinor = 4999;
    public const int CommissionBps = 1200;
    public const long UnitCommission = PriceMinor * CommissionBps / 10_000;
    public const int HugeStock = 1_000_000_000;

    public const string Ceiling = "HTTP ceiling (GET /health/live)";
    public const string HotRow = "Hot-row PostgreSQL baseline";

    public List<PointResult> Results { get; } = [];

    public WideCatalogReport? WideCatalog { get; private set; }

    /// <summary>What this run could not measure on this machine, and why (e.g. no pgbench).</summary>
    public List<string> Skipped { get; } = [];

    public static string ViralBuy(EngineMode mode) => $"Vetrina viral buy, {EngineModes.Label(mode)}";

    public static string Click(EngineMode mode) => $"Vetrina click, {EngineModes.Label(mode)}";

    public static string FunnelSeries(EngineMode mode) => $"Vetrina viral funnel, {EngineModes.Label(mode)}";

    public static string HotRead(EngineMode mode) => $"Vetrina hot read under write storm, {EngineModes.Label(mode)}";

    public async Task RunAsync()
    {
        var durableModes = options.Modes.Where(m => m is EngineMode.Memory or EngineMode.Postgres).ToList();
        if (options.Runs("ceiling"))
        {
            foreach (var c in options.Concurrency)
            {
                await MeasureAsync("ceiling", Ceiling, c, p => CeilingAsync(p, c));
            }
        }
        if (options.Runs("json-ceiling"))
        {
            foreach (var c in options.Concurrency)
            {
                await MeasureAsync("json-ceiling", JsonBuyCeiling, c, p => JsonBuyCeilingAsync(p, c));
                await MeasureAsync("json-ceiling", JsonClickCeiling, c, p => JsonClickCeilingAsync(p, c));
            }
        }
        if (options.Runs("viral-buy"))
        {
            foreach (var mode in options.Modes)
            {
                foreach (var c in options.Concurrency)
                {
                    await MeasureAsync("viral-buy", ViralBuy(mode), c, p => ViralBuyAsync(p, mode, c));
                }
            }
        }
        if (options.Runs("hot-row"))
        {
            foreach (var c in options.Concurrency)
            {
                await MeasureAsync("hot-row", HotRow, c, p => HotRowAsync(p, c));
            }
        }
        if (options.Runs("pgbench"))
        {
            if (PgBench.Find() is { } pgbench)
            {
                foreach (var c in options.Concurrency)
                {
                    await MeasureAsync("pgbench", PgBenchHotRow, c, p => PgBenchHotRowAsync(p, pgbench, c));
                }
            }
            else
            {
                Skipped.Add("pgbench hot-row: no pgbench on PATH (Debian's postgresql package has it in /usr/lib/postgresql/<version>/bin)");
                Console.WriteLine($"== Skipped: {Skipped[^1]}");
            }
        }
        if (options.Runs("click"))
        {
            foreach (var mode in durableModes)
            {
                foreach (var c in options.Concurrency)
                {
                    await MeasureAsync("click", Click(mode), c, p => ClickAsync(p, mode, c));
                }
            }
        }
        if (options.Runs("funnel"))
        {
            foreach (var mode in durableModes)
            {
                foreach (var c in options.Concurrency)
                {
                    await MeasureAsync("funnel", FunnelSeries(mode), c, p => FunnelAsync(p, mode, c));
                }
            }
        }
        if (options.Runs("hot-read"))
        {
            foreach (var mode in durableModes)
            {
                await MeasureAsync("hot-read", HotRead(mode), options.MaxConcurrency, p => HotReadAsync(p, mode, options.MaxConcurrency));
            }
        }
        if (options.Runs("wide-catalog"))
        {
            await MeasureAsync("wide-catalog", "Vetrina wide catalog, memory", options.MaxConcurrency, p => WideCatalogAsync(p, options.MaxConcurrency));
        }
        if (options.Runs("live-streams"))
        {
            await MeasureAsync("live-streams", LiveStreamsSeries, options.Streams, p => LiveStreamsAsync(p, options.Streams));
        }
        if (options.Runs("payout-run"))
        {
            await MeasureAsync("payout-run", PayoutRunSeries, SetupWorkers, p => PayoutRunAsync(p, options.PayoutCreators));
        }
        if (options.Runs("report"))
        {
            await MeasureAsync("report", ReportSeries, ReportBuyConnections, p => CreatorReportAsync(p, options.ReportOrders));
        }
        if (options.Runs("ad-storm"))
        {
            await MeasureAsync("ad-storm", AdStormSeries(EngineMode.Memory), options.MaxConcurrency, p => AdStormAsync(p, EngineMode.Memory, options.MaxConcurrency, options.AdCampaigns));
        }
    }

    private async Task MeasureAsync(string scenario, string series, int concurrency, Func<PointResult, Task> run)
    {
        var point = new PointResult(scenario, series, concurrency);
        Console.WriteLine($"== {series}, {concurrency} connections ({context.Commit}, {context.Machine})");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await run(point);
        }
        catch (Exception e)
        {
            point.Failure = e.Message;
        }
        Results.Add(point);
        ConsoleReport.Print(point);
        Console.WriteLine($"   (this run took {clock.Elapsed.TotalSeconds:F0} s, engine start and checks included)");
    }

    private List<ProcessCpu> Watched(ServerProcess server)
    {
        var watched = new List<ProcessCpu> { ProcessCpu.Of("server", server.Pid) };
        if (PostmasterPid() is { } postmaster)
        {
            watched.Add(ProcessCpu.PostgresServer(postmaster));
        }
        return watched;
    }

    private int? PostmasterPid()
    {
        if (options.PostgresDataDirectory is not { } data)
        {
            return null;
        }
        try
        {
            var first = File.ReadLines(Path.Combine(data, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A load on <paramref name="server"/>; <paramref name="during"/> starts with the measured window.</summary>
    private Task<LoadResult> LoadAsync(ServerProcess server, IReadOnlyList<ConnectionGroup> groups, Func<Task>? during = null) =>
        LoadRun.RunAsync(server.EndPoint, groups, options.Warmup, options.Duration, options.RequestTimeout, Watched(server), options.MaxRequests, during);

    private static VetrinaRequests Requests(RunningVetrina vetrina) => new($"127.0.0.1:{vetrina.Server.Port}", vetrina.PlatformKey);

    private sealed record HotProduct(Brand Brand, string ProductId, Creator Creator, string Code);

    private static async Task<HotProduct> SetUpHotProductAsync(VetrinaClient client, string name)
    {
        var brand = await client.CreateBrandAsync($"Bench brand {name}", CommissionBps);
        var product = await client.CreateProductAsync(brand, $"HOT-{name}", PriceMinor, HugeStock);
        var creator = await client.CreateCreatorAsync($"@bench_{name}");
        var code = await client.CreateLinkAsync(creator, product);
        return new HotProduct(brand, product, creator, code);
    }

    private static void Record(PointResult point, LoadResult load, params string[] labels)
    {
        point.Load ??= load;
        for (var i = 0; i < load.Groups.Count; i++)
        {
            point.Measurements.Add(new Measurement(i < labels.Length ? labels[i] : load.Groups[i].Name, load.Groups[i]));
        }
    }

    private async Task CeilingAsync(PointResult point, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(EngineMode.Memory);
        var request = Requests(vetrina).Get("/health/live");
        var load = await LoadAsync(vetrina.Server, [new ConnectionGroup("live", c, ["GET /health/live"], _ => new FixedRequest(request))]);
        Record(point, load, "GET /health/live");
    }

    private async Task ViralBuyAsync(PointResult point, EngineMode mode, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(mode);
        var hot = await SetUpHotProductAsync(vetrina.Client, $"viral{c}");
        var ledger = new WriteLedger();
        var requests = Requests(vetrina);
        var counters = new PerBuyProbe(vetrina.Client, ledger, options.Duration);
        await counters.PrepareAsync();
        var load = await LoadAsync(vetrina.Server,
            [new ConnectionGroup("buy", c, ["POST /api/links/{code}/buy"], i => new ViralBuys(requests, hot.Code, $"vb{c}", i, ledger))],
            counters.RunAsync);
        Record(point, load, "POST /api/links/{code}/buy");
        point.PerBuy = counters.Result;
        if (counters.Failure is { } failure)
        {
            point.Notes.Add($"per-buy counters: {failure}");
        }
        await CheckHotProductAsync(point, vetrina.Client, hot, ledger);
    }

    private static async Task CheckHotProductAsync(PointResult point, VetrinaClient client, HotProduct hot, WriteLedger ledger, bool clicks = false)
    {
        point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
        point.Checks.AddRange(await Invariants.CheckStockAsync(client, hot.ProductId, ledger.Succeeded));
        point.Checks.Add(await Invariants.CheckEarningsAsync(client, hot.Creator, ledger.Succeeded, UnitCommission));
        if (clicks)
        {
            point.Checks.Add(await Invariants.CheckClicksAsync(client, hot.Code, hot.Creator, ledger));
        }
        point.Notes.Add($"{ledger.Succeeded} successful buys over the whole run (warm-up included), {ledger.Refused} refused");
    }

    private async Task HotRowAsync(PointResult point, int c)
    {
        await using var baseline = await engines.StartHotRowAsync(HugeStock, c);
        var ledger = new WriteLedger();
        var requests = new VetrinaRequests($"127.0.0.1:{baseline.Server.Port}", "unused");
        var load = await LoadAsync(baseline.Server,
            [new ConnectionGroup("buy", c, ["POST buy (one transaction)"], i => new ViralBuys(requests, "hot", $"hr{c}", i, ledger))]);
        Record(point, load, "POST buy: UPDATE stock + INSERT order");
        using (var client = new VetrinaClient(baseline.Server.Address, "unused"))
        {
            point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
        }
        point.Checks.AddRange(await Invariants.CheckHotRowAsync(baseline.Database, ledger.Succeeded, "successful buys"));
    }

    private async Task ClickAsync(PointResult point, EngineMode mode, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(mode);
        var hot = await SetUpHotProductAsync(vetrina.Client, $"click{c}");
        var ledger = new WriteLedger();
        var requests = Requests(vetrina);
        var load = await LoadAsync(vetrina.Server,
            [new ConnectionGroup("click", c, ["POST /api/links/{code}/clicks"], i => new LinkClicks(requests, hot.Code, $"ck{c}", i, ledger))]);
        Record(point, load, "POST /api/links/{code}/clicks");
        point.Checks.Add(await Invariants.CheckClicksAsync(vetrina.Client, hot.Code, hot.Creator, ledger));
        point.Notes.Add($"{ledger.Clicks} clicks answered 201 over the whole run, {ledger.UnknownClicks} lost answers");
    }

    private async Task FunnelAsync(PointResult point, EngineMode mode, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(mode);
        var hot = await SetUpHotProductAsync(vetrina.Client, $"funnel{c}");
        var ledger = new WriteLedger();
        var requests = Requests(vetrina);
        var load = await LoadAsync(vetrina.Server,
            [new ConnectionGroup("funnel", c, Funnel.Kinds, i => new Funnel(requests, hot.Code, hot.ProductId, $"fn{c}", i, ledger))]);
        Record(point, load, "click → cart → checkout (all requests)");
        var checkouts = load.Groups[0].Kinds[2];
        point.Figures["checkouts/s"] = checkouts.PerSecond;
        foreach (var kind in load.Groups[0].Kinds)
        {
            point.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{kind.Kind}: {kind.PerSecond:F0}/s, p50 {kind.Latency.P50:F1} ms, p99 {kind.Latency.P99:F1} ms"));
        }
        await CheckHotProductAsync(point, vetrina.Client, hot, ledger, clicks: true);
    }

    private async Task HotReadAsync(PointResult point, EngineMode mode, int c)
    {
        await using var vetrina = await engines.StartVetrinaAsync(mode);
        var hot = await SetUpHotProductAsync(vetrina.Client, $"hotread{c}");
        var idleProduct = await vetrina.Client.CreateProductAsync(hot.Brand, "IDLE", PriceMinor, HugeStock);
        var ledger = new WriteLedger();
        var requests = Requests(vetrina);
        var hotRead = requests.Get($"/api/products/{hot.ProductId}");
        var idleRead = requests.Get($"/api/products/{idleProduct}");
        var readers = options.ReadConnections;
        var storm = await LoadAsync(vetrina.Server,
        [
            new ConnectionGroup("buy", c, ["POST /api/links/{code}/buy"], i => new ViralBuys(requests, hot.Code, $"hr{c}", i, ledger)),
            new ConnectionGroup("hot reads", readers, ["GET hot product"], _ => new FixedRequest(hotRead)) { Interval = options.ReadInterval },
            new ConnectionGroup("idle reads", readers, ["GET idle product"], _ => new FixedRequest(idleRead)) { Interval = options.ReadInterval },
        ]);
        Record(point, storm, "write storm: viral buy", "GET hot product, during the storm", "GET idle product, during the storm");
        var quiet = await LoadRun.RunAsync(vetrina.Server.EndPoint,
            [new ConnectionGroup("quiet reads", readers, ["GET idle product"], _ => new FixedRequest(idleRead)) { Interval = options.ReadInterval }],
            TimeSpan.FromSeconds(2), options.Duration, options.RequestTimeout, Watched(vetrina.Server), options.MaxRequests);
        point.Measurements.Add(new Measurement("GET idle product, no storm", quiet.Groups[0]));
        var hotP99 = storm.Groups[1].Latency.P99;
        var idleP99 = storm.Groups[2].Latency.P99;
        point.Figures["hot read p99 ms"] = hotP99;
        point.Figures["idle read p99 ms"] = idleP99;
        point.Figures["quiet idle read p99 ms"] = quiet.Groups[0].Latency.P99;
        point.Figures["hot/idle p99"] = idleP99 > 0 ? hotP99 / idleP99 : double.NaN;
        point.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"readers: {readers} connections on each product, one read per {options.ReadInterval.TotalMilliseconds:F0} ms each"));
        await CheckHotProductAsync(point, vetrina.Client, hot, ledger);
        point.Checks.AddRange(Invariants.StockChecks(await vetrina.Client.GetStockAsync(idleProduct), 0, "idle product: "));
    }
}
