namespace Vetrina.Grains.Reports;

/// <summary>Figures summed over a period: <see cref="EpcMinor"/> is commission per click (floor), <see cref="Conversion"/> orders per click.</summary>
public sealed record ReportTotals(long Clicks, long Orders, long Units, long GmvMinor, long CommissionMinor)
{
    public long EpcMinor => Clicks > 0 ? CommissionMinor / Clicks : 0;

    public double Conversion => Clicks > 0 ? (double)Orders / Clicks : 0;
}

/// <summary>A report: one entry per bucket of the period (empty buckets too), their totals, and the asked breakdowns.</summary>
public sealed record Report(
    string? Currency,
    ReportInterval Interval,
    DateTimeOffset From,
    DateTimeOffset Until,
    IReadOnlyList<ReportFigures> Series,
    ReportTotals Totals,
    IReadOnlyDictionary<string, IReadOnlyList<ReportFigures>> Breakdowns);

/// <summary>A report's period: whole UTC buckets from <c>From</c> (inclusive) to <c>Until</c> (exclusive).</summary>
public sealed record ReportPeriod(ReportInterval Interval, DateTimeOffset From, DateTimeOffset Until)
{
    public const int MaxHours = 31 * 24;
    public const int MaxDays = 366;

    public static TimeSpan Step(ReportInterval interval) => interval == ReportInterval.Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);

    /// <summary>
    /// The buckets covering [from, to): from rounded down and to rounded up to bucket starts. Without them, the last
    /// 24 hours or 30 days up to the end of the current bucket. Null, with the reason, when the period is empty or
    /// longer than a report answers (31 days of hours, 366 days). The limit is on the span asked: a span of exactly 31
    /// days that starts and ends inside an hour covers 745 partly asked hours, and is answered.
    /// </summary>
    public static (ReportPeriod? Period, string? Error) Of(ReportInterval interval, DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now) =>
        Of(interval, from, to, now, interval == ReportInterval.Hour ? MaxHours : MaxDays);

    /// <summary>The same with another limit of buckets.</summary>
    public static (ReportPeriod? Period, string? Error) Of(ReportInterval interval, DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now, int maxBuckets)
    {
        var step = Step(interval);
        var until = to is { } end ? CeilingOf(end, interval) : ReportCell.BucketOf(now, interval) + step;
        var start = from is { } begin ? ReportCell.BucketOf(begin, interval) : until - (interval == ReportInterval.Hour ? TimeSpan.FromHours(24) : TimeSpan.FromDays(30));
        var asked = (to ?? until) - (from ?? start);
        return start >= until ? (null, "'from' must be before 'to'.")
            : asked > maxBuckets * step ? (null, $"A report covers at most {maxBuckets} {(interval == ReportInterval.Hour ? "hours" : "days")}; ask for a shorter period or a coarser interval.")
            : (new ReportPeriod(interval, start, until), null);
    }

    private static DateTimeOffset CeilingOf(DateTimeOffset at, ReportInterval interval)
    {
        var floor = ReportCell.BucketOf(at, interval);
        return floor == at.ToUniversalTime() ? floor : floor + Step(interval);
    }
}

/// <summary>Reads reports from the report book: a few queries of pre-summed cells, whatever the number of orders.</summary>
public sealed class ReportReader(IReportBook book)
{
    /// <summary>The owner's currencies: a report is in one.</summary>
    public Task<IReadOnlyList<string>> CurrenciesAsync(string owner, CancellationToken cancellationToken = default) =>
        book.CurrenciesAsync(owner, cancellationToken);

    public async Task<Report> ReadAsync(string owner, ReportPeriod period, string? currency, IReadOnlyDictionary<string, (string Prefix, int Limit)> breakdowns,
        CancellationToken cancellationToken = default)
    {
        // Clicks carry no currency; an owner with no sales yet still has its clicks counted.
        var query = new ReportQuery(owner, period.Interval, currency ?? "", period.From, period.Until);
        var series = book.SeriesAsync(query, cancellationToken);
        var parts = breakdowns.ToDictionary(b => b.Key, b => book.BreakdownAsync(query, b.Value.Prefix, b.Value.Limit, cancellationToken), StringComparer.Ordinal);
        var found = (await series).ToDictionary(f => f.Bucket);
        var step = ReportPeriod.Step(period.Interval);
        var buckets = new List<ReportFigures>();
        for (var at = period.From; at < period.Until; at += step)
        {
            buckets.Add(found.TryGetValue(at, out var figures) ? figures : new ReportFigures("", at, 0, 0, 0, 0, 0));
        }
        var totals = new ReportTotals(buckets.Sum(b => b.Clicks), buckets.Sum(b => b.Orders), buckets.Sum(b => b.Units),
            buckets.Sum(b => b.GmvMinor), buckets.Sum(b => b.CommissionMinor));
        var read = new Dictionary<string, IReadOnlyList<ReportFigures>>(StringComparer.Ordinal);
        foreach (var (name, part) in parts)
        {
            read[name] = await part;
        }
        return new Report(currency, period.Interval, period.From, period.Until, buckets, totals, read);
    }
}
