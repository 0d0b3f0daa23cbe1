using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>One invariant checked after a run; a failed one fails the whole benchmark.</summary>
public sealed record Check(string Name, bool Passed, string Detail);

/// <summary>One measured group of connections of a run, as it appears in the results table.</summary>
public sealed record Measurement(string Label, GroupResult Result);

/// <summary>One run of a scenario: a series (what is measured) at one concurrency.</summary>
public sealed class PointResult(string scenario, string series, int concurrency)
{
    public string Scenario { get; } = scenario;

    /// <summary>What the chart and the tables call it, e.g. "Vetrina viral buy, memory".</summary>
    public string Series { get; } = series;

    public int Concurrency { get; } = concurrency;

    public List<Measurement> Measurements { get; } = [];

    /// <summary>The run whose CPU figures are reported (the main one).</summary>
    public LoadResult? Load { get; set; }

    public List<Check> Checks { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>Named figures for the summary (e.g. read p99s of the hot-read scenario).</summary>
    public Dictionary<string, double> Figures { get; } = [];

    /// <summary>The engine's counters per answered buy over the measured window (viral-buy runs).</summary>
    public PerBuyCounters? PerBuy { get; set; }

    /// <summary>Why the run could not be measured at all (the engine did not start, a request failed in set-up...).</summary>
    public string? Failure { get; set; }

    public bool Broken => Failure is not null || Checks.Any(c => !c.Passed);

    /// <summary>Successful answers per second of the main measurement.</summary>
    public double Throughput => Measurements.Count == 0 ? 0 : Measurements[0].Result.PerSecond;
}
