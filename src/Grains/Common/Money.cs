namespace Vetrina.Grains.Common;

/// <summary>The money rules of product.md: integer minor units, integer basis points, floor rounding.</summary>
public static class Money
{
    public const int MaxBps = 10_000;

    /// <summary>floor(unitPriceMinor × quantity × bps / 10000), computed without overflow.</summary>
    public static long Commission(long unitPriceMinor, int quantity, int commissionBps)
    {
        var product = (Int128)unitPriceMinor * quantity * commissionBps;
        return (long)(product / MaxBps);
    }

    public static long LineTotal(long unitPriceMinor, int quantity) => checked(unitPriceMinor * quantity);
}
