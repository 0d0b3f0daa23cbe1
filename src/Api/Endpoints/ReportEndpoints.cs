using System.Globalization;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Brands;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Reports;

namespace Vetrina.Api.Endpoints;

/// <summary>One bucket of a series: <c>at</c> is its UTC start.</summary>
public sealed record SeriesPointResponse(DateTimeOffset At, long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor);

/// <summary>A series' sums: <c>epcMinor</c> = commission per click (floor), <c>conversion</c> = orders / clicks (0 without clicks).</summary>
public sealed record ReportTotalsResponse(long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor, long EpcMinor, double Conversion);

public sealed record ProductFiguresResponse(string ProductId, long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor);

public sealed record LinkFiguresResponse(string Code, long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor);

public sealed record CreatorFiguresResponse(string CreatorId, long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor);

public sealed record ChannelFiguresResponse(string Channel, long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor);

/// <summary>A creator's report over [from, to): clicks on its links, and the orders, units, GMV and commission attributed to it.</summary>
public sealed record CreatorReportResponse(
    string CreatorId,
    string? Currency,
    ReportInterval Interval,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<SeriesPointResponse> Series,
    ReportTotalsResponse Totals,
    IReadOnlyList<ProductFiguresResponse> TopProducts,
    IReadOnlyList<LinkFiguresResponse> TopLinks);

/// <summary>A brand's report over [from, to): its sales (and clicks on links to its products) by product, creator and channel.</summary>
public sealed record BrandReportResponse(
    string BrandId,
    string? Currency,
    ReportInterval Interval,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyList<SeriesPointResponse> Series,
    ReportTotalsResponse Totals,
    IReadOnlyList<ProductFiguresResponse> ByProduct,
    IReadOnlyList<CreatorFiguresResponse> ByCreator,
    IReadOnlyList<ChannelFiguresResponse> ByChannel);

/// <summary>
/// Creator and brand reports, read from the report projection (<see cref="IReportBook"/>): hourly or daily UTC series,
/// totals, and the top products and links or the brand's breakdowns. Orders count in the hour they were placed.
/// </summary>
public static class ReportEndpoints
{
    public const int TopCount = 10;
    public const int MaxBreakdown = 100;

    public static IEndpointRouteBuilder MapReportEndpoints(this IEndpointRouteBuilder routes)
    {
        var creators = routes.MapGroup("/api/creators").WithTags("Reports").WithCallerLimits();
        creators.MapGet("/{creatorId}/report", GetCreatorReport)
            .RequireAuthorization(Access.PlatformOrCreatorOwner)
            .WithSummary("A creator's report: series, totals, top products and links").WithName("getCreatorReport")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        var brands = routes.MapGroup("/api/brands").WithTags("Reports").WithCallerLimits();
        brands.MapGet("/{brandId}/report", GetBrandReport)
            .RequireAuthorization(Access.BrandOwner)
            .WithSummary("A brand's report: series, totals, by product, creator and channel").WithName("getBrandReport")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    private static async Task<Results<Ok<CreatorReportResponse>, ProblemHttpResult>> GetCreatorReport(
        string creatorId, string? from, string? to, string? interval, string? currency, IGrainFactory grains, ReportReader reader, CommerceClock clock,
        CancellationToken cancellationToken)
    {
        var (period, malformed) = Parse(from, to, interval, currency, clock);
        if (malformed is not null)
        {
            return malformed;
        }
        if (!Input.IsCreatorId(creatorId) || await grains.GetGrain<ICreatorGrain>(creatorId).GetAsync() is null)
        {
            return Problems.NotFound($"Creator '{creatorId}'");
        }
        var (chosen, ambiguous) = await CurrencyAsync(reader, creatorId, currency, cancellationToken);
        if (ambiguous is not null)
        {
            return ambiguous;
        }
        var report = await reader.ReadAsync(creatorId, period!, chosen, new Dictionary<string, (string, int)>
        {
            ["products"] = (ReportDimensions.ProductPrefix, TopCount),
            ["links"] = (ReportDimensions.LinkPrefix, TopCount),
        }, cancellationToken);
        return TypedResults.Ok(new CreatorReportResponse(creatorId, report.Currency, report.Interval, report.From, report.Until, Series(report), Totals(report),
            report.Breakdowns["products"].Select(f => new ProductFiguresResponse(f.Key, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)).ToArray(),
            report.Breakdowns["links"].Select(f => new LinkFiguresResponse(f.Key, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)).ToArray()));
    }

    private static async Task<Results<Ok<BrandReportResponse>, ProblemHttpResult>> GetBrandReport(
        string brandId, string? from, string? to, string? interval, string? currency, ReportReader reader, CommerceClock clock, CancellationToken cancellationToken)
    {
        var (period, malformed) = Parse(from, to, interval, currency, clock);
        if (malformed is not null)
        {
            return malformed;
        }
        var (chosen, ambiguous) = await CurrencyAsync(reader, brandId, currency, cancellationToken);
        if (ambiguous is not null)
        {
            return ambiguous;
        }
        var report = await reader.ReadAsync(brandId, period!, chosen, new Dictionary<string, (string, int)>
        {
            ["products"] = (ReportDimensions.ProductPrefix, MaxBreakdown),
            ["creators"] = (ReportDimensions.CreatorPrefix, MaxBreakdown),
            ["channels"] = (ReportDimensions.ChannelPrefix, Enum.GetValues<SalesChannel>().Length),
        }, cancellationToken);
        var channels = report.Breakdowns["channels"].ToDictionary(f => f.Key, StringComparer.Ordinal);
        return TypedResults.Ok(new BrandReportResponse(brandId, report.Currency, report.Interval, report.From, report.Until, Series(report), Totals(report),
            report.Breakdowns["products"].Select(f => new ProductFiguresResponse(f.Key, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)).ToArray(),
            report.Breakdowns["creators"].Select(f => new CreatorFiguresResponse(f.Key, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)).ToArray(),
            Enum.GetValues<SalesChannel>().Select(c => c.ToString().ToLowerInvariant())
                .Select(c => channels.TryGetValue(c, out var f)
                    ? new ChannelFiguresResponse(c, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)
                    : new ChannelFiguresResponse(c, 0, 0, 0, 0, 0))
                .ToArray()));
    }

    /// <summary>The period the query names (400 when malformed, 422 when empty or too long).</summary>
    private static (ReportPeriod? Period, ProblemHttpResult? Problem) Parse(string? from, string? to, string? interval, string? currency, CommerceClock clock)
    {
        ReportInterval? chosen = interval switch
        {
            null or "day" => ReportInterval.Day,
            "hour" => ReportInterval.Hour,
            _ => null,
        };
        if (chosen is null)
        {
            return (null, Problems.Malformed("'interval' must be 'hour' or 'day'."));
        }
        if (!TryInstant(from, out var start) || !TryInstant(to, out var end))
        {
            return (null, Problems.Malformed("'from' and 'to' must be ISO 8601 instants, for example 2026-12-01T00:00:00Z."));
        }
        if (currency is not null && !Currencies.IsKnown(currency))
        {
            return (null, Problems.Invalid("currency must be an ISO 4217 code such as USD."));
        }
        var (period, error) = ReportPeriod.Of(chosen.Value, start, end, clock.UtcNow);
        return period is null ? (null, Problems.Invalid(error!)) : (period, null);
    }

    /// <summary>The currency asked for, or the owner's only one (none yet: clicks only); an owner selling in several must say which.</summary>
    private static async Task<(string? Currency, ProblemHttpResult? Problem)> CurrencyAsync(ReportReader reader, string owner, string? currency, CancellationToken cancellationToken)
    {
        if (currency is not null)
        {
            return (currency, null);
        }
        var currencies = await reader.CurrenciesAsync(owner, cancellationToken);
        return currencies.Count <= 1
            ? (currencies.Count == 0 ? null : currencies[0], null)
            : (null, Problems.Malformed($"'currency' is required: there are sales in {string.Join(", ", currencies)}."));
    }

    internal static bool TryInstant(string? text, out DateTimeOffset? instant)
    {
        instant = null;
        if (text is null)
        {
            return true;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || parsed.Year is < 2000 or > 9000)
        {
            return false;
        }
        instant = parsed;
        return true;
    }

    private static SeriesPointResponse[] Series(Report report) =>
        report.Series.Select(f => new SeriesPointResponse(f.Bucket, f.Clicks, f.Orders, f.Units, f.GmvMinor, f.CommissionMinor)).ToArray();

    private static ReportTotalsResponse Totals(Report report)
    {
        var t = report.Totals;
        return new ReportTotalsResponse(t.Clicks, t.Orders, t.Units, t.GmvMinor, t.CommissionMinor, t.EpcMinor, t.Conversion);
    }
}
