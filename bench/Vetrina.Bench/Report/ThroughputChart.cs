using System.Globalization;
using ScottPlot;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Scenarios;

namespace Vetrina.Bench.Report;

/// <summary>bench/results/throughput.png: successful requests per second against concurrency, Vetrina and the baselines.</summary>
public static class ThroughputChart
{
    public static bool Write(string path, IReadOnlyList<PointResult> results, IReadOnlyList<int> concurrency, RunContext context)
    {
        var series = new[]
        {
            ScenarioRunner.Ceiling,
            ScenarioRunner.ViralBuy(EngineMode.Memory),
            ScenarioRunner.ViralBuy(EngineMode.Postgres),
            ScenarioRunner.ViralBuy(EngineMode.PostgresOneWrite),
            ScenarioRunner.HotRow,
            ScenarioRunner.JsonBuyCeiling,
            ScenarioRunner.PgBenchHotRow,
        };
        var baselines = new[] { ScenarioRunner.Ceiling, ScenarioRunner.HotRow, ScenarioRunner.JsonBuyCeiling, ScenarioRunner.PgBenchHotRow };
        var plot = new Plot();
        var drawn = 0;
        var logs = new List<double>();
        foreach (var name in series)
        {
            var points = concurrency
                .Select(c => (c, Targets.Throughput(results, name, c)))
                .Where(p => p.Item2 is > 0)
                .ToList();
            if (points.Count == 0)
            {
                continue;
            }
            // Both axes are logarithmic: positions are log2(connections) and log10(requests/s).
            var scatter = plot.Add.Scatter(
                points.Select(p => Math.Log2(p.c)).ToArray(),
                points.Select(p => Math.Log10(p.Item2!.Value)).ToArray());
            logs.AddRange(points.Select(p => Math.Log10(p.Item2!.Value)));
            scatter.LegendText = name;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 8;
            if (baselines.Contains(name))
            {
                scatter.LinePattern = LinePattern.Dashed;
            }
            drawn++;
        }
        if (drawn == 0)
        {
            return false;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            concurrency.Select(c => Math.Log2(c)).ToArray(),
            concurrency.Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.SetLimits(
            Math.Log2(concurrency.Min()) - 0.4, Math.Log2(concurrency.Max()) + 0.4,
            Math.Floor(logs.Min()), Math.Max(Math.Floor(logs.Min()) + 1, logs.Max() + 0.15));
        plot.XLabel("connections (closed loop)");
        plot.YLabel("successful requests per second (log scale)");
        plot.Title($"Throughput against concurrency: viral buy and baselines ({context.Commit}, {context.Cores} cores)");
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 1100, 560);
        return true;
    }
}
