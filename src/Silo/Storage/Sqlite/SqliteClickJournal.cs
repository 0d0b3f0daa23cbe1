using Microsoft.Data.Sqlite;
using Vetrina.Grains.Links;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>The click journal of the embedded default (table vetrina_shopper_clicks in sqlite-journal.sql); times in Unix ms.</summary>
public sealed class SqliteClickJournal(string connectionString) : IClickJournal
{
    public async Task RecordAsync(IReadOnlyList<ShopperClick> clicks, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO vetrina_shopper_clicks (shopper_id, product_id, code, creator_id, creator_shopper_id, clicked_ms, attributed_until_ms, campaign_id)
            VALUES ($shopper, $product, $code, $creator, $creatorShopper, $clicked, $until, $campaign)
            ON CONFLICT (shopper_id, product_id) DO UPDATE SET code = excluded.code, creator_id = excluded.creator_id,
                creator_shopper_id = excluded.creator_shopper_id, clicked_ms = excluded.clicked_ms, attributed_until_ms = excluded.attributed_until_ms,
                campaign_id = excluded.campaign_id
            WHERE vetrina_shopper_clicks.clicked_ms <= excluded.clicked_ms
            """;
        var names = new[] { "$shopper", "$product", "$code", "$creator", "$creatorShopper", "$clicked", "$until", "$campaign" };
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        foreach (var (shopperId, click) in clicks)
        {
            command.Parameters[0].Value = shopperId;
            command.Parameters[1].Value = click.ProductId;
            command.Parameters[2].Value = click.Code;
            command.Parameters[3].Value = click.CreatorId;
            command.Parameters[4].Value = (object?)click.CreatorShopperId ?? DBNull.Value;
            command.Parameters[5].Value = click.ClickedAt.ToUnixTimeMilliseconds();
            command.Parameters[6].Value = click.AttributedUntil.ToUnixTimeMilliseconds();
            command.Parameters[7].Value = (object?)click.CampaignId ?? DBNull.Value;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, Click>> LatestAsync(string shopperId, IReadOnlyCollection<string> productIds, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT product_id, code, creator_id, creator_shopper_id, clicked_ms, attributed_until_ms, campaign_id FROM vetrina_shopper_clicks
            WHERE shopper_id = $shopper AND product_id IN (SELECT value FROM json_each($products)) AND attributed_until_ms >= $at
            """;
        command.Parameters.AddWithValue("$shopper", shopperId);
        command.Parameters.AddWithValue("$products", System.Text.Json.JsonSerializer.Serialize(productIds.ToArray(), ClickJournalJson.Default.StringArray));
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new Dictionary<string, Click>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = new Click(reader.GetString(1), reader.GetString(0), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                CampaignId: reader.IsDBNull(6) ? null : reader.GetString(6));
        }
        return found;
    }

    public async Task<int> ForgetExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM vetrina_shopper_clicks WHERE attributed_until_ms < $before";
        command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class ClickJournalJson : System.Text.Json.Serialization.JsonSerializerContext;
