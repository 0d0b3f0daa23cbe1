using System.Globalization;
using Vetrina.Bench.Load;
using Vetrina.Bench.Scenarios;

namespace Vetrina.Bench.Report;

/// <summary>What each run prints as soon as it is over.</summary>
public static class ConsoleReport
{
    public static void Print(PointResult point)
    {
        if (point.Failure is not null)
        {
            Console.WriteLine($"   FAILED TO RUN: {point.Failure}");
        }
        foreach (var m in point.Measurements)
        {
            Console.WriteLine(Invariant($"   {m.Label}: {m.Result.PerSecond:N0} ok/s, p50 {m.Result.Latency.P50:F2} ms, p95 {m.Result.Latency.P95:F2} ms, p99 {m.Result.Latency.P99:F2} ms; {Statuses(m.Result)}"));
        }
        if (point.Load is { } load)
        {
            Console.WriteLine($"   {Cpu(load)}");
        }
        foreach (var (name, value) in point.Figures)
        {
            Console.WriteLine(Invariant($"   {name}: {value:F2}"));
        }
        if (point.PerBuy is { } p)
        {
            Console.WriteLine(Invariant($"   per answered buy ({p.Buys:N0} buys between the /metrics scrapes; the engine decided {p.EngineCheckouts:N0}): {p.Activations:F3} activations, {p.GrainCalls:F3} grain calls, {p.JournalTransactions:F3} journal transactions + {p.StorageWrites:F3} grain-storage writes = {p.Transactions:F3} transactions"));
        }
        foreach (var note in point.Notes)
        {
            Console.WriteLine($"   {note}");
        }
        var broken = point.Checks.Where(c => !c.Passed).ToList();
        if (broken.Count > 0)
        {
            Console.WriteLine("   !!!!!!!! INVARIANT BROKEN !!!!!!!!");
            foreach (var check in broken)
            {
                Console.WriteLine($"   !!! {check.Name}: {check.Detail}");
            }
        }
        else if (point.Checks.Count > 0)
        {
            Console.WriteLine($"   invariants: all {point.Checks.Count} hold ({string.Join("; ", point.Checks.Select(c => c.Detail))})");
        }
    }

    /// <summary>After all runs: every target of issue 4 at every concurrency, and the per-buy counters of every viral-buy run.</summary>
    public static void PrintTargets(BenchOptions options, ScenarioRunner runner)
    {
        var results = runner.Results;
        Console.WriteLine();
        Console.WriteLine("== Targets of issue 4 (ratios of successful answers per second at the same concurrency, this run)");
        foreach (var target in Targets.All)
        {
            Console.WriteLine($"   {target.Name} ({target.Goal}): " + string.Join("; ", options.Concurrency.Select(c => $"{c}: {target.Format(results, c)}")));
        }
        foreach (var skipped in runner.Skipped)
        {
            Console.WriteLine($"   skipped: {skipped}");
        }
        var rows = PerBuyTable.Rows(results).ToList();
        if (rows.Count > 0)
        {
            Console.WriteLine("== Engine counters per buy (viral buy, measured window)");
            var widths = PerBuyTable.Headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
            string Line(IReadOnlyList<string> cells) => "   " + string.Join("  ", cells.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i])));
            Console.WriteLine(Line(PerBuyTable.Headers));
            foreach (var row in rows)
            {
                Console.WriteLine(Line(row));
            }
            foreach (var definition in PerBuyTable.Definitions)
            {
                Console.WriteLine($"   - {definition.Replace("`", "", StringComparison.Ordinal)}");
            }
        }
    }

    public static string Statuses(GroupResult result) =>
        result.Statuses.Count == 0 ? "no answers" : "answers " + string.Join(", ", result.Statuses.Select(s => Invariant($"{s.Key}: {s.Value:N0}")));

    public static string Cpu(LoadResult load)
    {
        var processes = string.Join(", ", load.Processes.Select(p => Invariant($"{p.Name} {p.CpuShare * 100:F0}%")));
        return Invariant($"CPU of the {Environment.ProcessorCount}-core machine: driver {load.DriverCpuShare * 100:F0}% ({load.DriverCpuMicrosecondsPerRequest:F1} µs per request), {processes}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
