using System.Globalization;

namespace Vetrina.Api.Pages.Layout;

/// <summary>How pages write amounts and times.</summary>
public static class Display
{
    private static readonly HashSet<string> NoMinorUnits = new(StringComparer.Ordinal) { "JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF" };

    /// <summary>The currencies written without minor units (for pages' scripts, which write amounts the same way).</summary>
    public static IReadOnlyCollection<string> CurrenciesWithoutMinorUnits => NoMinorUnits;

    /// <summary>An amount in minor units as its currency writes it, e.g. 4999 EUR → "49.99 EUR".</summary>
    public static string Money(long minor, string currency)
    {
        if (NoMinorUnits.Contains(currency))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{minor:N0} {currency}");
        }
        var sign = minor < 0 ? "-" : "";
        var magnitude = Math.Abs((decimal)minor) / 100m;
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{magnitude:N2} {currency}");
    }

    public static string Time(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "—";

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
