using System.Globalization;

namespace Vetrina.Bench.Engine;

/// <summary>
/// One scrape of the engine's <c>GET /metrics</c> (Prometheus text format): every sample's value summed over its
/// labels, by metric name (a counter's <c>_total</c>, a histogram's <c>_count</c>); and, for samples labelled with an
/// <c>http_route</c>, also summed by name and route.
/// </summary>
public sealed class EngineCounters(IReadOnlyDictionary<string, double> totals, IReadOnlyDictionary<(string Name, string Route), double> byRoute)
{
    /// <summary>Seconds ASP.NET Core spent on the requests of a route (the request duration histogram's sum), every status.</summary>
    public const string RequestSeconds = "http_server_request_duration_seconds_sum";

    /// <summary>Requests of a route that ASP.NET Core answered (the request duration histogram's count), every status.</summary>
    public const string Requests = "http_server_request_duration_seconds_count";

    /// <summary>Grain activations created, every grain type.</summary>
    public const string Activations = "orleans_catalog_activation_created_total";

    /// <summary>
    /// Grain calls: Orleans' application requests, counted once per request answered to its caller (the latency
    /// histogram's count), whether the caller is an HTTP endpoint or another grain. One-way calls are not in it.
    /// </summary>
    public const string GrainCalls = "orleans_app_requests_latency_milliseconds_count";

    /// <summary>Grain-state writes through Orleans' storage (the write latency histogram's count, every state and provider).</summary>
    public const string StorageWrites = "orleans_storage_write_latency_milliseconds_count";

    /// <summary>Sales journal transactions that wrote checkouts (Vetrina's meter).</summary>
    public const string JournalTransactions = "vetrina_journal_transactions_total";

    /// <summary>Checkouts decided by the engine, every kind and outcome (Vetrina's meter).</summary>
    public const string Checkouts = "vetrina_checkouts_total";

    /// <summary>Time the runtime paused the process for garbage collections (System.Runtime meter).</summary>
    public const string GcPauseSeconds = "dotnet_gc_pause_time_seconds_total";

    /// <summary>Garbage collections, every generation.</summary>
    public const string GcCollections = "dotnet_gc_collections_total";

    /// <summary>Times a thread waited for a lock held by another (Monitor).</summary>
    public const string LockContentions = "dotnet_monitor_lock_contentions_total";

    /// <summary>Work items the thread pool ran.</summary>
    public const string ThreadPoolWorkItems = "dotnet_thread_pool_work_item_count_total";

    public double this[string name] => totals.GetValueOrDefault(name);

    public bool Has(string name) => totals.ContainsKey(name);

    /// <summary>A sample summed over its other labels, for one <c>http_route</c> (e.g. <c>/api/ads/placements</c>).</summary>
    public double Route(string name, string route) => byRoute.GetValueOrDefault((name, route));

    public static EngineCounters Parse(string text)
    {
        var totals = new Dictionary<string, double>(StringComparer.Ordinal);
        var byRoute = new Dictionary<(string, string), double>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            // name{label="value",...} value [timestamp], or name value [timestamp]; a label value may hold spaces.
            var labels = line.IndexOf('{', StringComparison.Ordinal);
            var nameEnd = labels >= 0 ? labels : line.IndexOf(' ', StringComparison.Ordinal);
            var valueStart = labels >= 0 ? line.LastIndexOf('}') + 1 : nameEnd;
            if (nameEnd <= 0 || valueStart <= 0)
            {
                continue;
            }
            var value = line[valueStart..].Trim().Split(' ')[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                var name = line[..nameEnd];
                totals[name] = totals.GetValueOrDefault(name) + number;
                if (labels >= 0 && RouteLabel(line[labels..valueStart]) is { } route)
                {
                    byRoute[(name, route)] = byRoute.GetValueOrDefault((name, route)) + number;
                }
            }
        }
        return new EngineCounters(totals, byRoute);
    }

    private static string? RouteLabel(string labels)
    {
        const string Label = "http_route=\"";
        var start = labels.IndexOf(Label, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }
        start += Label.Length;
        var end = labels.IndexOf('"', start);
        return end < 0 ? null : labels[start..end];
    }
}
