using Microsoft.Data.Sqlite;
using Vetrina.Grains.Creators;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>The creators' books of the embedded default (vetrina_ledger_movements in sqlite-journal.sql); times in Unix ms.</summary>
public sealed class SqliteCreatorBooks(string connectionString) : ICreatorBooks
{
    public async Task RecordAsync(string creatorId, IReadOnlyList<LedgerMovement> movements, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO vetrina_ledger_movements (creator_id, movement_key, currency, kind, amount_minor, at_ms, order_id, payout_id, run_id)
            VALUES ($creator, $key, $currency, $kind, $amount, $at, $order, $payout, $run)
            ON CONFLICT (creator_id, movement_key) DO NOTHING
            """;
        foreach (var name in new[] { "$creator", "$key", "$currency", "$kind", "$amount", "$at", "$order", "$payout", "$run" })
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        foreach (var m in movements)
        {
            command.Parameters[0].Value = creatorId;
            command.Parameters[1].Value = m.Key;
            command.Parameters[2].Value = m.Currency;
            command.Parameters[3].Value = (int)m.Kind;
            command.Parameters[4].Value = m.AmountMinor;
            command.Parameters[5].Value = m.At.ToUnixTimeMilliseconds();
            command.Parameters[6].Value = (object?)m.OrderId ?? DBNull.Value;
            command.Parameters[7].Value = (object?)m.PayoutId ?? DBNull.Value;
            command.Parameters[8].Value = (object?)m.RunId ?? DBNull.Value;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var listing = connection.CreateCommand();
        listing.Transaction = transaction;
        listing.CommandText = "INSERT INTO vetrina_creator_currencies (currency, creator_id) VALUES ($currency, $creator) ON CONFLICT DO NOTHING";
        var currency = listing.Parameters.Add(new SqliteParameter { ParameterName = "$currency" });
        listing.Parameters.AddWithValue("$creator", creatorId);
        foreach (var code in movements.Select(m => m.Currency).Distinct(StringComparer.Ordinal))
        {
            currency.Value = code;
            await listing.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Statement> StatementAsync(string creatorId, string currency, StatementPeriod period, int maxEntries, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using var sums = connection.CreateCommand();
        sums.Transaction = transaction;
        // One snapshot for the sums and the entries: a movement written meanwhile is in both or in neither.
        sums.CommandText = """
            SELECT at_ms >= $from AS inside, kind, SUM(amount_minor), COUNT(*) FROM vetrina_ledger_movements
            WHERE creator_id = $creator AND currency = $currency AND at_ms < $to
            GROUP BY inside, kind
            """;
        Bind(sums, creatorId, currency, period);
        var totals = new StatementSums();
        await using (var reader = await sums.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                totals.Add(reader.GetBoolean(0), (LedgerMovementKind)reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }
        await using var list = connection.CreateCommand();
        list.Transaction = transaction;
        list.CommandText = """
            SELECT movement_key, kind, amount_minor, at_ms, order_id, payout_id, run_id FROM vetrina_ledger_movements
            WHERE creator_id = $creator AND currency = $currency AND at_ms >= $from AND at_ms < $to
            ORDER BY at_ms, movement_key LIMIT $limit
            """;
        Bind(list, creatorId, currency, period);
        list.Parameters.AddWithValue("$limit", maxEntries);
        var entries = new List<LedgerMovement>();
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(new LedgerMovement(reader.GetString(0), (LedgerMovementKind)reader.GetInt32(1), currency, reader.GetInt64(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), Text(reader, 4), Text(reader, 5), Text(reader, 6)));
            }
        }
        return totals.ToStatement(currency, period, entries);
    }

    public async Task<IReadOnlyList<string>> CreatorsAsync(string currency, string? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT creator_id FROM vetrina_creator_currencies WHERE currency = $currency AND creator_id > $after
            ORDER BY creator_id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$currency", currency);
        command.Parameters.AddWithValue("$after", after ?? "");
        command.Parameters.AddWithValue("$limit", limit);
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
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT payout_id, creator_id, currency, amount_minor, at_ms FROM vetrina_ledger_movements
            WHERE run_id = $run ORDER BY creator_id
            """;
        command.Parameters.AddWithValue("$run", runId);
        var payouts = new List<Payout>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            payouts.Add(new Payout(reader.GetString(0), runId, reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }
        return payouts;
    }

    private static void Bind(SqliteCommand command, string creatorId, string currency, StatementPeriod period)
    {
        command.Parameters.AddWithValue("$creator", creatorId);
        command.Parameters.AddWithValue("$currency", currency);
        command.Parameters.AddWithValue("$from", period.From.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", period.Until.ToUnixTimeMilliseconds());
    }

    private static string? Text(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
