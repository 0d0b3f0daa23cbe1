using Npgsql;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>The fulfilment book of cluster mode: the stage column of vetrina_journal_orders (postgres-journal.sql).</summary>
public sealed class PostgresFulfilmentBook(NpgsqlDataSource database) : IFulfilmentBook
{
    public async Task AdvanceAsync(string orderId, FulfilmentStage stage, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand(
            "UPDATE vetrina_journal_orders SET stage = $2 WHERE order_id = $1 AND (stage IS NULL OR stage < $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = orderId });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)stage });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        await using var batch = database.CreateBatch();
        var count = new NpgsqlBatchCommand("SELECT count(*) FROM vetrina_journal_orders WHERE brand_id = $1 AND stage = $2");
        var oldest = new NpgsqlBatchCommand("""
            SELECT order_id, created_at, currency, total_minor FROM vetrina_journal_orders
            WHERE brand_id = $1 AND stage = $2 ORDER BY created_at, order_id LIMIT $3
            """);
        foreach (var command in new[] { count, oldest })
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = brandId });
            command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)stage });
            batch.BatchCommands.Add(command);
        }
        oldest.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var orders = new List<FulfilmentItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new FulfilmentItem(reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), reader.GetString(2), reader.GetInt64(3)));
        }
        return new FulfilmentPage(total, orders);
    }
}
