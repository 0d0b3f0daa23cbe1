using System.Text;
using Npgsql;
using Vetrina.Grains.Reports;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>
/// The report projection of cluster mode (vetrina_report_cells in postgres-journal.sql). A write is one statement,
/// whatever its number of cells: its rows, summed per key and sorted, are upserted in that order, so writers from
/// several silos adding to the same rows wait for each other in one order (no deadlock) and add to the committed
/// sums (no lost update).
/// </summary>
public sealed class PostgresReportBook(NpgsqlDataSource database) : IReportBook
{
    // One statement for both writes. With an operation id ($1), the id goes in first and the rows only if it was not
    // there yet; without one, the rows go in. The currency listing, which no part of the statement reads, runs after
    // the upsert, so every write takes its locks in one order: cells by key, then currencies by key.
    private const string WriteText = """
        WITH operation AS (
            INSERT INTO vetrina_report_operations (operation_id) SELECT $1 WHERE $1 IS NOT NULL
            ON CONFLICT DO NOTHING
            RETURNING 1
        ), listed AS (
            INSERT INTO vetrina_report_currencies (owner, currency)
            SELECT owner, currency FROM unnest($12::text[], $13::text[]) WITH ORDINALITY AS l (owner, currency, n)
            WHERE $1 IS NULL OR EXISTS (SELECT FROM operation)
            ORDER BY n
            ON CONFLICT DO NOTHING
        )
        INSERT INTO vetrina_report_cells (owner, granularity, dimension, bucket, currency, clicks, orders, units, gmv_minor, commission_minor)
        SELECT owner, granularity, dimension, bucket, currency, clicks, orders, units, gmv_minor, commission_minor
        FROM unnest($2::text[], $3::smallint[], $4::text[], $5::timestamptz[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
            WITH ORDINALITY AS r (owner, granularity, dimension, bucket, currency, clicks, orders, units, gmv_minor, commission_minor, n)
        WHERE $1 IS NULL OR EXISTS (SELECT FROM operation)
        ORDER BY n
        ON CONFLICT (owner, granularity, dimension, bucket, currency) DO UPDATE SET
            clicks = vetrina_report_cells.clicks + excluded.clicks,
            orders = vetrina_report_cells.orders + excluded.orders,
            units = vetrina_report_cells.units + excluded.units,
            gmv_minor = vetrina_report_cells.gmv_minor + excluded.gmv_minor,
            commission_minor = vetrina_report_cells.commission_minor + excluded.commission_minor
        """;

    public Task ApplyAsync(string operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default) =>
        WriteAsync(operationId, cells, cancellationToken);

    public Task AddAsync(IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken = default) =>
        cells.Count == 0 ? Task.CompletedTask : WriteAsync(null, cells, cancellationToken);

    private async Task WriteAsync(string? operationId, IReadOnlyList<ReportCell> cells, CancellationToken cancellationToken)
    {
        var rows = Rows(cells);
        var listed = cells.Where(c => c.Currency.Length > 0).Select(c => (c.Owner, c.Currency)).Distinct()
            .OrderBy(l => l.Owner, StringComparer.Ordinal).ThenBy(l => l.Currency, StringComparer.Ordinal).ToArray();
        await using var command = database.CreateCommand(WriteText);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = operationId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Sum.Owner).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = rows.Select(r => (short)r.Interval).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Sum.Dimension).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = rows.Select(r => r.Sum.Hour.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Sum.Currency).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sum.Clicks).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sum.Orders).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sum.Units).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sum.GmvMinor).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sum.CommissionMinor).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = listed.Select(l => l.Owner).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = listed.Select(l => l.Currency).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ReportFigures>> SeriesAsync(ReportQuery query, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            SELECT bucket, sum(clicks)::bigint, sum(orders)::bigint, sum(units)::bigint, sum(gmv_minor)::bigint, sum(commission_minor)::bigint
            FROM vetrina_report_cells
            WHERE owner = $1 AND granularity = $2 AND dimension = '' AND bucket >= $3 AND bucket < $4 AND currency IN ($5, '')
            GROUP BY bucket
            ORDER BY bucket
            """);
        Bind(command, query);
        var series = new List<ReportFigures>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            series.Add(new ReportFigures("", new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero),
                reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }
        return series;
    }

    public async Task<IReadOnlyList<ReportFigures>> BreakdownAsync(ReportQuery query, string dimensionPrefix, int limit, CancellationToken cancellationToken = default)
    {
        // A range of the primary key: the dimensions from the prefix up to (without) the first string past all of its
        // extensions. The columns compare bytewise (COLLATE "C"), code point order, which is what makes it exact.
        var after = AfterPrefix(dimensionPrefix);
        await using var command = database.CreateCommand($"""
            SELECT dimension, sum(clicks)::bigint AS clicks, sum(orders)::bigint, sum(units)::bigint, sum(gmv_minor)::bigint AS gmv, sum(commission_minor)::bigint
            FROM vetrina_report_cells
            WHERE owner = $1 AND granularity = $2 AND dimension >= $6 {(after is null ? "" : "AND dimension < $8")}
                AND bucket >= $3 AND bucket < $4 AND currency IN ($5, '')
            GROUP BY dimension
            ORDER BY gmv DESC, clicks DESC, dimension
            LIMIT $7
            """);
        Bind(command, query);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dimensionPrefix });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(0, limit) });
        if (after is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after });
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
        await using var command = database.CreateCommand("SELECT currency FROM vetrina_report_currencies WHERE owner = $1 ORDER BY currency");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        var currencies = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            currencies.Add(reader.GetString(0));
        }
        return currencies;
    }

    /// <summary>
    /// The rows a write adds to: every cell in its hour and its day, summed per row (a statement may touch a row only
    /// once), empty sums left out, sorted by key.
    /// </summary>
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

    private static void Bind(NpgsqlCommand command, ReportQuery query)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Owner });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)query.Interval });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = query.From.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = query.Until.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Currency });
    }
}
