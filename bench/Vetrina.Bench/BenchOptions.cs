using System.Globalization;
using Vetrina.Bench.Engine;

namespace Vetrina.Bench;

/// <summary>The benchmark's settings, from <c>--name value</c> arguments; every one has a default.</summary>
public sealed class BenchOptions
{
    /// <summary>What runs when --scenarios is not given.</summary>
    public static readonly string[] DefaultScenarios = ["ceiling", "json-ceiling", "viral-buy", "hot-row", "pgbench", "click", "funnel", "hot-read", "wide-catalog"];

    /// <summary>Scenarios that run only when --scenarios names them (they would take the default run past its time).</summary>
    public static readonly string[] OptInScenarios = ["live-streams", "payout-run", "report", "ad-storm"];

    public static readonly string[] AllScenarios = [.. DefaultScenarios, .. OptInScenarios];

    public const string Usage = """
        Usage: bash bench/run.sh [options]
          --scenarios LIST        ceiling,json-ceiling,viral-buy,hot-row,pgbench,click,funnel,hot-read,wide-catalog,
                                  live-streams,payout-run,report,ad-storm (default: all but the opt-in live-streams, about
                                  1 minute more and --streams + 4096 open files per process, payout-run and report, each
                                  many minutes of set-up in PostgreSQL mode, and ad-storm; json-ceiling runs the JSON buy
                                  and click ceilings, pgbench is skipped when there is no pgbench on PATH)
          --modes LIST            engine modes: memory,postgres,postgres-one-write (default: all three; viral buy runs in
                                  each, click/funnel/hot-read in memory and postgres, wide catalog in memory)
          --concurrency LIST      connections of the closed loop (default 8,32,128)
          --duration SECONDS      measured window of each run (default 10)
          --warmup SECONDS        warm-up before each window (default 5)
          --timeout SECONDS       a request without an answer by then counts as a time-out (default 30)
          --max-requests N        a run stops sending after N requests, whatever the time (default 10000000)
          --read-connections N    hot read: reader connections on each of the hot and the idle product (default 4)
          --read-interval-ms N    hot read: each reader sends one read per interval (default 10)
          --wide-products N       wide catalog: products created through the API (default 100000)
          --wide-shoppers N       wide catalog: distinct shopper ids (default 1000000)
          --wide-read-share X     wide catalog: share of product reads, the rest are buys (default 0.8)
          --zipf S                wide catalog: Zipf exponent over products (default 1.0)
          --idle-timeout SPAN     passed as --Vetrina:GrainCollection:CollectionAge to the wide-catalog silo (default 00:00:30)
          --idle-observe SECONDS  wide catalog: how long memory and activations are watched after the load (default 60)
          --streams N             live streams: event streams opened to one live session, one socket each (default 10000;
                                  bash bench/run.sh raises the soft limit of open files to N + 4096 when it can)
          --pin-changes K         live streams: pin changes sent once the streams are open (default 20)
          --pin-interval-ms N     live streams: time between two pin changes (default 500)
          --live-buy-connections N
                                  live streams: connections of the live buy load, run with the streams open and again
                                  with none (default 32; 0 skips both)
          --deal-units N          live streams: units of the flash deal sold out by 128 connections of live buys while the
                                  streams are open (default 5000; 0 skips it)
          --payout-creators N     payout run: creators with settled commission, paid in one run (default 100000; a
                                  multiple of 100: 100 creators share each order)
          --report-orders N       report: one-tap buys attributed to the one creator whose report is read (default 1000000)
          --ad-campaigns N        ad storm: campaigns over 20 brands and 1,000 products, created through the API (default 10000)
          --out DIR               where latest.md, latest.json, throughput.png and logs go (default bench/results)
        Environment: VETRINA_BENCH_POSTGRES (server connection string), VETRINA_BENCH_PGDATA (its data folder, for its CPU share).
        """;

    public IReadOnlyList<string> Scenarios { get; private set; } = DefaultScenarios;

    public IReadOnlyList<EngineMode> Modes { get; private set; } = [EngineMode.Memory, EngineMode.Postgres, EngineMode.PostgresOneWrite];

    public IReadOnlyList<int> Concurrency { get; private set; } = [8, 32, 128];

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RequestTimeout { get; private set; } = TimeSpan.FromSeconds(30);

    public long MaxRequests { get; private set; } = 10_000_000;

    public int ReadConnections { get; private set; } = 4;

    public TimeSpan ReadInterval { get; private set; } = TimeSpan.FromMilliseconds(10);

    public int WideProducts { get; private set; } = 100_000;

    public int WideShoppers { get; private set; } = 1_000_000;

    public double WideReadShare { get; private set; } = 0.8;

    public double ZipfExponent { get; private set; } = 1.0;

    public string IdleTimeout { get; private set; } = "00:00:30";

    public TimeSpan IdleObserve { get; private set; } = TimeSpan.FromSeconds(60);

    public int Streams { get; private set; } = 10_000;

    public int PinChanges { get; private set; } = 20;

    public TimeSpan PinInterval { get; private set; } = TimeSpan.FromMilliseconds(500);

    public int LiveBuyConnections { get; private set; } = 32;

    public int DealUnits { get; private set; } = 5_000;

    public int PayoutCreators { get; private set; } = 100_000;

    public int ReportOrders { get; private set; } = 1_000_000;

    public int AdCampaigns { get; private set; } = 10_000;

    public string OutputDirectory { get; private set; } = Path.Combine("bench", "results");

    public string LogDirectory => Path.Combine(OutputDirectory, "logs");

    public string? PostgresServer { get; private set; } = Environment.GetEnvironmentVariable("VETRINA_BENCH_POSTGRES");

    public string? PostgresDataDirectory { get; private set; } = Environment.GetEnvironmentVariable("VETRINA_BENCH_PGDATA");

    public string RepositoryRoot { get; private set; } = FindRepositoryRoot();

    public string SiloDll => Path.Combine(RepositoryRoot, "src", "Silo", "bin", "Release", "net10.0", "Vetrina.Silo.dll");

    public string BenchDll => typeof(BenchOptions).Assembly.Location;

    public int MaxConcurrency => Concurrency.Max();

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--scenarios":
                    options.Scenarios = List(Value());
                    foreach (var s in options.Scenarios.Where(s => !AllScenarios.Contains(s)))
                    {
                        throw new ArgumentException($"Unknown scenario '{s}'.");
                    }
                    break;
                case "--modes": options.Modes = List(Value()).Select(EngineModes.Parse).ToList(); break;
                case "--concurrency": options.Concurrency = List(Value()).Select(int.Parse).Order().ToList(); break;
                case "--duration": options.Duration = Seconds(Value()); break;
                case "--warmup": options.Warmup = Seconds(Value()); break;
                case "--timeout": options.RequestTimeout = Seconds(Value()); break;
                case "--max-requests": options.MaxRequests = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--read-connections": options.ReadConnections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--read-interval-ms": options.ReadInterval = TimeSpan.FromMilliseconds(double.Parse(Value(), CultureInfo.InvariantCulture)); break;
                case "--wide-products": options.WideProducts = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--wide-shoppers": options.WideShoppers = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--wide-read-share": options.WideReadShare = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--zipf": options.ZipfExponent = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--idle-timeout": options.IdleTimeout = Value(); break;
                case "--idle-observe": options.IdleObserve = Seconds(Value()); break;
                case "--streams": options.Streams = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--pin-changes": options.PinChanges = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--pin-interval-ms": options.PinInterval = TimeSpan.FromMilliseconds(double.Parse(Value(), CultureInfo.InvariantCulture)); break;
                case "--live-buy-connections": options.LiveBuyConnections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--deal-units": options.DealUnits = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--payout-creators": options.PayoutCreators = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--report-orders": options.ReportOrders = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--ad-campaigns": options.AdCampaigns = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--out": options.OutputDirectory = Value(); break;
                default: throw new ArgumentException($"Unknown option '{name}'.");
            }
        }
        if (options.Concurrency.Count == 0 || options.Concurrency.Any(c => c < 1))
        {
            throw new ArgumentException("--concurrency needs positive numbers.");
        }
        if (options.Streams < 1 || options.PinChanges < 1 || options.PinInterval <= TimeSpan.Zero || options.LiveBuyConnections < 0 || options.DealUnits < 0)
        {
            throw new ArgumentException("--streams, --pin-changes and --pin-interval-ms need positive numbers, --live-buy-connections and --deal-units zero or more.");
        }
        if (options.PayoutCreators < 100 || options.PayoutCreators % 100 != 0 || options.ReportOrders < 1 || options.AdCampaigns < 1)
        {
            throw new ArgumentException("--payout-creators needs a positive multiple of 100, --report-orders and --ad-campaigns positive numbers.");
        }
        return options;
    }

    private static List<string> List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Vetrina.slnx")))
            {
                return directory.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
