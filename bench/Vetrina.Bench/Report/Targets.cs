using System.Globalization;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Scenarios;

namespace Vetrina.Bench.Report;

/// <summary>One row of the targets: its name, its goal, and its figure (with ✓ or ✗ where the goal applies) at one concurrency.</summary>
public interface ITarget
{
    string Name { get; }

    string Goal { get; }

    string Format(IReadOnlyList<PointResult> results, int concurrency);
}

/// <summary>A target that is a ratio of two series' successful answers per second at the same concurrency; no goal: reported only.</summary>
public sealed record RatioTarget(string Name, string Top, string Bottom, double? AtLeast) : ITarget
{
    public string Goal => AtLeast is { } goal ? Targets.I($"≥ {goal}") : "no goal";

    /// <summary>"0.04 ✗ (2,168 / 57,536)", or "–" when either series was not measured at <paramref name="concurrency"/>.</summary>
    public string Format(IReadOnlyList<PointResult> results, int concurrency)
    {
        if (Targets.Throughput(results, Top, concurrency) is not { } top || Targets.Throughput(results, Bottom, concurrency) is not { } bottom || bottom <= 0)
        {
            return "–";
        }
        var ratio = top / bottom;
        return Targets.I($"{ratio:F2}{Targets.Mark(AtLeast is { } goal ? ratio >= goal : null)} ({top:N0} / {bottom:N0})");
    }
}

/// <summary>A ceiling on one of the engine's counters per buy, in one mode at one concurrency.</summary>
public sealed record CounterTarget(string Name, Func<PerBuyCounters, double> Value, double AtMost, EngineMode Mode, int Concurrency) : ITarget
{
    public string Goal => Targets.I($"≤ {AtMost} at {Concurrency} conn.");

    /// <summary>The value in the viral-buy run of <see cref="Mode"/> at <paramref name="concurrency"/>; marked only at the target's own.</summary>
    public string Format(IReadOnlyList<PointResult> results, int concurrency)
    {
        if (Targets.PerBuy(results, ScenarioRunner.ViralBuy(Mode), concurrency) is not { } perBuy)
        {
            return "–";
        }
        var value = Value(perBuy);
        return Targets.I($"{value:F3}{Targets.Mark(concurrency == Concurrency ? value <= AtMost : null)}");
    }
}

/// <summary>The targets of issue 4, as the console and bench/results/latest.md both report them.</summary>
public static class Targets
{
    public static IReadOnlyList<RatioTarget> Ratios { get; } =
    [
        new("viral buy, memory / HTTP ceiling", ScenarioRunner.ViralBuy(EngineMode.Memory), ScenarioRunner.Ceiling, 0.5),
        new("viral buy, memory / JSON buy ceiling", ScenarioRunner.ViralBuy(EngineMode.Memory), ScenarioRunner.JsonBuyCeiling, 0.7),
        new("click, memory / HTTP ceiling", ScenarioRunner.Click(EngineMode.Memory), ScenarioRunner.Ceiling, 0.8),
        new("click, memory / JSON click ceiling", ScenarioRunner.Click(EngineMode.Memory), ScenarioRunner.JsonClickCeiling, 0.8),
        new("viral buy, PostgreSQL group commit / hot-row baseline", ScenarioRunner.ViralBuy(EngineMode.Postgres), ScenarioRunner.HotRow, 10),
        new("viral buy, PostgreSQL group commit / pgbench hot-row", ScenarioRunner.ViralBuy(EngineMode.Postgres), ScenarioRunner.PgBenchHotRow, 10),
        new("group commit / one write per request", ScenarioRunner.ViralBuy(EngineMode.Postgres), ScenarioRunner.ViralBuy(EngineMode.PostgresOneWrite), null),
    ];

    public static IReadOnlyList<CounterTarget> Counters { get; } =
    [
        new("grain activations per durable buy", p => p.Activations, 0.01, EngineMode.Postgres, 128),
        new("database transactions per durable buy", p => p.Transactions, 0.1, EngineMode.Postgres, 128),
    ];

    /// <summary>Every target, in the order they are reported.</summary>
    public static IEnumerable<ITarget> All => Ratios.Concat<ITarget>(Counters);

    public static double? Throughput(IEnumerable<PointResult> results, string series, int concurrency) =>
        Measured(results, series, concurrency)?.Throughput;

    public static PerBuyCounters? PerBuy(IEnumerable<PointResult> results, string series, int concurrency) =>
        Measured(results, series, concurrency)?.PerBuy;

    internal static string Mark(bool? met) => met switch { true => " ✓", false => " ✗", null => "" };

    internal static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static PointResult? Measured(IEnumerable<PointResult> results, string series, int concurrency) =>
        results.FirstOrDefault(r => r.Series == series && r.Concurrency == concurrency && r.Failure is null);
}
