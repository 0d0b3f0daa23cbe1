using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace Vetrina.Grains.Common;

/// <summary>
/// Counts distinct shoppers in fixed memory (HyperLogLog, 2^12 registers, about 1.6% standard error at
/// large counts; linear counting keeps small counts exact in practice). A viral link can see millions of
/// shoppers, and a set of their ids would make every durable write of the link grow without bound.
/// </summary>
[GenerateSerializer, Alias("vetrina.unique-counter")]
public sealed class UniqueCounter
{
    private const int Precision = 12;
    private const int RegisterCount = 1 << Precision;

    /// <summary>2^-k for every register value k a 64-bit hash can give.</summary>
    private static readonly double[] InversePowers = Enumerable.Range(0, 66).Select(k => Math.Pow(2, -k)).ToArray();

    [Id(0)] public byte[] Registers { get; set; } = new byte[RegisterCount];

    // The estimate's two sums, kept up to date by each change of a register, so that a read costs O(1); computed
    // once from the registers when first needed (after a load they are not known).
    [NonSerialized] private double _inverseSum = double.NaN;
    [NonSerialized] private int _zeros;

    public bool Add(string value) => AddHash(Hash(value));

    /// <summary>The 64-bit hash a value is counted by, so that tallies can be sent as hashes and merged later.</summary>
    public static ulong Hash(string value) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(value));

    /// <summary>Counts the hash; answers whether the registers changed (false: counted before, or indistinguishable).</summary>
    public bool AddHash(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        var rest = (hash << Precision) | (1UL << (Precision - 1));
        var rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        var old = Registers[index];
        if (rank <= old)
        {
            return false;
        }
        Registers[index] = rank;
        if (!double.IsNaN(_inverseSum))
        {
            _inverseSum += InversePowers[rank] - InversePowers[old];
            _zeros -= old == 0 ? 1 : 0;
        }
        return true;
    }

    public long Estimate()
    {
        if (double.IsNaN(_inverseSum))
        {
            _inverseSum = Registers.Sum(r => InversePowers[r]);
            _zeros = Registers.Count(r => r == 0);
        }
        var (sum, zeros) = (_inverseSum, _zeros);
        const double alpha = 0.7213 / (1 + 1.079 / RegisterCount);
        var raw = alpha * RegisterCount * RegisterCount / sum;
        if (raw <= 2.5 * RegisterCount && zeros > 0)
        {
            raw = RegisterCount * Math.Log((double)RegisterCount / zeros);
        }
        return (long)Math.Round(raw);
    }
}
