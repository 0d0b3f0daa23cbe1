using System.Text;
using Microsoft.Data.Sqlite;
using Vetrina.Grains.Reports;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>
/// The report projection of the embedded default (vetrina_report_cells in sqlite-journal.sql); buckets in Unix
/// seconds. A write is one immediate transaction (SQLite's single writer): the operation id, then every row it adds to.
/// </summary>
public sealed class SqliteReportBook(string connectionString) : IReportBook
{
    public Task ApplyAsync(string operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default) =>
        WriteAsync(operationId, cells, cancellationToken);

    public Task AddAsync(IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default) =>
        cells.Count == 0 ? Task.CompletedTask : WriteAsync(null, cells, cancellationToken);

    private async Task WriteAsync(string? operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        if (operationId is not null)
        {
            await using var operation = connection.CreateCommand();
            operation.Transaction = transaction;
            operation.CommandText = "INSERT INTO vetrina_report_operations (operation_id) VALUES ($id) ON CONFLICT DO NOTHING";
            operation.Parameters.AddWithValue("$id", operationId);
            if (await operation.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return;
            }
        }
        await using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO vetrina_report_cells (owner, granularity, dimension, bucket, currency, clicks, orders, units, gmv_minor, commission_minor)
            VALUES ($owner, $granularity, $dimension, $bucket, $currency, $clicks, $orders, $units, $gmv, $commission)
            ON CONFLICT (owner, granularity, dimension, bucket, currency) DO UPDATE SET
                clicks = clicks + excluded.clicks,
                orders = orders + excluded.orders,
                units = units + excluded.units,
                gmv_minor = gmv_minor + excluded.gmv_minor,
                commission_minor = commission_minor + excluded.commission_minor
            """;
        foreach (var name in new[] { "$owner", "$granularity", "$dimension", "$bucket", "$currency", "$clicks", "$orders", "$units", "$gmv", "$commission" })
        {
            upsert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        upsert.Prepare();
        foreach (var (interval, sum) in Rows(cells))
        {
            upsert.Parameters[0].Value = sum.Owner;
            upsert.Parameters[1].Value = (int)interval;
            upsert.Parameters[2].Value = sum.Dimension;
            upsert.Parameters[3].Value = sum.Hour.ToUnixTimeSeconds();
            upsert.Parameters[4].Value = sum.Currency;
            upsert.Parameters[5].Value = sum.Clicks;
            upsert.Parameters[6].Value = sum.Orders;
            upsert.Parameters[7].Value = sum.Units;
            upsert.Parameters[8].Value = sum.GmvMinor;
            upsert.Parameters[9].Value = sum.CommissionMinor;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var listing = connection.CreateCommand();
        listing.Transaction = transaction;
        listing.CommandText = "INSERT INTO vetrina_report_currencies (owner, currency) VALUES ($owner, $currency) ON CONFLICT DO NOTHING";
        var owner = listing.Parameters.Add(new SqliteParameter { ParameterName = "$owner" });
        var currency = listing.Parameters.Add(new SqliteParameter { ParameterName = "$currency" });
        foreach (var (o, c) in cells.Where(c => c.Currency.Length > 0).Select(c => (c.Owner, c.Currency)).Distinct())
        {
            (owner.Value, currency.Value) = (o, c);
            await listing.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ReportFigures>> SeriesAsync(ReportQuery query, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT bucket, SUM(clicks), SUM(orders), SUM(units), SUM(gmv_minor), SUM(commission_minor)
            FROM vetrina_report_cells
            WHERE owner = $owner AND granularity = $granularity AND dimension = '' AND bucket >= $from AND bucket < $until
                AND currency IN ($currency, '')
            GROUP BY bucket
            ORDER BY bucket
            """;
        Bind(command, query);
        var series = new List<ReportFigures>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            series.Add(new ReportFigures("", DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)),
                reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }
        return series;
    }

    public async Task<IReadOnlyList<ReportFigures>> BreakdownAsync(ReportQuery query, string dimensionPrefix, int limit, CancellationToken cancellationToken = default)
    {
        // A range of the primary key: the dimensions from the prefix up to (without) the first string past all of its
        // extensions; SQLite compares text bytewise (UTF-8), code point order, which is what makes it exact.
        var after = AfterPrefix(dimensionPrefix);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT dimension, SUM(clicks) AS clicks, SUM(orders), SUM(units), SUM(gmv_minor) AS gmv, SUM(commission_minor)
            FROM vetrina_report_cells
            WHERE owner = $owner AND granularity = $granularity AND dimension >= $prefix {(after is null ? "" : "AND dimension < $after")}
                AND bucket >= $from AND bucket < $until AND currency IN ($currency, '')
            GROUP BY dimension
            ORDER BY gmv DESC, clicks DESC, dimension
            LIMIT $limit
            """;
        Bind(command, query);
        command.Parameters.AddWithValue("$prefix", dimensionPrefix);
        command.Parameters.AddWithValue("$limit", Math.Max(0, limit));
        if (after is not null)
        {
            command.Parameters.AddWithValue("$after", after);
        }
        var breakdown = new List<ReportFigures>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            breakdown.Add(new ReportFigures(reader.GetString(0)[dimensionPrefix.Length..], query.From,
                reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }
        return breakdown;
    }

    public async Task<IReadOnlyList<string>> CurrenciesAsync(string owner, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT currency FROM vetrina_report_currencies WHERE owner = $owner ORDER BY currency";
        command.Parameters.AddWithValue("$owner", owner);
        var currencies = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            currencies.Add(reader.GetString(0));
        }
        return currencies;
    }

    /// <summary>The rows a write adds to: every cell in its hour and its day, summed per row, empty sums left out, sorted by key.</summary>
    private static (ReportInterval Interval, ReportCell Sum)[] Rows(IReadOnlyList<ReportCell> cells) =>
        new[] { ReportInterval.Hour, ReportInterval.Day }
            .SelectMany(interval => ReportCell.Sum(cells.Select(c => c with { Hour = ReportCell.BucketOf(c.Hour, interval) })).Select(sum => (interval, sum)))
            .OrderBy(r => r.sum.Owner, StringComparer.Ordinal).ThenBy(r => r.interval).ThenBy(r => r.sum.Dimension, StringComparer.Ordinal)
            .ThenBy(r => r.sum.Hour).ThenBy(r => r.sum.Currency, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The least string, in code point order, above every string starting with the prefix; null when none is (an empty prefix).</summary>
    private static string? AfterPrefix(string prefix)
    {
        var runes = prefix.EnumerateRunes().ToList();
        while (runes.Count > 0)
        {
            var last = runes[^1].Value;
            runes.RemoveAt(runes.Count - 1);
            if (last < 0x10FFFF)
            {
                runes.Add(new Rune(last == 0xD7FF ? 0xE000 : last + 1));
                return string.Concat(runes);
            }
        }
        return null;
    }

    private static void Bind(SqliteCommand command, ReportQuery query)
    {
        command.Parameters.AddWithValue("$owner", query.Owner);
        command.Parameters.AddWithValue("$granularity", (int)query.Interval);
        command.Parameters.AddWithValue("$from", CeilingSeconds(query.From));
        command.Parameters.AddWithValue("$until", CeilingSeconds(query.Until));
        command.Parameters.AddWithValue("$currency", query.Currency);
    }

    /// <summary>
    /// An instant in Unix seconds, rounded up: a bucket (whole seconds) is at or after the instant, or before it,
    /// exactly when its seconds are at or above these, or below.
    /// </summary>
    private static long CeilingSeconds(DateTimeOffset at)
    {
        var ticks = at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return ticks / TimeSpan.TicksPerSecond + (ticks % TimeSpan.TicksPerSecond > 0 ? 1 : 0);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
