using Microsoft.Data.Sqlite;
using Vetrina.Grains.Ads;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>
/// Campaign spend in the embedded default (vetrina_ad_spend and vetrina_ad_charges in sqlite-journal.sql); days in
/// Unix days, charge times in Unix microseconds (PostgreSQL's precision). A batch of clicks is one immediate
/// transaction (SQLite's single writer): its campaigns' rows and the charge times of its products and shoppers are
/// read, every click is decided in order as <see cref="InMemoryAdSpendStore"/> does, then each campaign's row is
/// updated once and each charged pair written once.
/// </summary>
public sealed class SqliteAdSpendStore(string connectionString) : IAdSpendStore
{
    private static readonly long UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    public async Task OpenAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO vetrina_ad_spend (campaign_id, daily_budget_minor, total_budget_minor) VALUES ($id, $daily, $total)
            ON CONFLICT DO NOTHING
            """;
        Bind(command, campaignId, budget);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SetBudgetAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE vetrina_ad_spend SET daily_budget_minor = $daily, total_budget_minor = $total WHERE campaign_id = $id";
        Bind(command, campaignId, budget);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AdChargeResult>> ChargeAsync(IReadOnlyList<AdClickCharge> clicks, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (clicks.FirstOrDefault(c => c.CostMinor < 0) is { } negative)
        {
            throw new ArgumentOutOfRangeException(nameof(clicks), negative.CostMinor, "A click's cost cannot be negative.");
        }
        var results = new AdChargeResult[clicks.Count];
        if (clicks.Count == 0)
        {
            return results;
        }
        var today = InMemoryAdSpendStore.DayOf(now);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);

        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = """
                SELECT daily_budget_minor, total_budget_minor, spent_minor, spent_day, spent_today_minor
                FROM vetrina_ad_spend WHERE campaign_id = $id
                """;
            var id = read.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
            read.Prepare();
            foreach (var campaignId in clicks.Select(c => c.CampaignId).Distinct(StringComparer.Ordinal))
            {
                id.Value = campaignId;
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    rows[campaignId] = new Row(
                        new AdBudget(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1)),
                        reader.GetInt64(2),
                        DateOnly.FromDayNumber((int)(UnixEpochDay + reader.GetInt64(3))),
                        reader.GetInt64(4));
                }
            }
        }

        var charged = new Dictionary<(string Campaign, string Product, string Shopper), DateTimeOffset>();
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT charged_us FROM vetrina_ad_charges WHERE campaign_id = $campaign AND product_id = $product AND shopper_id = $shopper";
            var campaign = read.Parameters.Add(new SqliteParameter { ParameterName = "$campaign" });
            var product = read.Parameters.Add(new SqliteParameter { ParameterName = "$product" });
            var shopper = read.Parameters.Add(new SqliteParameter { ParameterName = "$shopper" });
            read.Prepare();
            foreach (var key in clicks.Where(c => rows.ContainsKey(c.CampaignId)).Select(c => (c.CampaignId, c.ProductId, c.ShopperId)).Distinct())
            {
                (campaign.Value, product.Value, shopper.Value) = key;
                if (await read.ExecuteScalarAsync(cancellationToken) is long microseconds)
                {
                    charged[key] = FromUnixMicroseconds(microseconds);
                }
            }
        }

        // In the order of the clicks, as the memory store decides them.
        var newlyCharged = new List<(string Campaign, string Product, string Shopper)>();
        for (var i = 0; i < clicks.Count; i++)
        {
            var click = clicks[i];
            if (!rows.TryGetValue(click.CampaignId, out var row))
            {
                results[i] = AdChargeResult.NoCampaign;
                continue;
            }
            row.MoveTo(today);
            var key = (click.CampaignId, click.ProductId, click.ShopperId);
            if (charged.TryGetValue(key, out var at) && now - at < InMemoryAdSpendStore.RepeatWindow)
            {
                results[i] = AdChargeResult.Repeat;
                continue;
            }
            if (!row.Fits(click.CostMinor))
            {
                results[i] = AdChargeResult.OverBudget;
                continue;
            }
            row.Charge(click.CostMinor);
            charged[key] = now;
            newlyCharged.Add(key);
            results[i] = AdChargeResult.Charged;
        }

        // One update per campaign that changed (a new day, or charges). The WHERE refuses what would pass a budget
        // given the row as it is in the database; the decisions above never ask for that, so it is a fault if it does.
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE vetrina_ad_spend SET
                    spent_minor = spent_minor + $added,
                    spent_today_minor = (CASE WHEN spent_day >= $day THEN spent_today_minor ELSE 0 END) + $added,
                    spent_day = MAX(spent_day, $day),
                    charged_clicks = charged_clicks + $clicks
                WHERE campaign_id = $id
                    AND ($added = 0 OR ((CASE WHEN spent_day >= $day THEN spent_today_minor ELSE 0 END) + $added <= daily_budget_minor
                        AND (total_budget_minor IS NULL OR spent_minor + $added <= total_budget_minor)))
                """;
            var id = update.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
            var added = update.Parameters.Add(new SqliteParameter { ParameterName = "$added" });
            var count = update.Parameters.Add(new SqliteParameter { ParameterName = "$clicks" });
            update.Parameters.AddWithValue("$day", today.DayNumber - UnixEpochDay);
            update.Prepare();
            foreach (var (campaignId, row) in rows.Where(r => r.Value.Changed))
            {
                (id.Value, added.Value, count.Value) = (campaignId, row.Added, row.Clicks);
                if (await update.ExecuteNonQueryAsync(cancellationToken) != 1)
                {
                    throw new InvalidOperationException($"Charging campaign '{campaignId}' would pass its budget; nothing was charged.");
                }
            }
        }

        if (newlyCharged.Count > 0)
        {
            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO vetrina_ad_charges (campaign_id, product_id, shopper_id, charged_us) VALUES ($campaign, $product, $shopper, $at)
                ON CONFLICT (campaign_id, product_id, shopper_id) DO UPDATE SET charged_us = excluded.charged_us
                """;
            var campaign = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$campaign" });
            var product = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$product" });
            var shopper = upsert.Parameters.Add(new SqliteParameter { ParameterName = "$shopper" });
            upsert.Parameters.AddWithValue("$at", ToUnixMicroseconds(now));
            upsert.Prepare();
            foreach (var key in newlyCharged)
            {
                (campaign.Value, product.Value, shopper.Value) = key;
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return results;
    }

    public async Task<IReadOnlyDictionary<string, AdSpend>> ReadAsync(IReadOnlyCollection<string> campaignIds, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var today = InMemoryAdSpendStore.DayOf(now);
        var found = new Dictionary<string, AdSpend>(StringComparer.Ordinal);
        if (campaignIds.Count == 0)
        {
            return found;
        }
        await using var connection = await OpenAsync(cancellationToken);
        // One snapshot for every row asked.
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT daily_budget_minor, total_budget_minor, spent_minor, spent_day, spent_today_minor, charged_clicks
            FROM vetrina_ad_spend WHERE campaign_id = $id
            """;
        var id = command.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        command.Prepare();
        foreach (var campaignId in campaignIds.Distinct(StringComparer.Ordinal))
        {
            id.Value = campaignId;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var day = DateOnly.FromDayNumber((int)(UnixEpochDay + reader.GetInt64(3)));
                found[campaignId] = new AdSpend(campaignId, reader.GetInt64(2), day >= today ? reader.GetInt64(4) : 0, today, reader.GetInt64(5),
                    new AdBudget(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1)));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return found;
    }

    private static void Bind(SqliteCommand command, string campaignId, AdBudget budget)
    {
        command.Parameters.AddWithValue("$id", campaignId);
        command.Parameters.AddWithValue("$daily", budget.DailyBudgetMinor);
        command.Parameters.AddWithValue("$total", (object?)budget.TotalBudgetMinor ?? DBNull.Value);
    }

    private static long ToUnixMicroseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static DateTimeOffset FromUnixMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>A campaign's row as read in the transaction, and what the batch adds to it.</summary>
    private sealed class Row(AdBudget budget, long spent, DateOnly day, long spentToday)
    {
        private DateOnly _day = day;
        private long _spentToday = spentToday;

        public long Added { get; private set; }
        public long Clicks { get; private set; }

        /// <summary>Whether the row must be written: its day moved, or it was charged.</summary>
        public bool Changed { get; private set; }

        /// <summary>Today's spend counts from 0 on a later day than the row's; a clock behind the row's day charges that day.</summary>
        public void MoveTo(DateOnly today)
        {
            if (today > _day)
            {
                (_day, _spentToday, Changed) = (today, 0, true);
            }
        }

        /// <summary>Whether the cost fits both budgets (written so that nothing overflows: budgets and spend are never negative).</summary>
        public bool Fits(long cost) =>
            cost <= budget.DailyBudgetMinor - _spentToday
            && (budget.TotalBudgetMinor is not { } total || cost <= total - (spent + Added));

        public void Charge(long cost)
        {
            _spentToday += cost;
            Added += cost;
            Clicks++;
            Changed = true;
        }
    }
}
