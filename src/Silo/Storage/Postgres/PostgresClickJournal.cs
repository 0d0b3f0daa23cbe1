using Npgsql;
using Vetrina.Grains.Links;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>The click journal of cluster mode (table vetrina_shopper_clicks in postgres-journal.sql): one upsert per batch.</summary>
public sealed class PostgresClickJournal(NpgsqlDataSource database) : IClickJournal
{
    public async Task RecordAsync(IReadOnlyList<ShopperClick> clicks, CancellationToken cancellationToken = default)
    {
        // Rows in key order: two silos' batches that touch the same rows lock them in the same order, never a deadlock.
        clicks = [.. clicks.OrderBy(c => c.ShopperId, StringComparer.Ordinal).ThenBy(c => c.Click.ProductId, StringComparer.Ordinal)];
        await using var command = database.CreateCommand("""
            INSERT INTO vetrina_shopper_clicks (shopper_id, product_id, code, creator_id, creator_shopper_id, clicked_at, attributed_until, campaign_id)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
            ON CONFLICT (shopper_id, product_id) DO UPDATE SET code = excluded.code, creator_id = excluded.creator_id,
                creator_shopper_id = excluded.creator_shopper_id, clicked_at = excluded.clicked_at, attributed_until = excluded.attributed_until,
                campaign_id = excluded.campaign_id
            WHERE vetrina_shopper_clicks.clicked_at <= excluded.clicked_at
            """);
        Add(command, clicks.Select(c => c.ShopperId));
        Add(command, clicks.Select(c => c.Click.ProductId));
        Add(command, clicks.Select(c => c.Click.Code));
        Add(command, clicks.Select(c => c.Click.CreatorId));
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = clicks.Select(c => c.Click.CreatorShopperId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = clicks.Select(c => c.Click.ClickedAt.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = clicks.Select(c => c.Click.AttributedUntil.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = clicks.Select(c => c.Click.CampaignId).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, Click>> LatestAsync(string shopperId, IReadOnlyCollection<string> productIds, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            SELECT product_id, code, creator_id, creator_shopper_id, clicked_at, attributed_until, campaign_id FROM vetrina_shopper_clicks
            WHERE shopper_id = $1 AND product_id = ANY($2) AND attributed_until >= $3
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = shopperId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = productIds.ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = at.UtcDateTime });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new Dictionary<string, Click>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = new Click(reader.GetString(1), reader.GetString(0), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero), new DateTimeOffset(reader.GetDateTime(5), TimeSpan.Zero),
                CampaignId: reader.IsDBNull(6) ? null : reader.GetString(6));
        }
        return found;
    }

    public async Task<int> ForgetExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("DELETE FROM vetrina_shopper_clicks WHERE attributed_until < $1");
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = before.UtcDateTime });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add(NpgsqlCommand command, IEnumerable<string> values) =>
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = values.ToArray() });
}
