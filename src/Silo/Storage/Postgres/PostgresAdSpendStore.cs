using Npgsql;
using Vetrina.Grains.Ads;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>
/// Campaign spend in cluster mode (vetrina_ad_spend and vetrina_ad_charges in postgres-journal.sql), charged by every
/// silo. A batch of clicks is one transaction of three round trips, whatever its size: its campaigns' rows are locked
/// (FOR UPDATE, in campaign id order, so silos charging overlapping campaigns wait for each other instead of
/// deadlocking) and, in the same round trip, the charge times of its products and shoppers read; every click is
/// decided in order as <see cref="InMemoryAdSpendStore"/> does; then the rows are updated and the charged pairs
/// written in one round trip, and the commit is the third. The charge times are read by a statement of their own,
/// after the lock: under read committed it sees everything the previous holder of the lock committed.
/// </summary>
public sealed class PostgresAdSpendStore(NpgsqlDataSource database) : IAdSpendStore
{
    private const string LockText = """
        SELECT campaign_id, daily_budget_minor, total_budget_minor, spent_minor, spent_day, spent_today_minor
        FROM vetrina_ad_spend WHERE campaign_id = ANY($1)
        ORDER BY campaign_id
        FOR UPDATE
        """;

    private const string ChargedText = """
        SELECT c.campaign_id, c.product_id, c.shopper_id, c.charged_at
        FROM unnest($1::text[], $2::text[], $3::text[]) AS p (campaign_id, product_id, shopper_id)
        JOIN vetrina_ad_charges AS c ON c.campaign_id = p.campaign_id AND c.product_id = p.product_id AND c.shopper_id = p.shopper_id
        """;

    // A row is only raised while the raise fits both budgets, given the row as the database has it; the decisions
    // never ask for more, so a row left out is a fault and the transaction is rolled back.
    private const string UpdateText = """
        UPDATE vetrina_ad_spend AS s SET
            spent_minor = s.spent_minor + u.added,
            spent_today_minor = (CASE WHEN s.spent_day >= $4 THEN s.spent_today_minor ELSE 0 END) + u.added,
            spent_day = GREATEST(s.spent_day, $4),
            charged_clicks = s.charged_clicks + u.clicks
        FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u (campaign_id, added, clicks)
        WHERE s.campaign_id = u.campaign_id
            AND (u.added = 0 OR ((CASE WHEN s.spent_day >= $4 THEN s.spent_today_minor ELSE 0 END) + u.added <= s.daily_budget_minor
                AND (s.total_budget_minor IS NULL OR s.spent_minor + u.added <= s.total_budget_minor)))
        """;

    private const string UpsertText = """
        INSERT INTO vetrina_ad_charges (campaign_id, product_id, shopper_id, charged_at)
        SELECT campaign_id, product_id, shopper_id, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS p (campaign_id, product_id, shopper_id)
        ON CONFLICT (campaign_id, product_id, shopper_id) DO UPDATE SET charged_at = excluded.charged_at
        """;

    public async Task OpenAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO vetrina_ad_spend (campaign_id, daily_budget_minor, total_budget_minor) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING
            """);
        Bind(command, campaignId, budget);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SetBudgetAsync(string campaignId, AdBudget budget, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("UPDATE vetrina_ad_spend SET daily_budget_minor = $2, total_budget_minor = $3 WHERE campaign_id = $1");
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
        var campaignIds = clicks.Select(c => c.CampaignId).Distinct(StringComparer.Ordinal).ToArray();
        var pairs = clicks.Select(c => (c.CampaignId, c.ProductId, c.ShopperId)).Distinct().ToArray();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        var charged = new Dictionary<(string Campaign, string Product, string Shopper), DateTimeOffset>();
        await using (var read = new NpgsqlBatch(connection, transaction))
        {
            var locking = new NpgsqlBatchCommand(LockText);
            locking.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = campaignIds });
            read.BatchCommands.Add(locking);
            var times = new NpgsqlBatchCommand(ChargedText);
            times.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = pairs.Select(p => p.CampaignId).ToArray() });
            times.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = pairs.Select(p => p.ProductId).ToArray() });
            times.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = pairs.Select(p => p.ShopperId).ToArray() });
            read.BatchCommands.Add(times);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows[reader.GetString(0)] = new Row(
                    new AdBudget(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)),
                    reader.GetInt64(3),
                    reader.GetFieldValue<DateOnly>(4),
                    reader.GetInt64(5));
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                charged[(reader.GetString(0), reader.GetString(1), reader.GetString(2))] = new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero);
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

        var changed = rows.Where(r => r.Value.Changed).OrderBy(r => r.Key, StringComparer.Ordinal).ToArray();
        if (changed.Length > 0)
        {
            await using var write = new NpgsqlBatch(connection, transaction);
            var update = new NpgsqlBatchCommand(UpdateText);
            update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = changed.Select(r => r.Key).ToArray() });
            update.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = changed.Select(r => r.Value.Added).ToArray() });
            update.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = changed.Select(r => r.Value.Clicks).ToArray() });
            update.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = today });
            write.BatchCommands.Add(update);
            if (newlyCharged.Count > 0)
            {
                var upsert = new NpgsqlBatchCommand(UpsertText);
                upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = newlyCharged.Select(k => k.Campaign).ToArray() });
                upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = newlyCharged.Select(k => k.Product).ToArray() });
                upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = newlyCharged.Select(k => k.Shopper).ToArray() });
                upsert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime });
                write.BatchCommands.Add(upsert);
            }
            await write.ExecuteNonQueryAsync(cancellationToken);
            if (update.RecordsAffected != changed.Length)
            {
                throw new InvalidOperationException(
                    $"Charging campaigns {string.Join(", ", changed.Select(r => r.Key))} would pass a budget; nothing was charged.");
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
        await using var command = database.CreateCommand("""
            SELECT campaign_id, daily_budget_minor, total_budget_minor, spent_minor, spent_day, spent_today_minor, charged_clicks
            FROM vetrina_ad_spend WHERE campaign_id = ANY($1)
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = campaignIds.Distinct(StringComparer.Ordinal).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            found[id] = new AdSpend(id, reader.GetInt64(3), reader.GetFieldValue<DateOnly>(4) >= today ? reader.GetInt64(5) : 0, today, reader.GetInt64(6),
                new AdBudget(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)));
        }
        return found;
    }

    private static void Bind(NpgsqlCommand command, string campaignId, AdBudget budget)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaignId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = budget.DailyBudgetMinor });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = budget.TotalBudgetMinor, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
    }

    /// <summary>A campaign's row as locked in the transaction, and what the batch adds to it.</summary>
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
