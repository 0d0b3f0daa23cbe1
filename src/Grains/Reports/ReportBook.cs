namespace Vetrina.Grains.Reports;

public enum ReportInterval
{
    Hour = 0,
    Day = 1,
}

/// <summary>
/// What one change adds to one report cell: an owner's (a creator's or a brand's) figures in one dimension, one
/// currency and one UTC hour. Dimensions are <see cref="ReportDimensions"/>; clicks carry no currency (empty).
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.report-cell")]
public sealed record ReportCell(
    [property: Id(0)] string Owner,
    [property: Id(1)] string Dimension,
    [property: Id(2)] string Currency,
    [property: Id(3)] DateTimeOffset Hour,
    [property: Id(4)] long Clicks,
    [property: Id(5)] long Orders,
    [property: Id(6)] long Units,
    [property: Id(7)] long GmvMinor,
    [property: Id(8)] long CommissionMinor)
{
    public bool IsEmpty => Clicks == 0 && Orders == 0 && Units == 0 && GmvMinor == 0 && CommissionMinor == 0;

    /// <summary>The cell's key: owner, dimension, currency and hour.</summary>
    public (string, string, string, DateTimeOffset) Key => (Owner, Dimension, Currency, Hour);

    public ReportCell Plus(ReportCell other) => this with
    {
        Clicks = Clicks + other.Clicks,
        Orders = Orders + other.Orders,
        Units = Units + other.Units,
        GmvMinor = GmvMinor + other.GmvMinor,
        CommissionMinor = CommissionMinor + other.CommissionMinor,
    };

    /// <summary>The cells summed per key, empty sums left out: one row per key in a write.</summary>
    public static IReadOnlyList<ReportCell> Sum(IEnumerable<ReportCell> cells)
    {
        var sums = new Dictionary<(string, string, string, DateTimeOffset), ReportCell>();
        foreach (var cell in cells)
        {
            sums[cell.Key] = sums.TryGetValue(cell.Key, out var sum) ? sum.Plus(cell) : cell;
        }
        return sums.Values.Where(c => !c.IsEmpty).ToArray();
    }

    /// <summary>The start of the UTC hour an instant falls in: every change of an order counts in the hour it was placed.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The start of the UTC bucket of an instant.</summary>
    public static DateTimeOffset BucketOf(DateTimeOffset at, ReportInterval interval)
    {
        var utc = at.ToUniversalTime();
        return interval == ReportInterval.Hour ? HourOf(utc) : new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
    }
}

/// <summary>The dimensions of report cells. The total of an owner has the empty dimension.</summary>
public static class ReportDimensions
{
    public const string Total = "";
    public const string ProductPrefix = "product:";
    public const string LinkPrefix = "link:";
    public const string CreatorPrefix = "creator:";
    public const string ChannelPrefix = "channel:";

    public static string Product(string productId) => ProductPrefix + productId;

    public static string Link(string code) => LinkPrefix + code;

    public static string Creator(string creatorId) => CreatorPrefix + creatorId;

    public static string Channel(SalesChannel channel) => ChannelPrefix + channel.ToString().ToLowerInvariant();
}

/// <summary>Where a sale came from, for a brand's report by channel.</summary>
public enum SalesChannel
{
    Link = 0,
    Live = 1,
    Ad = 2,
    Direct = 3,
}

/// <summary>An owner's figures summed over a bucket (<see cref="Key"/> empty) or over a period for one dimension key.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.report-figures")]
public sealed record ReportFigures(
    [property: Id(0)] string Key,
    [property: Id(1)] DateTimeOffset Bucket,
    [property: Id(2)] long Clicks,
    [property: Id(3)] long Orders,
    [property: Id(4)] long Units,
    [property: Id(5)] long GmvMinor,
    [property: Id(6)] long CommissionMinor);

/// <summary>What a report reads: one owner, interval, currency and period [From, Until) of whole buckets.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.report-query")]
public sealed record ReportQuery(
    [property: Id(0)] string Owner,
    [property: Id(1)] ReportInterval Interval,
    [property: Id(2)] string Currency,
    [property: Id(3)] DateTimeOffset From,
    [property: Id(4)] DateTimeOffset Until);

/// <summary>
/// The report projection: cells of figures per owner, dimension, currency and UTC hour and day, added as the journal
/// is projected (placed orders), as orders change (their outbox) and as silos hand over their click tallies. A report
/// reads a few rows per bucket, never the orders: its cost follows the period and the number of products and links,
/// not the number of orders. A table of our own beside the journal in durable modes.
/// </summary>
public interface IReportBook
{
    /// <summary>Adds the cells once per operation id: a repeat of the id adds nothing.</summary>
    Task ApplyAsync(string operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default);

    /// <summary>Adds the cells (clicks a silo tallied: a failed hand-over is lost, never repeated).</summary>
    Task AddAsync(IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default);

    /// <summary>The owner's totals per bucket of the period (only buckets with figures), clicks of any currency.</summary>
    Task<IReadOnlyList<ReportFigures>> SeriesAsync(ReportQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The owner's figures over the period per key of the dimensions starting with <paramref name="dimensionPrefix"/>
    /// (the key without the prefix), most GMV first, then most clicks, then key; at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<ReportFigures>> BreakdownAsync(ReportQuery query, string dimensionPrefix, int limit, CancellationToken cancellationToken = default);

    /// <summary>The currencies the owner has sold in, in order.</summary>
    Task<IReadOnlyList<string>> CurrenciesAsync(string owner, CancellationToken cancellationToken = default);
}

/// <summary>The report book of memory mode (one silo, nothing survives a restart).</summary>
public sealed class InMemoryReportBook : IReportBook
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _applied = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<(string Dimension, string Currency, ReportInterval Interval, DateTimeOffset Bucket), ReportCell>> _owners =
        new(StringComparer.Ordinal);

    public Task ApplyAsync(string operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_applied.Add(operationId))
            {
                AddLocked(cells);
            }
        }
        return Task.CompletedTask;
    }

    public Task AddAsync(IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            AddLocked(cells);
        }
        return Task.CompletedTask;
    }

    private void AddLocked(IReadOnlyList<ReportCell> cells)
    {
        foreach (var cell in cells)
        {
            if (!_owners.TryGetValue(cell.Owner, out var owned))
            {
                _owners[cell.Owner] = owned = new();
            }
            foreach (var interval in new[] { ReportInterval.Hour, ReportInterval.Day })
            {
                var key = (cell.Dimension, cell.Currency, interval, ReportCell.BucketOf(cell.Hour, interval));
                owned[key] = owned.TryGetValue(key, out var sum) ? sum.Plus(cell) : cell;
            }
        }
    }

    public Task<IReadOnlyList<ReportFigures>> SeriesAsync(ReportQuery query, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<ReportFigures> series = Cells(query, d => d == ReportDimensions.Total)
                .GroupBy(c => c.Bucket)
                .OrderBy(g => g.Key)
                .Select(g => Figures("", g.Key, g.Select(c => c.Cell)))
                .ToArray();
            return Task.FromResult(series);
        }
    }

    public Task<IReadOnlyList<ReportFigures>> BreakdownAsync(ReportQuery query, string dimensionPrefix, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<ReportFigures> breakdown = Cells(query, d => d.StartsWith(dimensionPrefix, StringComparison.Ordinal))
                .GroupBy(c => c.Cell.Dimension[dimensionPrefix.Length..], StringComparer.Ordinal)
                .Select(g => Figures(g.Key, query.From, g.Select(c => c.Cell)))
                .OrderByDescending(f => f.GmvMinor).ThenByDescending(f => f.Clicks).ThenBy(f => f.Key, StringComparer.Ordinal)
                .Take(limit)
                .ToArray();
            return Task.FromResult(breakdown);
        }
    }

    public Task<IReadOnlyList<string>> CurrenciesAsync(string owner, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<string> currencies = _owners.TryGetValue(owner, out var owned)
                ? owned.Keys.Select(k => k.Currency).Where(c => c.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()
                : [];
            return Task.FromResult(currencies);
        }
    }

    private (DateTimeOffset Bucket, ReportCell Cell)[] Cells(ReportQuery query, Func<string, bool> dimension) =>
        _owners.TryGetValue(query.Owner, out var owned)
            ? owned.Where(c => c.Key.Interval == query.Interval && c.Key.Bucket >= query.From && c.Key.Bucket < query.Until
                    && (c.Key.Currency.Length == 0 || c.Key.Currency == query.Currency) && dimension(c.Key.Dimension))
                .Select(c => (c.Key.Bucket, c.Value))
                .ToArray()
            : [];

    private static ReportFigures Figures(string key, DateTimeOffset bucket, IEnumerable<ReportCell> cells)
    {
        long clicks = 0, orders = 0, units = 0, gmv = 0, commission = 0;
        foreach (var c in cells)
        {
            (clicks, orders, units, gmv, commission) = (clicks + c.Clicks, orders + c.Orders, units + c.Units, gmv + c.GmvMinor, commission + c.CommissionMinor);
        }
        return new ReportFigures(key, bucket, clicks, orders, units, gmv, commission);
    }
}
