using System.Globalization;
using Microsoft.Data.Sqlite;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>The fulfilment book of the embedded default: the stage column of vetrina_journal_orders (sqlite-journal.sql).</summary>
public sealed class SqliteFulfilmentBook(string connectionString) : IFulfilmentBook
{
    public async Task AdvanceAsync(string orderId, FulfilmentStage stage, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE vetrina_journal_orders SET stage = $stage WHERE order_id = $order AND (stage IS NULL OR stage < $stage)";
        command.Parameters.AddWithValue("$order", orderId);
        command.Parameters.AddWithValue("$stage", (int)stage);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<FulfilmentPage> ListAsync(string brandId, FulfilmentStage stage, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // created_at is the journal's round-trip UTC text: fixed width, so its order is time order.
        command.CommandText = """
            SELECT count(*) FROM vetrina_journal_orders WHERE brand_id = $brand AND stage = $stage;
            SELECT order_id, created_at, currency, total_minor FROM vetrina_journal_orders
            WHERE brand_id = $brand AND stage = $stage ORDER BY created_at, order_id LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$brand", brandId);
        command.Parameters.AddWithValue("$stage", (int)stage);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var orders = new List<FulfilmentItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var createdAt = DateTimeOffset.Parse(reader.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            orders.Add(new FulfilmentItem(reader.GetString(0), createdAt, reader.GetString(2), reader.GetInt64(3)));
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
