using Microsoft.Data.Sqlite;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>The fulfilment books of the embedded default (vetrina_order_fulfilment in sqlite-journal.sql); times in Unix microseconds.</summary>
public sealed class SqliteFulfilmentBook(string connectionString) : IFulfilmentBook
{
    public async Task RecordAsync(IReadOnlyList<FulfilmentEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0)
        {
            return;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO vetrina_order_fulfilment (order_id, brand_id, stage, created_us, currency, total_minor)
            VALUES ($order, $brand, $stage, $created, $currency, $total)
            ON CONFLICT (order_id) DO UPDATE SET stage = excluded.stage
            WHERE vetrina_order_fulfilment.stage < excluded.stage
            """;
        foreach (var name in new[] { "$order", "$brand", "$stage", "$created", "$currency", "$total" })
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        foreach (var entry in entries)
        {
            command.Parameters[0].Value = entry.OrderId;
            command.Parameters[1].Value = entry.BrandId;
            command.Parameters[2].Value = (int)entry.Stage;
            command.Parameters[3].Value = (entry.CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
            command.Parameters[4].Value = entry.Currency;
            command.Parameters[5].Value = entry.TotalMinor;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*) FROM vetrina_order_fulfilment WHERE brand_id = $brand AND stage = $stage;
            SELECT order_id, created_us, currency, total_minor FROM vetrina_order_fulfilment
            WHERE brand_id = $brand AND stage = $stage ORDER BY created_us, order_id LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$brand", brandId);
        command.Parameters.AddWithValue("$stage", (int)stage);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var orders = new List<FulfilmentEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new FulfilmentEntry(reader.GetString(0), brandId, stage, DateTimeOffset.UnixEpoch.AddTicks(reader.GetInt64(1) * 10), reader.GetString(2), reader.GetInt64(3)));
        }
        return new FulfilmentPage(total, orders);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
