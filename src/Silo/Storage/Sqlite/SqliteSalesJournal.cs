using Microsoft.Data.Sqlite;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Orders;

namespace Vetrina.Silo.Storage.Sqlite;

/// <summary>
/// The sales journal of the embedded default (schema: sqlite-journal.sql). A commit window is one immediate
/// transaction; SQLite runs in the process, so its statements are prepared once per connection and run per row.
/// </summary>
public sealed class SqliteSalesJournal(string connectionString) : ISalesJournal
{
    private const string NowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

    public async Task<JournalCommit> CommitAsync(JournalBatch batch, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        // The immediate transaction holds the database's write lock: a take-over's close waits for it, or this for that.
        if (await ScalarAsync(connection, transaction, "SELECT 1 FROM vetrina_journal_writers WHERE writer_id = $id AND closed = 0", cancellationToken, ("$id", batch.Position.WriterId)) is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new WriterClosedException(batch.Position.WriterId);
        }
        using var insertCheckout = Prepare(connection, transaction, """
            INSERT INTO vetrina_journal_checkouts (checkout_id, writer_id, batch_sequence, succeeded, record)
            VALUES ($id, $writer, $sequence, $succeeded, $record) ON CONFLICT (checkout_id) DO NOTHING
            """, "$id", "$writer", "$sequence", "$succeeded", "$record");
        using var insertOrder = Prepare(connection, transaction, """
            INSERT INTO vetrina_journal_orders (order_id, checkout_id, brand_id, shopper_id, currency, total_minor, created_at, draft, stage)
            VALUES ($id, $checkout, $brand, $shopper, $currency, $total, $created, $draft, 0) ON CONFLICT (order_id) DO NOTHING
            """, "$id", "$checkout", "$brand", "$shopper", "$currency", "$total", "$created", "$draft");
        using var clearCharge = Prepare(connection, transaction, "DELETE FROM vetrina_journal_charges WHERE checkout_id = $id", "$id");
        using var addBuyer = Prepare(connection, transaction, """
            INSERT INTO vetrina_deal_buyers (deal_id, shopper_id, units, buyer_limit)
            SELECT $deal, $shopper, $units, buyer_limit FROM vetrina_deals WHERE deal_id = $deal
            ON CONFLICT (deal_id, shopper_id) DO UPDATE SET units = units + excluded.units
            """, "$deal", "$shopper", "$units");
        var earlier = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
        var sold = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in batch.Checkouts)
        {
            if (await RunAsync(insertCheckout, cancellationToken, record.CheckoutId, batch.Position.WriterId, batch.Position.Sequence, record.Failure is null, JournalJson.Write(record)) == 0)
            {
                earlier.TryAdd(record.CheckoutId, (await FindCheckoutAsync(connection, transaction, record.CheckoutId, cancellationToken))!);
                continue;
            }
            if (record.SettlesCharge)
            {
                await RunAsync(clearCharge, cancellationToken, record.CheckoutId);
            }
            foreach (var order in record.Orders)
            {
                await RunAsync(insertOrder, cancellationToken, order.OrderId, order.CheckoutId, order.BrandId, order.ShopperId, order.Currency, order.TotalMinor,
                    order.CreatedAt.UtcDateTime.ToString("O"), JournalJson.WriteOrder(order));
            }
            foreach (var (productId, units) in record.UnitsSold())
            {
                sold[productId] = sold.GetValueOrDefault(productId) + units;
            }
            foreach (var (dealId, shopperId, units) in record.DealUnits())
            {
                try
                {
                    await RunAsync(addBuyer, cancellationToken, dealId, shopperId, units);
                }
                catch (SqliteException exception) when (exception.SqliteErrorCode == 19 && exception.Message.Contains("vetrina_deal_buyers_within_limit", StringComparison.Ordinal))
                {
                    await transaction.RollbackAsync(cancellationToken);
                    throw new DealLimitExceededException(dealId);
                }
            }
        }
        var stock = new Dictionary<string, StockCounts>(StringComparer.Ordinal);
        foreach (var (productId, units) in sold)
        {
            var counts = await StockAsync(connection, transaction, """
                UPDATE vetrina_product_stock SET sold = sold + $units, version = version + 1
                WHERE product_id = $id AND sold + $units <= stocked
                RETURNING stocked, sold, version
                """, cancellationToken, ("$id", productId), ("$units", units));
            if (counts is null)
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new StockExhaustedException(productId);
            }
            stock[productId] = counts;
        }
        await transaction.CommitAsync(cancellationToken);
        return new JournalCommit(earlier, stock);
    }

    public async Task RecordChargesAsync(IReadOnlyList<ChargeIntent> intents, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        using var insert = Prepare(connection, transaction, """
            INSERT INTO vetrina_journal_charges (checkout_id, amount_minor, currency, created_ms) VALUES ($id, $amount, $currency, $at)
            ON CONFLICT (checkout_id) DO UPDATE SET created_ms = excluded.created_ms
            """, "$id", "$amount", "$currency", "$at");
        foreach (var intent in intents)
        {
            await RunAsync(insert, cancellationToken, intent.CheckoutId, intent.AmountMinor, intent.Currency, intent.At.ToUnixTimeMilliseconds());
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ChargeIntent>> UnsettledChargesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT checkout_id, amount_minor, currency, created_ms FROM vetrina_journal_charges WHERE created_ms < $before ORDER BY created_ms LIMIT 10000";
        command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var intents = new List<ChargeIntent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            intents.Add(new ChargeIntent(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }
        return intents;
    }

    public Task ForgetChargeAsync(string checkoutId, CancellationToken cancellationToken = default) =>
        ExecuteAsync("DELETE FROM vetrina_journal_charges WHERE checkout_id = $id", cancellationToken, ("$id", checkoutId));

    public Task OpenWriterAsync(string writerId, CancellationToken cancellationToken = default) =>
        ExecuteAsync($"INSERT INTO vetrina_journal_writers (writer_id, heartbeat_ms) VALUES ($id, {NowMs})", cancellationToken, ("$id", writerId));

    public async Task<bool> MarkProjectionAsync(string writerId, long projectedThrough, long sendingThrough, bool takenOver, CancellationToken cancellationToken = default) =>
        await ExecuteAsync($"""
            UPDATE vetrina_journal_writers SET projected_through = $projected, sending_through = $sending, heartbeat_ms = {NowMs}
            WHERE writer_id = $id AND closed = $closed
            """, cancellationToken, ("$id", writerId), ("$projected", projectedThrough), ("$sending", sendingThrough), ("$closed", takenOver)) == 1;

    public async Task<bool> HeartbeatAsync(string writerId, CancellationToken cancellationToken = default) =>
        await ExecuteAsync($"UPDATE vetrina_journal_writers SET heartbeat_ms = {NowMs} WHERE writer_id = $id AND closed = 0", cancellationToken, ("$id", writerId)) == 1;

    public async Task<IReadOnlyList<string>> StaleWritersAsync(TimeSpan staleAfter, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT writer_id FROM vetrina_journal_writers WHERE retired = 0 AND heartbeat_ms < {NowMs} - $stale";
        command.Parameters.AddWithValue("$stale", (long)staleAfter.TotalMilliseconds);
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
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE vetrina_journal_writers SET closed = 1, heartbeat_ms = {NowMs}
            WHERE writer_id = $id AND retired = 0 AND heartbeat_ms < {NowMs} - $stale
            RETURNING projected_through, sending_through
            """;
        command.Parameters.AddWithValue("$id", writerId);
        command.Parameters.AddWithValue("$stale", (long)staleAfter.TotalMilliseconds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new WriterMarks(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    public async Task<IReadOnlyList<(long Sequence, IReadOnlyList<OrderDraft> Orders)>> ReadBatchesAsync(string writerId, long afterSequence, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT batch_sequence, record FROM vetrina_journal_checkouts
            WHERE writer_id = $id AND batch_sequence > $after AND succeeded = 1
            ORDER BY batch_sequence
            """;
        command.Parameters.AddWithValue("$id", writerId);
        command.Parameters.AddWithValue("$after", afterSequence);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(long, CheckoutRecord)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt64(0), JournalJson.Read(reader.GetString(1))));
        }
        return JournalBatches.ByBatch(rows);
    }

    public Task RetireWriterAsync(string writerId, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE vetrina_journal_writers SET retired = 1 WHERE writer_id = $id", cancellationToken, ("$id", writerId));

    public async Task<CheckoutRecord?> FindCheckoutAsync(string checkoutId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await FindCheckoutAsync(connection, null, checkoutId, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, CheckoutRecord>> FindCheckoutsAsync(IReadOnlyCollection<string> checkoutIds, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var found = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
        foreach (var id in checkoutIds)
        {
            if (await FindCheckoutAsync(connection, null, id, cancellationToken) is { } record)
            {
                found[id] = record;
            }
        }
        return found;
    }

    public async Task<OrderDraft?> FindOrderAsync(string orderId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT draft FROM vetrina_journal_orders WHERE order_id = $id";
        command.Parameters.AddWithValue("$id", orderId);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JournalJson.ReadOrder(json) : null;
    }

    public Task<StockCounts?> ReadStockAsync(string productId, CancellationToken cancellationToken = default) =>
        StockAsync("SELECT stocked, sold, version FROM vetrina_product_stock WHERE product_id = $id", cancellationToken, ("$id", productId));

    public async Task<StockCounts> OpenStockAsync(string productId, int stocked, CancellationToken cancellationToken = default) =>
        await StockAsync("""
            INSERT INTO vetrina_product_stock (product_id, stocked, sold, version) VALUES ($id, $stocked, 0, 1)
            ON CONFLICT (product_id) DO UPDATE SET stocked = excluded.stocked, version = version + 1 WHERE sold = 0
            RETURNING stocked, sold, version
            """, cancellationToken, ("$id", productId), ("$stocked", stocked))
        ?? (await ReadStockAsync(productId, cancellationToken))!;

    public Task<StockCounts?> AdjustStockAsync(string productId, int delta, int keepFree, CancellationToken cancellationToken = default) =>
        StockAsync("""
            UPDATE vetrina_product_stock SET stocked = stocked + $delta, version = version + 1
            WHERE product_id = $id AND stocked + $delta >= sold + $keep
            RETURNING stocked, sold, version
            """, cancellationToken, ("$id", productId), ("$delta", delta), ("$keep", keepFree));

    public async Task<StockCounts?> RestockAsync(string operationId, string productId, int quantity, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        using var insert = Prepare(connection, transaction,
            "INSERT INTO vetrina_stock_operations (operation_id, product_id, quantity) VALUES ($op, $id, $quantity) ON CONFLICT (operation_id) DO NOTHING",
            "$op", "$id", "$quantity");
        if (await RunAsync(insert, cancellationToken, operationId, productId, quantity) == 0)
        {
            return null;
        }
        var counts = await StockAsync(connection, transaction, """
            UPDATE vetrina_product_stock SET sold = sold - $quantity, version = version + 1 WHERE product_id = $id
            RETURNING stocked, sold, version
            """, cancellationToken, ("$id", productId), ("$quantity", quantity));
        await transaction.CommitAsync(cancellationToken);
        return counts;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<CheckoutRecord?> FindCheckoutAsync(SqliteConnection connection, SqliteTransaction? transaction, string checkoutId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT record FROM vetrina_journal_checkouts WHERE checkout_id = $id";
        command.Parameters.AddWithValue("$id", checkoutId);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JournalJson.Read(json) : null;
    }

    private async Task<StockCounts?> StockAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await StockAsync(connection, null, sql, cancellationToken, parameters);
    }

    private static async Task<StockCounts?> StockAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new StockCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2)) : null;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private static Task<int> RunAsync(SqliteCommand command, CancellationToken cancellationToken, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
        return command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<StockCounts?> CarveDealAsync(string dealId, string productId, int units, int perBuyerLimit, int keepFree, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        if (await ScalarAsync(connection, transaction, "SELECT 1 FROM vetrina_deals WHERE deal_id = $id", cancellationToken, ("$id", dealId)) is not null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return await ReadStockAsync(productId, cancellationToken);
        }
        var counts = await StockAsync(connection, transaction, """
            UPDATE vetrina_product_stock SET stocked = stocked - $units, version = version + 1
            WHERE product_id = $id AND stocked - $units >= sold + $free
            RETURNING stocked, sold, version
            """, cancellationToken, ("$id", productId), ("$units", units), ("$free", keepFree));
        if (counts is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        await ScalarAsync(connection, transaction, "INSERT INTO vetrina_deals (deal_id, product_id, buyer_limit) VALUES ($id, $product, $limit)", cancellationToken,
            ("$id", dealId), ("$product", productId), ("$limit", perBuyerLimit));
        await ScalarAsync(connection, transaction, "INSERT INTO vetrina_product_stock (product_id, stocked, sold, version) VALUES ($id, $units, 0, 1)", cancellationToken,
            ("$id", dealId), ("$units", units));
        await transaction.CommitAsync(cancellationToken);
        return counts;
    }

    public async Task<(int Returned, StockCounts Deal, StockCounts Product)> CloseDealAsync(string dealId, string productId, int keep, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var unsold = Convert.ToInt32(await ScalarAsync(connection, transaction, "SELECT stocked - sold - $keep FROM vetrina_product_stock WHERE product_id = $id", cancellationToken, ("$id", dealId), ("$keep", keep)),
            System.Globalization.CultureInfo.InvariantCulture);
        if (unsold > 0)
        {
            await ScalarAsync(connection, transaction, """
                UPDATE vetrina_product_stock SET stocked = CASE WHEN product_id = $deal THEN stocked - $units ELSE stocked + $units END, version = version + 1
                WHERE product_id IN ($deal, $product)
                """, cancellationToken, ("$deal", dealId), ("$product", productId), ("$units", unsold));
        }
        await transaction.CommitAsync(cancellationToken);
        return (Math.Max(unsold, 0), (await ReadStockAsync(dealId, cancellationToken))!, (await ReadStockAsync(productId, cancellationToken))!);
    }

    public async Task<DealCounts?> ReadDealAsync(string dealId, CancellationToken cancellationToken = default)
    {
        if (await ReadStockAsync(dealId, cancellationToken) is not { } stock)
        {
            return null;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT shopper_id, units FROM vetrina_deal_buyers WHERE deal_id = $id";
        command.Parameters.AddWithValue("$id", dealId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var buyers = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            buyers[reader.GetString(0)] = reader.GetInt32(1);
        }
        return new DealCounts(stock, buyers);
    }
}
