namespace Vetrina.Grains.Ads;

/// <summary>A campaign's budgets: per UTC day, and optionally over its whole life.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ad-budget")]
public sealed record AdBudget(
    [property: Id(0)] long DailyBudgetMinor,
    [property: Id(1)] long? TotalBudgetMinor);

/// <summary>One paid click to charge: the campaign pays <c>CostMinor</c> once per product and shopper in 24 hours.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ad-click-charge")]
public sealed record AdClickCharge(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] string ProductId,
    [property: Id(2)] string ShopperId,
    [property: Id(3)] long CostMinor);

public enum AdChargeResult
{
    /// <summary>Charged its cost: the spend grew by exactly that.</summary>
    Charged = 0,

    /// <summary>The shopper's click on this ad was charged less than 24 hours ago: free.</summary>
    Repeat = 1,

    /// <summary>The cost does not fit what is left of the daily or the total budget: not charged, not recorded.</summary>
    OverBudget = 2,

    /// <summary>No spend row: the campaign does not exist.</summary>
    NoCampaign = 3,
}

/// <summary>What a campaign has spent: in all, on <c>Day</c> (UTC; zero when the last charge was on an earlier day), and how many clicks it paid.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ad-spend")]
public sealed record AdSpend(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] long SpentMinor,
    [property: Id(2)] long SpentTodayMinor,
    [property: Id(3)] DateOnly Day,
    [property: Id(4)] long ChargedClicks,
    [property: Id(5)] AdBudget Budget)
{
    /// <summary>What the campaign can still pay today: the smaller of what is left of either budget.</summary>
    public long RemainingMinor => Math.Min(Budget.DailyBudgetMinor - SpentTodayMinor, Budget.TotalBudgetMinor is { } total ? total - SpentMinor : long.MaxValue);
}

/// <summary>
/// Campaign spend, the ads' hot counter: a row per campaign (a table of our own beside the journal in durable modes)
/// that a batch of paid clicks changes in one transaction. Within it each campaign's row is locked, its clicks are
/// charged in order while they fit both budgets (the last click that fits is charged, the next refused), and each
/// charge is remembered per campaign, product and shopper, so a repeat within 24 hours is free. Silos charge the same
/// row, so spend never passes a budget whatever the concurrency, and a silo that dies mid-batch charged all or nothing.
/// </summary>
public interface IAdSpendStore
{
    /// <summary>Creates the campaign's row (nothing when it exists).</summary>
    Task OpenAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default);

    /// <summary>Changes the budgets; spend already made stays (a budget below it charges nothing more).</summary>
    Task SetBudgetAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default);

    /// <summary>Charges the clicks in order, in one transaction; answers one result per click.</summary>
    Task<IReadOnlyList<AdChargeResult>> ChargeAsync(IReadOnlyList<AdClickCharge> clicks, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The spend of these campaigns as of <paramref name="now"/> (today's spend is zero on a new UTC day); unknown ones are left out.</summary>
    Task<IReadOnlyDictionary<string, AdSpend>> ReadAsync(IReadOnlyCollection<string> campaignIds, DateTimeOffset now, CancellationToken cancellationToken = default);
}

/// <summary>The spend store of memory mode (one silo, nothing survives a restart).</summary>
public sealed class InMemoryAdSpendStore : IAdSpendStore
{
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromHours(24);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Row> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Campaign, string Product, string Shopper), DateTimeOffset> _charged = [];

    public Task OpenAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _rows.TryAdd(campaignId, new Row { Budget = budget });
        }
        return Task.CompletedTask;
    }

    public Task SetBudgetAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(campaignId, out var row))
            {
                row.Budget = budget;
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AdChargeResult>> ChargeAsync(IReadOnlyList<AdClickCharge> clicks, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var today = DayOf(now);
        var results = new AdChargeResult[clicks.Count];
        lock (_lock)
        {
            for (var i = 0; i < clicks.Count; i++)
            {
                var click = clicks[i];
                if (!_rows.TryGetValue(click.CampaignId, out var row))
                {
                    results[i] = AdChargeResult.NoCampaign;
                    continue;
                }
                if (today > row.Day)
                {
                    // Only forward: a silo whose clock is behind the row's day charges that day, never a day again.
                    (row.Day, row.SpentToday) = (today, 0);
                }
                var key = (click.CampaignId, click.ProductId, click.ShopperId);
                if (_charged.TryGetValue(key, out var at) && now - at < RepeatWindow)
                {
                    results[i] = AdChargeResult.Repeat;
                    continue;
                }
                if (click.CostMinor > row.Budget.DailyBudgetMinor - row.SpentToday
                    || (row.Budget.TotalBudgetMinor is { } total && click.CostMinor > total - row.Spent))
                {
                    results[i] = AdChargeResult.OverBudget;
                    continue;
                }
                row.Spent += click.CostMinor;
                row.SpentToday += click.CostMinor;
                row.ChargedClicks++;
                _charged[key] = now;
                results[i] = AdChargeResult.Charged;
            }
        }
        return Task.FromResult<IReadOnlyList<AdChargeResult>>(results);
    }

    public Task<IReadOnlyDictionary<string, AdSpend>> ReadAsync(IReadOnlyCollection<string> campaignIds, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var today = DayOf(now);
        var found = new Dictionary<string, AdSpend>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var id in campaignIds)
            {
                if (_rows.TryGetValue(id, out var row))
                {
                    found[id] = new AdSpend(id, row.Spent, row.Day >= today ? row.SpentToday : 0, today, row.ChargedClicks, row.Budget);
                }
            }
        }
        return Task.FromResult<IReadOnlyDictionary<string, AdSpend>>(found);
    }

    /// <summary>The UTC day of an instant: daily budgets reset at UTC midnight.</summary>
    public static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    private sealed class Row
    {
        public required AdBudget Budget { get; set; }
        public long Spent { get; set; }
        public long SpentToday { get; set; }
        public DateOnly Day { get; set; }
        public long ChargedClicks { get; set; }
    }
}
