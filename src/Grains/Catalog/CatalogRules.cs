using Vetrina.Grains.Brands;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Catalog;

/// <summary>The business rules of brands and products; each answers null when the input keeps them.</summary>
public static class CatalogRules
{
    public const long MaxPriceMinor = 100_000_000_000; // a billion in major units of a two-decimal currency
    public const int MaxStock = 1_000_000_000;
    public const int MaxWindowHours = 24 * 365;
    public const int MaxWindowDays = 365;

    public static string? BrandError(BrandRegistration brand) =>
        !IsBps(brand.DefaultCommissionBps) ? "defaultCommissionBps must be between 0 and 10000."
        : brand.AttributionWindowHours is < 1 or > MaxWindowHours ? $"attributionWindowHours must be between 1 and {MaxWindowHours}."
        : brand.ReturnWindowDays is < 0 or > MaxWindowDays ? $"returnWindowDays must be between 0 and {MaxWindowDays}."
        : brand.RateLockDays is < 0 or > MaxWindowDays ? $"rateLockDays must be between 0 and {MaxWindowDays}."
        : null;

    public static string? ProductError(ProductDraft product) =>
        PriceError(product.PriceMinor)
        ?? (!Currencies.IsKnown(product.Currency) ? $"'{product.Currency}' is not an ISO 4217 currency code." : null)
        ?? (product.Stock is < 0 or > MaxStock ? $"stock must be between 0 and {MaxStock}." : null)
        ?? (product.CommissionBps is { } bps && !IsBps(bps) ? "commissionBps must be between 0 and 10000." : null);

    public static string? ChangesError(ProductChanges changes) =>
        (changes.PriceMinor is { } price ? PriceError(price) : null)
        ?? (changes.CommissionBps is { } bps && !IsBps(bps) ? "commissionBps must be between 0 and 10000." : null);

    public static string? StockDeltaError(int delta) =>
        delta is < -MaxStock or > MaxStock ? $"delta must be between -{MaxStock} and {MaxStock}." : null;

    private static string? PriceError(long priceMinor) =>
        priceMinor is < 0 or > MaxPriceMinor ? $"priceMinor must be between 0 and {MaxPriceMinor}." : null;

    private static bool IsBps(int bps) => bps is >= 0 and <= Money.MaxBps;
}
