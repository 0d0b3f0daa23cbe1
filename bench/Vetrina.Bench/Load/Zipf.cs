namespace Vetrina.Bench.Load;

/// <summary>Zipf's law over ranks 0..n-1: P(rank k) ∝ 1 / (k + 1)^s. Sampled by binary search of the cumulative table.</summary>
public sealed class Zipf
{
    private readonly double[] _cumulative;

    public Zipf(int n, double s)
    {
        _cumulative = new double[n];
        double sum = 0;
        for (var k = 0; k < n; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, s);
            _cumulative[k] = sum;
        }
        for (var k = 0; k < n; k++)
        {
            _cumulative[k] /= sum;
        }
    }

    public int Count => _cumulative.Length;

    /// <summary>The share of all draws that fall on the first <paramref name="ranks"/> ranks.</summary>
    public double ShareOfTop(int ranks) => _cumulative[Math.Clamp(ranks, 1, _cumulative.Length) - 1];

    public int Sample(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index >= 0 ? index : ~index, _cumulative.Length - 1);
    }
}
