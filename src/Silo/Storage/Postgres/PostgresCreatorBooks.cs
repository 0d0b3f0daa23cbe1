using Npgsql;
using Vetrina.Grains.Creators;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>The creators' books of cluster mode (vetrina_ledger_movements in postgres-journal.sql): one statement per batch of movements.</summary>
public sealed class PostgresCreatorBooks(NpgsqlDataSource database) : ICreatorBooks
{
    public async Task RecordAsync(string creatorId, IReadOnlyList<LedgerMovement> movements, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            WITH moved AS (
                INSERT INTO vetrina_ledger_movements (creator_id, movement_key, currency, kind, amount_minor, at, order_id, payout_id, run_id)
                SELECT $1, * FROM unnest($2::text[], $3::text[], $4::smallint[], $5::bigint[], $6::timestamptz[], $7::text[], $8::text[], $9::text[])
                ON CONFLICT (creator_id, movement_key) DO NOTHING
            )
            INSERT INTO vetrina_creator_currencies (currency, creator_id)
            SELECT DISTINCT currency, $1 FROM unnest($3::text[]) AS c (currency)
            ON CONFLICT DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = creatorId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = movements.Select(m => m.Key).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = movements.Select(m => m.Currency).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = movements.Select(m => (short)m.Kind).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = movements.Select(m => m.AmountMinor).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = movements.Select(m => m.At.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = movements.Select(m => m.OrderId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = movements.Select(m => m.PayoutId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = movements.Select(m => m.RunId).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Statement> StatementAsync(string creatorId, string currency, StatementPeriod period, int maxEntries, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        // One snapshot for the sums and the entries: a movement written meanwhile is in both or in neither.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var sums = new NpgsqlCommand("""
            SELECT at >= $3 AS inside, kind, SUM(amount_minor)::bigint, COUNT(*) FROM vetrina_ledger_movements
            WHERE creator_id = $1 AND currency = $2 AND at < $4
            GROUP BY inside, kind
            """, connection, transaction);
        Bind(sums, creatorId, currency, period);
        var totals = new StatementSums();
        await using (var reader = await sums.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                totals.Add(reader.GetBoolean(0), (LedgerMovementKind)reader.GetInt16(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }
        await using var list = new NpgsqlCommand("""
            SELECT movement_key, kind, amount_minor, at, order_id, payout_id, run_id FROM vetrina_ledger_movements
            WHERE creator_id = $1 AND currency = $2 AND at >= $3 AND at < $4
            ORDER BY at, movement_key LIMIT $5
            """, connection, transaction);
        Bind(list, creatorId, currency, period);
        list.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxEntries });
        var entries = new List<LedgerMovement>();
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(new LedgerMovement(reader.GetString(0), (LedgerMovementKind)reader.GetInt16(1), currency, reader.GetInt64(2),
                    new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero), Text(reader, 4), Text(reader, 5), Text(reader, 6)));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return totals.ToStatement(currency, period, entries);
    }

    public async Task<IReadOnlyList<string>> CreatorsAsync(string currency, string? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            SELECT creator_id FROM vetrina_creator_currencies WHERE currency = $1 AND creator_id > $2
            ORDER BY creator_id LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = currency });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after ?? "" });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var creators = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            creators.Add(reader.GetString(0));
        }
        return creators;
    }

    public async Task<IReadOnlyList<Payout>> RunPayoutsAsync(string runId, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            SELECT payout_id, creator_id, currency, amount_minor, at FROM vetrina_ledger_movements
            WHERE run_id = $1 ORDER BY creator_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = runId });
        var payouts = new List<Payout>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            payouts.Add(new Payout(reader.GetString(0), runId, reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero)));
        }
        return payouts;
    }

    private static void Bind(NpgsqlCommand command, string creatorId, string currency, StatementPeriod period)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = creatorId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = currency });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = period.From.UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = period.Until.UtcDateTime });
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
