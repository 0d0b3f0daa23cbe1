using System.Diagnostics;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// After a write run: learn the outcome of every write whose answer was lost (replayed with the same
/// Idempotency-Key), then compare what the engine reports with what the driver was told. Effects (earnings,
/// link stats) are delivered asynchronously, so those are polled until a deadline.
/// </summary>
public static class Invariants
{
    private static readonly TimeSpan StockDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan EffectDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReplayDeadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Replays lost writes (a few at a time) until each answers something other than 5xx, within one overall
    /// deadline; returns the check.
    /// </summary>
    public static async Task<Check> ResolveLostAnswersAsync(VetrinaClient client, WriteLedger ledger)
    {
        var replays = ledger.Unknown.ToArray();
        var until = Stopwatch.GetTimestamp() + (long)(ReplayDeadline.TotalSeconds * Stopwatch.Frequency);
        var unresolved = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < replays.Length)
            {
                var status = await ReplayAsync(client, replays[i], until);
                if (status == 201)
                {
                    ledger.Succeed(replays[i].ProductIndex);
                }
                else if (Outcomes.IsUnknown(status))
                {
                    Interlocked.Increment(ref unresolved);
                }
                else
                {
                    ledger.Refuse();
                }
            }
        })));
        return new Check("every write's outcome is known", unresolved == 0,
            $"{replays.Length} lost answers replayed with the same Idempotency-Key, {unresolved} still unanswered");
    }

    private static async Task<int> ReplayAsync(VetrinaClient client, Replay replay, long until)
    {
        var status = Outcomes.Failed;
        while (Stopwatch.GetTimestamp() < until)
        {
            try
            {
                status = await client.ReplayAsync(replay);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = Outcomes.Failed;
            }
            if (!Outcomes.IsUnknown(status))
            {
                return status;
            }
            await Task.Delay(500);
        }
        return status;
    }

    /// <summary>Stock of one product against the successful buys the driver counted.</summary>
    public static async Task<List<Check>> CheckStockAsync(VetrinaClient client, string productId, long expectedSold, string label = "")
    {
        var figures = await EventuallyAsync(() => client.GetStockAsync(productId), f => f.Sold == expectedSold && f.Reserved == 0, StockDeadline);
        return StockChecks(figures, expectedSold, label);
    }

    public static List<Check> StockChecks(StockFigures f, long expectedSold, string label = "") =>
    [
        new($"{label}sold equals successful buys", f.Sold == expectedSold, $"sold {f.Sold}, successful buys {expectedSold}"),
        new($"{label}no oversell", f.Sold <= f.Stocked && f.Available >= 0, f.ToString()),
        new($"{label}available + sold + reserved = stocked", f.Available + f.Sold + f.Reserved == f.Stocked, f.ToString()),
        new($"{label}no stock stays held", f.Reserved == 0, $"reserved {f.Reserved}"),
    ];

    /// <summary>The hot-row database: one order of one unit per success, and stock that adds up.</summary>
    public static async Task<List<Check>> CheckHotRowAsync(HotRowDatabase database, long successes, string successesAre)
    {
        var (available, stocked, orders, units) = await database.ReadAsync();
        return
        [
            new($"orders equal {successesAre}", orders == successes && units == successes, $"orders {orders} ({units} units), {successesAre} {successes}"),
            new("available + sold = stocked, never negative", available + units == stocked && available >= 0, $"available {available}, sold {units}, stocked {stocked}"),
        ];
    }

    /// <summary>A counter of a server without an idempotency store: every 201 counted, a lost answer may or may not have been.</summary>
    public static Check CheckCount(string name, long counted, long answered, long lost) =>
        new(name, counted >= answered && counted <= answered + lost,
            lost == 0 ? $"counted {counted}, answered 201: {answered}" : $"counted {counted}, expected between {answered} and {answered + lost}");

    /// <summary>
    /// The creator's pending commission: floor(price × 1 × bps / 10000) per successful buy, plus that of the
    /// <paramref name="dealSuccesses"/> buys at a deal price.
    /// </summary>
    public static async Task<Check> CheckEarningsAsync(VetrinaClient client, Creator creator, long successes, long unitCommission, long dealSuccesses = 0, long dealUnitCommission = 0)
    {
        var expected = (successes * unitCommission) + (dealSuccesses * dealUnitCommission);
        var pending = await EventuallyAsync(() => client.GetPendingEarningsAsync(creator), p => p == expected, EffectDeadline);
        return new Check("creator's pending commission equals the formula", pending == expected, dealSuccesses == 0
            ? $"pending {pending}, expected {successes} × {unitCommission} = {expected}"
            : $"pending {pending}, expected {successes} × {unitCommission} + {dealSuccesses} deal buys × {dealUnitCommission} = {expected}");
    }

    /// <summary>Link clicks: every 201 counted; a click whose answer was lost may or may not have counted.</summary>
    public static async Task<Check> CheckClicksAsync(VetrinaClient client, string code, Creator creator, WriteLedger ledger)
    {
        var low = ledger.Clicks;
        var high = ledger.Clicks + ledger.UnknownClicks;
        var clicks = await EventuallyAsync(() => client.GetLinkClicksAsync(code, creator), c => c >= low && c <= high, EffectDeadline);
        return new Check("link clicks equal the clicks answered 201", clicks >= low && clicks <= high,
            low == high ? $"clicks {clicks}, answered 201: {low}" : $"clicks {clicks}, expected between {low} and {high}");
    }

    /// <summary>A live session's orders (its stats, from the journal's projection) against the successful live buys.</summary>
    public static async Task<Check> CheckLiveOrdersAsync(VetrinaClient client, string sessionId, long successes)
    {
        var orders = await EventuallyAsync(() => client.GetLiveOrdersAsync(sessionId), o => o == successes, EffectDeadline);
        return new Check("live session's orders equal successful live buys", orders == successes, $"orders {orders}, successful buys {successes}");
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan deadline)
    {
        var until = Stopwatch.GetTimestamp() + (long)(deadline.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var value = await read();
            if (done(value) || Stopwatch.GetTimestamp() > until)
            {
                return value;
            }
            await Task.Delay(250);
        }
    }
}
