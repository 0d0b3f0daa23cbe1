using Npgsql;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Postgres;

/// <summary>
/// The sales journal of cluster mode (schema: postgres-journal.sql). A commit window is one statement in one
/// transaction: the checkouts, their orders and the stock counts, each a multi-row insert or update from arrays.
/// </summary>
public sealed class PostgresSalesJournal(NpgsqlDataSource database) : ISalesJournal
{
    private const string OversoldConstraint = "vetrina_product_stock_not_oversold";
    private const string DealLimitConstraint = "vetrina_deal_buyers_within_limit";

    private const string CommitSql = """
        WITH writer AS (
            SELECT writer_id FROM vetrina_journal_writers WHERE writer_id = $1 AND NOT closed FOR SHARE
        ),
        inserted AS (
            INSERT INTO vetrina_journal_checkouts (checkout_id, writer_id, batch_sequence, succeeded, record)
            SELECT c, $1, $2, s, r FROM unnest($3::text[], $4::boolean[], $5::text[]) AS t(c, s, r)
            WHERE EXISTS (SELECT 1 FROM writer)
            ON CONFLICT (checkout_id) DO NOTHING
            RETURNING checkout_id
        ),
        orders AS (
            INSERT INTO vetrina_journal_orders (order_id, checkout_id, brand_id, shopper_id, currency, total_minor, created_at, draft, stage)
            SELECT o, c, b, s, cur, tot, cr, d, 0
            FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::timestamptz[], $13::text[]) AS t(o, c, b, s, cur, tot, cr, d)
            WHERE c IN (SELECT checkout_id FROM inserted)
            ON CONFLICT (order_id) DO NOTHING
        ),
        cleared AS (
            DELETE FROM vetrina_journal_charges WHERE checkout_id = ANY($17::text[]) AND checkout_id IN (SELECT checkout_id FROM inserted)
        ),
        sold AS (
            SELECT p, sum(n)::int AS n FROM unnest($14::text[], $15::text[], $16::int[]) AS t(p, c, n)
            WHERE c IN (SELECT checkout_id FROM inserted)
            GROUP BY p
        ),
        updated AS (
            UPDATE vetrina_product_stock AS stock SET sold = stock.sold + sold.n, version = stock.version + 1
            FROM sold
            WHERE stock.product_id = sold.p
            RETURNING stock.product_id, stock.stocked, stock.sold, stock.version
        ),
        bought AS (
            SELECT d, s, sum(n)::int AS n FROM unnest($18::text[], $19::text[], $20::int[], $21::text[]) AS t(d, s, n, c)
            WHERE c IN (SELECT checkout_id FROM inserted)
            GROUP BY d, s
        ),
        buyers AS (
            INSERT INTO vetrina_deal_buyers (deal_id, shopper_id, units, buyer_limit)
            SELECT bought.d, bought.s, bought.n, deals.buyer_limit FROM bought JOIN vetrina_deals AS deals ON deals.deal_id = bought.d
            ORDER BY bought.d, bought.s
            ON CONFLICT (deal_id, shopper_id) DO UPDATE SET units = vetrina_deal_buyers.units + excluded.units
        )
        SELECT 0, checkout_id, 0, 0, 0::bigint FROM inserted
        UNION ALL SELECT 1, product_id, stocked, sold, version FROM updated
        UNION ALL SELECT 2, p, 0, 0, 0::bigint FROM sold
        UNION ALL SELECT 3, writer_id, 0, 0, 0::bigint FROM writer
        """;

    public async Task<JournalCommit> CommitAsync(JournalBatch batch, CancellationToken cancellationToken = default)
    {
        // Two silos' windows that sell the same products can lock their stock rows in opposite orders; the database
        // then aborts one of them, which has written nothing and is simply written again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CommitOnceAsync(batch, cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < 5)
            {
            }
        }
    }

    private async Task<JournalCommit> CommitOnceAsync(JournalBatch batch, CancellationToken cancellationToken)
    {
        var checkouts = batch.Checkouts;
        var orders = checkouts.SelectMany(c => c.Orders).ToArray();
        var lines = checkouts.SelectMany(c => c.UnitsSold().Select(u => (c.CheckoutId, u.ProductId, u.Units))).ToArray();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        var stock = new Dictionary<string, StockCounts>(StringComparer.Ordinal);
        var selling = new List<string>();
        var open = false;
        await using (var command = new NpgsqlCommand(CommitSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch.Position.WriterId });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = batch.Position.Sequence });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = checkouts.Select(c => c.CheckoutId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = checkouts.Select(c => c.Failure is null).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = checkouts.Select(JournalJson.Write).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(o => o.OrderId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(o => o.CheckoutId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(o => o.BrandId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(o => o.ShopperId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(o => o.Currency).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = orders.Select(o => o.TotalMinor).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = orders.Select(o => o.CreatedAt.UtcDateTime).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = orders.Select(JournalJson.WriteOrder).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = lines.Select(l => l.ProductId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = lines.Select(l => l.CheckoutId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = lines.Select(l => l.Units).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = checkouts.Where(c => c.SettlesCharge).Select(c => c.CheckoutId).ToArray() });
            var dealUnits = checkouts.SelectMany(c => c.DealUnits().Select(u => (c.CheckoutId, u.DealId, u.ShopperId, u.Units))).ToArray();
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = dealUnits.Select(u => u.DealId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = dealUnits.Select(u => u.ShopperId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = dealUnits.Select(u => u.Units).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = dealUnits.Select(u => u.CheckoutId).ToArray() });
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var id = reader.GetString(1);
                    switch (reader.GetInt32(0))
                    {
                        case 0:
                            inserted.Add(id);
                            break;
                        case 1:
                            stock[id] = new StockCounts(reader.GetInt32(2), reader.GetInt32(3), reader.GetInt64(4));
                            break;
                        case 2:
                            selling.Add(id);
                            break;
                        default:
                            open = true;
                            break;
                    }
                }
            }
            catch (PostgresException exception) when (exception.ConstraintName == OversoldConstraint)
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new StockExhaustedException(lines.Select(l => l.ProductId).Distinct().Count() == 1 ? lines[0].ProductId : null);
            }
            catch (PostgresException exception) when (exception.ConstraintName == DealLimitConstraint)
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new DealLimitExceededException(null);
            }
        }
        if (!open)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new WriterClosedException(batch.Position.WriterId);
        }
        if (selling.FirstOrDefault(p => !stock.ContainsKey(p)) is { } unstocked)
        {
            // A product without a stock row has nothing on sale.
            await transaction.RollbackAsync(cancellationToken);
            throw new StockExhaustedException(unstocked);
        }
        var earlier = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
        var replays = checkouts.Select(c => c.CheckoutId).Where(id => !inserted.Contains(id)).Distinct().ToArray();
        if (replays.Length > 0)
        {
            await using var command = new NpgsqlCommand("SELECT checkout_id, record FROM vetrina_journal_checkouts WHERE checkout_id = ANY($1)", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = replays });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                earlier[reader.GetString(0)] = JournalJson.Read(reader.GetString(1));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return new JournalCommit(earlier, stock);
    }

    public async Task RecordChargesAsync(IReadOnlyList<ChargeIntent> intents, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO vetrina_journal_charges (checkout_id, amount_minor, currency, created_at)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[])
            ON CONFLICT (checkout_id) DO UPDATE SET created_at = excluded.created_at
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = intents.Select(i => i.CheckoutId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = intents.Select(i => i.AmountMinor).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = intents.Select(i => i.Currency).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = intents.Select(i => i.At.UtcDateTime).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ChargeIntent>> UnsettledChargesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT checkout_id, amount_minor, currency, created_at FROM vetrina_journal_charges WHERE created_at < $1 ORDER BY created_at LIMIT 10000", before.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var intents = new List<ChargeIntent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            intents.Add(new ChargeIntent(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero)));
        }
        return intents;
    }

    public async Task ForgetChargeAsync(string checkoutId, CancellationToken cancellationToken = default)
    {
        await using var command = Command("DELETE FROM vetrina_journal_charges WHERE checkout_id = $1", checkoutId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task OpenWriterAsync(string writerId, CancellationToken cancellationToken = default)
    {
        await using var command = Command("INSERT INTO vetrina_journal_writers (writer_id, heartbeat_at) VALUES ($1, now())", [writerId]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> MarkProjectionAsync(string writerId, long projectedThrough, long sendingThrough, bool takenOver, CancellationToken cancellationToken = default)
    {
        await using var command = Command("""
            UPDATE vetrina_journal_writers SET projected_through = $2, sending_through = $3, heartbeat_at = now()
            WHERE writer_id = $1 AND closed = $4
            """, [writerId, projectedThrough, sendingThrough, takenOver]);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> HeartbeatAsync(string writerId, CancellationToken cancellationToken = default)
    {
        await using var command = Command("UPDATE vetrina_journal_writers SET heartbeat_at = now() WHERE writer_id = $1 AND NOT closed", [writerId]);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<string>> StaleWritersAsync(TimeSpan staleAfter, CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT writer_id FROM vetrina_journal_writers WHERE NOT retired AND heartbeat_at < now() - $1", [staleAfter]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stale = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stale.Add(reader.GetString(0));
        }
        return stale;
    }

    public async Task<WriterMarks?> TakeOverWriterAsync(string writerId, TimeSpan staleAfter, CancellationToken cancellationToken = default)
    {
        // Waits for the row lock of a commit under way: once this returns, the writer commits nothing more.
        await using var command = Command("""
            UPDATE vetrina_journal_writers SET closed = true, heartbeat_at = now()
            WHERE writer_id = $1 AND NOT retired AND heartbeat_at < now() - $2
            RETURNING projected_through, sending_through
            """, [writerId, staleAfter]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new WriterMarks(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    public async Task<IReadOnlyList<(long Sequence, IReadOnlyList<OrderDraft> Orders)>> ReadBatchesAsync(string writerId, long afterSequence, CancellationToken cancellationToken = default)
    {
        await using var command = Command("""
            SELECT batch_sequence, record FROM vetrina_journal_checkouts
            WHERE writer_id = $1 AND batch_sequence > $2 AND succeeded
            ORDER BY batch_sequence
            """, [writerId, afterSequence]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(long, CheckoutRecord)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt64(0), JournalJson.Read(reader.GetString(1))));
        }
        return JournalBatches.ByBatch(rows);
    }

    public async Task RetireWriterAsync(string writerId, CancellationToken cancellationToken = default)
    {
        await using var command = Command("UPDATE vetrina_journal_writers SET retired = true WHERE writer_id = $1", [writerId]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<CheckoutRecord?> FindCheckoutAsync(string checkoutId, CancellationToken cancellationToken = default)
    {
        var json = await ScalarAsync<string>("SELECT record FROM vetrina_journal_checkouts WHERE checkout_id = $1", cancellationToken, checkoutId);
        return json is null ? null : JournalJson.Read(json);
    }

    public async Task<IReadOnlyDictionary<string, CheckoutRecord>> FindCheckoutsAsync(IReadOnlyCollection<string> checkoutIds, CancellationToken cancellationToken = default)
    {
        await using var command = database.CreateCommand("SELECT checkout_id, record FROM vetrina_journal_checkouts WHERE checkout_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = checkoutIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = JournalJson.Read(reader.GetString(1));
        }
        return found;
    }

    public async Task<OrderDraft?> FindOrderAsync(string orderId, CancellationToken cancellationToken = default)
    {
        var json = await ScalarAsync<string>("SELECT draft FROM vetrina_journal_orders WHERE order_id = $1", cancellationToken, orderId);
        return json is null ? null : JournalJson.ReadOrder(json);
    }

    public Task<StockCounts?> ReadStockAsync(string productId, CancellationToken cancellationToken = default) =>
        StockAsync("SELECT stocked, sold, version FROM vetrina_product_stock WHERE product_id = $1", cancellationToken, productId);

    public async Task<StockCounts> OpenStockAsync(string productId, int stocked, CancellationToken cancellationToken = default) =>
        await StockAsync("""
            INSERT INTO vetrina_product_stock (product_id, stocked, sold, version) VALUES ($1, $2, 0, 1)
            ON CONFLICT (product_id) DO UPDATE SET stocked = excluded.stocked, version = vetrina_product_stock.version + 1
            WHERE vetrina_product_stock.sold = 0
            RETURNING stocked, sold, version
            """, cancellationToken, productId, stocked)
        ?? (await ReadStockAsync(productId, cancellationToken))!;

    public Task<StockCounts?> AdjustStockAsync(string productId, int delta, int keepFree, CancellationToken cancellationToken = default) =>
        StockAsync("""
            UPDATE vetrina_product_stock SET stocked = stocked + $2, version = version + 1
            WHERE product_id = $1 AND stocked::bigint + $2 >= sold::bigint + $3
            RETURNING stocked, sold, version
            """, cancellationToken, productId, delta, keepFree);

    public Task<StockCounts?> RestockAsync(string operationId, string productId, int quantity, CancellationToken cancellationToken = default) =>
        StockAsync("""
            WITH applied AS (
                INSERT INTO vetrina_stock_operations (operation_id, product_id, quantity) VALUES ($1, $2, $3)
                ON CONFLICT (operation_id) DO NOTHING
                RETURNING product_id
            )
            UPDATE vetrina_product_stock SET sold = sold - $3, version = version + 1
            WHERE product_id IN (SELECT product_id FROM applied)
            RETURNING stocked, sold, version
            """, cancellationToken, operationId, productId, quantity);

    private async Task<StockCounts?> StockAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(sql, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StockCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2)) : null;
    }

    private async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params object[] values) where T : class
    {
        await using var command = Command(sql, values);
        return await command.ExecuteScalarAsync(cancellationToken) as T;
    }

    private NpgsqlCommand Command(string sql, params object[] values)
    {
        var command = database.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    public async Task<StockCounts?> CarveDealAsync(string dealId, string productId, int units, int perBuyerLimit, int keepFree, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var deal = new NpgsqlCommand(
            "INSERT INTO vetrina_deals (deal_id, product_id, buyer_limit) VALUES ($1, $2, $3) ON CONFLICT (deal_id) DO NOTHING", connection, transaction))
        {
            deal.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dealId });
            deal.Parameters.Add(new NpgsqlParameter<string> { TypedValue = productId });
            deal.Parameters.Add(new NpgsqlParameter<int> { TypedValue = perBuyerLimit });
            if (await deal.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Carved before: the product's counts as they are.
                await transaction.RollbackAsync(cancellationToken);
                return await ReadStockAsync(productId, cancellationToken);
            }
        }
        await using var carve = new NpgsqlCommand("""
            WITH taken AS (
                UPDATE vetrina_product_stock SET stocked = stocked - $2, version = version + 1
                WHERE product_id = $1 AND stocked::bigint - $2 >= sold::bigint + $3
                RETURNING stocked, sold, version
            ),
            opened AS (
                INSERT INTO vetrina_product_stock (product_id, stocked, sold, version)
                SELECT $4, $2, 0, 1 FROM taken
            )
            SELECT stocked, sold, version FROM taken
            """, connection, transaction);
        carve.Parameters.Add(new NpgsqlParameter<string> { TypedValue = productId });
        carve.Parameters.Add(new NpgsqlParameter<int> { TypedValue = units });
        carve.Parameters.Add(new NpgsqlParameter<int> { TypedValue = keepFree });
        carve.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dealId });
        StockCounts? counts = null;
        await using (var reader = await carve.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                counts = new StockCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2));
            }
        }
        if (counts is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        await transaction.CommitAsync(cancellationToken);
        return counts;
    }

    public async Task<(int Returned, StockCounts Deal, StockCounts Product)> CloseDealAsync(string dealId, string productId, int keep, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The deal's row is locked first and read as it is then: a commit selling from it waits, or went before.
        int unsold;
        await using (var read = new NpgsqlCommand("SELECT stocked - sold - $2 FROM vetrina_product_stock WHERE product_id = $1 FOR UPDATE", connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dealId });
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = keep });
            unsold = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
        }
        if (unsold > 0)
        {
            await using var move = new NpgsqlCommand("""
                UPDATE vetrina_product_stock SET stocked = CASE WHEN product_id = $1 THEN stocked - $3 ELSE stocked + $3 END, version = version + 1
                WHERE product_id IN ($1, $2)
                """, connection, transaction);
            move.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dealId });
            move.Parameters.Add(new NpgsqlParameter<string> { TypedValue = productId });
            move.Parameters.Add(new NpgsqlParameter<int> { TypedValue = unsold });
            await move.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        var deal = (await ReadStockAsync(dealId, cancellationToken))!;
        var product = (await ReadStockAsync(productId, cancellationToken))!;
        return (Math.Max(unsold, 0), deal, product);
    }

    public async Task<DealCounts?> ReadDealAsync(string dealId, CancellationToken cancellationToken = default)
    {
        if (await ReadStockAsync(dealId, cancellationToken) is not { } stock)
        {
            return null;
        }
        await using var command = database.CreateCommand("SELECT shopper_id, units FROM vetrina_deal_buyers WHERE deal_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = dealId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var buyers = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            buyers[reader.GetString(0)] = reader.GetInt32(1);
        }
        return new DealCounts(stock, buyers);
    }
}
