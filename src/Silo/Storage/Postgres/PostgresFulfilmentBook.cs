using Npgsql;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>
/// The fulfilment books of cluster mode (vetrina_order_fulfilment in postgres-journal.sql): a write is one upsert
/// whatever its number of orders, its rows in order id order so that two silos' writes never deadlock.
/// </summary>
public sealed class PostgresFulfilmentBook(NpgsqlDataSource database) : IFulfilmentBook
{
    public async Task RecordAsync(IReadOnlyList<FulfilmentEntry> entries, CancellationToken cancellationToken = default)
    {
        // One row per order (an upsert may not touch a row twice), at the furthest stage the write has for it.
        var rows = entries.GroupBy(e => e.OrderId, StringComparer.Ordinal).Select(g => g.MaxBy(e => e.Stage)!)
            .OrderBy(e => e.OrderId, StringComparer.Ordinal).ToArray();
        if (rows.Length == 0)
        {
            return;
        }
        await using var command = database.CreateCommand("""
            INSERT INTO vetrina_order_fulfilment (order_id, brand_id, stage, created_at, currency, total_minor)
            SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::timestamptz[], $5::text[], $6::bigint[])
            ON CONFLICT (order_id) DO UPDATE SET stage = excluded.stage
            WHERE vetrina_order_fulfilment.stage < excluded.stage
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.OrderId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.BrandId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<short[]> { TypedValue = rows.Select(r => (short)r.Stage).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = rows.Select(r => r.CreatedAt.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Currency).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.TotalMinor).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        await using var batch = database.CreateBatch();
        var count = new NpgsqlBatchCommand("SELECT count(*) FROM vetrina_order_fulfilment WHERE brand_id = $1 AND stage = $2");
        var oldest = new NpgsqlBatchCommand("""
            SELECT order_id, created_at, currency, total_minor FROM vetrina_order_fulfilment
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
        var orders = new List<FulfilmentEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new FulfilmentEntry(reader.GetString(0), brandId, stage, new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), reader.GetString(2), reader.GetInt64(3)));
        }
        return new FulfilmentPage(total, orders);
    }
}
