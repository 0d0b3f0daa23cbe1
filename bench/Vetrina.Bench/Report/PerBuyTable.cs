using System.Globalization;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Scenarios;

namespace Vetrina.Bench.Report;

/// <summary>The engine's counters per answered buy of every viral-buy run, and what each column sums.</summary>
public static class PerBuyTable
{
    public static readonly string[] Headers =
        ["series", "conn.", "buys answered", "activations / buy", "grain calls / buy", "journal transactions / buy", "grain-storage writes / buy", "transactions / buy"];

    public static readonly string[] Definitions =
    [
        $"activations: `{EngineCounters.Activations}` (every grain type)",
        $"grain calls: `{EngineCounters.GrainCalls}`, Orleans' application requests, one per request answered to its caller (HTTP endpoint or grain); one-way calls are not in it",
        $"journal transactions: `{EngineCounters.JournalTransactions}`",
        $"grain-storage writes: `{EngineCounters.StorageWrites}` (every state and provider; group-commit flushes are among them)",
        "transactions = journal transactions + grain-storage writes: the database transactions of a buy in PostgreSQL modes (Orleans' membership and reminder tables are not in it); in memory mode the same writes go to memory",
        "each run: the counters' increase between a scrape of `GET /metrics` at the start of the measured window and one at its end, over the buys the driver saw answered (201 or 409) between the two scrapes",
    ];

    public static IEnumerable<string[]> Rows(IEnumerable<PointResult> results) =>
        results.Where(r => r.PerBuy is not null).Select(r => Row(r.Series, r.Concurrency, r.PerBuy!));

    public static string[] Row(string series, int concurrency, PerBuyCounters p) =>
    [
        series, I($"{concurrency}"), I($"{p.Buys:N0}"), I($"{p.Activations:F3}"), I($"{p.GrainCalls:F3}"),
        I($"{p.JournalTransactions:F3}"), I($"{p.StorageWrites:F3}"), I($"{p.Transactions:F3}"),
    ];

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
