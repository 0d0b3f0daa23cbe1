using System.Diagnostics;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// What the engine did per buy answered in the measured window: its counters' increase between a scrape at the start
/// of the window and one at its end, divided by the buys the driver had answered between the two.
/// </summary>
public sealed record PerBuyCounters(
    long Buys, long EngineCheckouts, double Activations, double GrainCalls, double JournalTransactions, double StorageWrites)
{
    /// <summary>Database transactions (in memory mode: in-memory writes): journal transactions plus grain-state writes.</summary>
    public double Transactions => JournalTransactions + StorageWrites;

    public static PerBuyCounters Between(EngineCounters before, EngineCounters after, long buys)
    {
        double PerBuy(string name) => buys > 0 ? (after[name] - before[name]) / buys : double.NaN;
        return new PerBuyCounters(
            buys,
            (long)(after[EngineCounters.Checkouts] - before[EngineCounters.Checkouts]),
            PerBuy(EngineCounters.Activations),
            PerBuy(EngineCounters.GrainCalls),
            PerBuy(EngineCounters.JournalTransactions),
            PerBuy(EngineCounters.StorageWrites));
    }
}

/// <summary>
/// Run at the start of a measured window (<see cref="LoadRun"/>'s hook): scrapes the engine, waits out the window,
/// scrapes again. The driver's count of answered buys is taken around each scrape (the mean of just before and just
/// after), so both counts cover the same interval. A failed scrape leaves <see cref="Failure"/> set instead of failing the run.
/// </summary>
public sealed class PerBuyProbe(VetrinaClient client, WriteLedger ledger, TimeSpan window)
{
    public PerBuyCounters? Result { get; private set; }

    public string? Failure { get; private set; }

    /// <summary>One scrape before the load: the engine's first one compiles and sets up its exporter, and would be late.</summary>
    public async Task PrepareAsync() => await client.GetCountersAsync();

    public async Task RunAsync()
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            var (buysBefore, before) = await ScrapeAsync();
            var left = window - Stopwatch.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }
            var (buysAfter, after) = await ScrapeAsync();
            var missing = new[] { EngineCounters.Activations, EngineCounters.GrainCalls, EngineCounters.JournalTransactions, EngineCounters.StorageWrites }
                .Where(name => !after.Has(name)).ToList();
            if (missing.Count > 0)
            {
                Failure = $"not in the engine's /metrics: {string.Join(", ", missing)} (counted as 0)";
            }
            Result = PerBuyCounters.Between(before, after, buysAfter - buysBefore);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Failure = $"the engine's /metrics could not be scraped: {e.Message}";
        }
    }

    private async Task<(long Buys, EngineCounters Counters)> ScrapeAsync()
    {
        var before = ledger.Answered;
        var counters = await client.GetCountersAsync();
        return ((before + ledger.Answered) / 2, counters);
    }
}
