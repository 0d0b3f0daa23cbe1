using System.Diagnostics;

namespace Vetrina.Bench.Load;

/// <summary>Every latency of one connection (Stopwatch ticks); merged and sorted once the run is over.</summary>
public sealed class LatencyRecorder
{
    private long[] _values = new long[1024];

    public int Count { get; private set; }

    public void Record(long ticks)
    {
        if (Count == _values.Length)
        {
            Array.Resize(ref _values, _values.Length * 2);
        }
        _values[Count++] = ticks;
    }

    public static SortedLatencies Merge(IEnumerable<LatencyRecorder> recorders)
    {
        var list = recorders.ToList();
        var all = new long[list.Sum(r => r.Count)];
        var at = 0;
        foreach (var r in list)
        {
            Array.Copy(r._values, 0, all, at, r.Count);
            at += r.Count;
        }
        Array.Sort(all);
        return new SortedLatencies(all);
    }
}

public sealed class SortedLatencies(long[] sorted)
{
    public int Count => sorted.Length;

    public LatencySummary Summary() => sorted.Length == 0
        ? new LatencySummary(0, 0, 0, 0, 0)
        : new LatencySummary(Ms(At(0.50)), Ms(At(0.95)), Ms(At(0.99)), Ms(sorted[^1]), Ms((long)sorted.Average()));

    // Nearest rank: the smallest value with at least q of all values at or below it.
    private long At(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(double P50, double P95, double P99, double Max, double Mean);
