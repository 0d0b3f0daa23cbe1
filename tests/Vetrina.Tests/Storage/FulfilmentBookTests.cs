using Microsoft.Data.Sqlite;
using Npgsql;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Orders;
using Vetrina.Silo.Storage;
using Vetrina.Silo.Storage.Postgres;
using Vetrina.Silo.Storage.Sqlite;

namespace Vetrina.Tests.Storage;

/// <summary>
/// The fulfilment book of every storage kind, over orders journalled as a checkout journals them: each is to ship; a
/// stage only moves forward whatever order its changes arrive in, also when writers race on the same orders; a
/// brand's list holds only its own orders of the stage, oldest first, with their count; and a journal written before
/// stages were kept gets the column at start, its orders listed only once they change.
/// </summary>
public sealed class FulfilmentBookTests
{
    private const string Product = "p_fulfilment";
    private static readonly DateTimeOffset Morning = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => new() { "memory", "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Stages_only_move_forward_and_lists_are_per_brand_and_stage_oldest_first(string store)
    {
        await using var opened = await OpenAsync(store);
        var book = opened.Book;
        // o_5 is placed first; a rival brand's order in the same batch.
        var placed = Enumerable.Range(0, 6).Select(i => Order($"o_{i}", "br_luce", Morning.AddMinutes(10 - i))).ToList();
        await opened.JournalAsync([.. placed, Order("o_rival", "br_rival", Morning)]);

        var toShip = await book.ListAsync("br_luce", FulfilmentStage.ToShip, limit: 4);
        Assert.Equal(6, toShip.Count);
        Assert.Equal(["o_5", "o_4", "o_3", "o_2"], toShip.Oldest.Select(o => o.OrderId));
        Assert.Equal(new FulfilmentItem("o_5", Morning.AddMinutes(5), "EUR", 1_999), toShip.Oldest[0]);

        // Shipped; shipped and delivered; cancelled; then the same changes again and out of order.
        await book.AdvanceAsync("o_5", FulfilmentStage.ToDeliver);
        await book.AdvanceAsync("o_4", FulfilmentStage.Done);
        await book.AdvanceAsync("o_4", FulfilmentStage.ToDeliver);
        await book.AdvanceAsync("o_3", FulfilmentStage.Done);
        await book.AdvanceAsync("o_5", FulfilmentStage.ToShip);
        await book.AdvanceAsync("o_2", FulfilmentStage.ToDeliver);
        await book.AdvanceAsync("o_2", FulfilmentStage.ToDeliver);
        // An order the journal does not have stays unknown.
        await book.AdvanceAsync("o_made_up", FulfilmentStage.ToDeliver);

        toShip = await book.ListAsync("br_luce", FulfilmentStage.ToShip, limit: 10);
        Assert.Equal(["o_1", "o_0"], toShip.Oldest.Select(o => o.OrderId));
        Assert.Equal(2, toShip.Count);
        var toDeliver = await book.ListAsync("br_luce", FulfilmentStage.ToDeliver, limit: 10);
        Assert.Equal(["o_5", "o_2"], toDeliver.Oldest.Select(o => o.OrderId));
        Assert.Equal(["o_4", "o_3"], (await book.ListAsync("br_luce", FulfilmentStage.Done, limit: 10)).Oldest.Select(o => o.OrderId));
        Assert.Equal(["o_rival"], (await book.ListAsync("br_rival", FulfilmentStage.ToShip, limit: 10)).Oldest.Select(o => o.OrderId));
        Assert.Equal(0, (await book.ListAsync("br_nobody", FulfilmentStage.ToShip, limit: 10)).Count);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Writers_racing_on_the_same_orders_leave_each_at_its_furthest_stage(string store)
    {
        await using var opened = await OpenAsync(store);
        var orders = Enumerable.Range(0, 30).Select(i => Order($"o_{i:D2}", "br_race", Morning.AddSeconds(i))).ToList();
        await opened.JournalAsync(orders);
        // Eight writers at once, each moving every order to some stage, in its own order: order i ends at stage i % 3.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var writes = Enumerable.Range(0, orders.Count).Select(i => (orders[i].OrderId, Stage: (FulfilmentStage)Math.Min(w % 3, i % 3)));
            foreach (var (orderId, stage) in w % 2 == 0 ? writes : writes.Reverse())
            {
                await opened.Book.AdvanceAsync(orderId, stage);
            }
        })));

        for (var stage = FulfilmentStage.ToShip; stage <= FulfilmentStage.Done; stage++)
        {
            var expected = Enumerable.Range(0, orders.Count).Where(i => i % 3 == (int)stage).Select(i => orders[i].OrderId).ToList();
            var listed = await opened.Book.ListAsync("br_race", stage, limit: 100);
            Assert.Equal(expected, listed.Oldest.Select(o => o.OrderId));
            Assert.Equal(expected.Count, listed.Count);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_journal_from_before_stages_gets_the_column_and_lists_its_orders_once_they_change(string store)
    {
        await using var opened = await OpenAsync(store);
        await opened.JournalAsync([Order("o_old_paid", "br_old", Morning), Order("o_old_shipped", "br_old", Morning.AddMinutes(1))]);
        // As a build that kept no stage left the table: no column, the former index.
        await opened.ExecuteAsync("DROP INDEX vetrina_journal_orders_stage; ALTER TABLE vetrina_journal_orders DROP COLUMN stage; "
            + "CREATE INDEX vetrina_journal_orders_brand ON vetrina_journal_orders (brand_id, created_at)");
        opened.Prepare();
        Assert.Equal((1L, 0L), (await opened.IndexCountAsync("vetrina_journal_orders_stage"), await opened.IndexCountAsync("vetrina_journal_orders_brand")));
        // Applied again, as every start does: nothing more.
        opened.Prepare();
        Assert.Equal((1L, 0L), (await opened.IndexCountAsync("vetrina_journal_orders_stage"), await opened.IndexCountAsync("vetrina_journal_orders_brand")));
        Assert.Equal(1L, await opened.ScalarAsync(opened.ColumnCountQuery("vetrina_journal_orders", "stage")));
        await opened.JournalAsync([Order("o_new", "br_old", Morning.AddMinutes(2))]);

        // Journalled before: no stage, in no list; journalled after: to ship.
        Assert.Equal(["o_new"], (await opened.Book.ListAsync("br_old", FulfilmentStage.ToShip, limit: 10)).Oldest.Select(o => o.OrderId));
        await opened.Book.AdvanceAsync("o_old_shipped", FulfilmentStage.ToDeliver);
        Assert.Equal(["o_old_shipped"], (await opened.Book.ListAsync("br_old", FulfilmentStage.ToDeliver, limit: 10)).Oldest.Select(o => o.OrderId));
        Assert.Equal(0L, await opened.ScalarAsync("SELECT count(*) FROM vetrina_journal_orders WHERE stage IS NULL AND order_id <> 'o_old_paid'"));
    }

    private static OrderDraft Order(string orderId, string brandId, DateTimeOffset createdAt) =>
        new(orderId, "k_" + orderId, "shopper", brandId, "EUR", "pay_" + orderId, createdAt, 14, [new OrderLine(Product, 1, 1_999, null, null, null)]);

    private static async Task<OpenedBook> OpenAsync(string store)
    {
        switch (store)
        {
            case "memory":
                var memory = new InMemorySalesJournal();
                return await OpenedBook.StartAsync(memory, memory, () => ValueTask.CompletedTask);
            case "sqlite":
                var folder = Path.Combine(Path.GetTempPath(), $"vetrina-fulfilment-{Guid.NewGuid():N}");
                var path = Path.Combine(folder, "vetrina.db");
                var sqlite = SqliteDatabase.Prepare(path);
                return await OpenedBook.StartAsync(new SqliteSalesJournal(sqlite), new SqliteFulfilmentBook(sqlite), () =>
                {
                    using (var connection = new SqliteConnection(sqlite))
                    {
                        SqliteConnection.ClearPool(connection);
                    }
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                }, () => SqliteDatabase.Prepare(path), async (sql, scalar) =>
                {
                    await using var connection = new SqliteConnection(sqlite);
                    await connection.OpenAsync();
                    await using var command = connection.CreateCommand();
                    command.CommandText = sql;
                    return scalar ? Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) : await command.ExecuteNonQueryAsync();
                });
            default:
                var postgres = PostgresDatabase.WithEngineDefaults(await TestPostgres.CreateDatabaseAsync("fulfilment"));
                PostgresDatabase.Prepare(postgres);
                var database = NpgsqlDataSource.Create(postgres);
                return await OpenedBook.StartAsync(new PostgresSalesJournal(database), new PostgresFulfilmentBook(database), database.DisposeAsync,
                    () => PostgresDatabase.Prepare(postgres), async (sql, scalar) =>
                    {
                        await using var command = database.CreateCommand(sql);
                        return scalar ? Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) : await command.ExecuteNonQueryAsync();
                    });
        }
    }

    /// <summary>A journal with a writer and the product's stock row open, and its fulfilment book.</summary>
    private sealed class OpenedBook(ISalesJournal journal, IFulfilmentBook book, Func<ValueTask> close, Action? prepare, Func<string, bool, Task<long>>? sql)
        : IAsyncDisposable
    {
        private const string Writer = "w_fulfilment";
        private long _sequence;

        public IFulfilmentBook Book { get; } = book;

        public static async Task<OpenedBook> StartAsync(ISalesJournal journal, IFulfilmentBook book, Func<ValueTask> close, Action? prepare = null,
            Func<string, bool, Task<long>>? sql = null)
        {
            await journal.OpenWriterAsync(Writer);
            await journal.OpenStockAsync(Product, 1_000_000);
            return new OpenedBook(journal, book, close, prepare, sql);
        }

        /// <summary>Journals the orders as one checkout's transaction does.</summary>
        public Task<JournalCommit> JournalAsync(IReadOnlyList<OrderDraft> orders) =>
            journal.CommitAsync(new JournalBatch(new JournalPosition(Writer, ++_sequence), [.. orders.Select(o => new CheckoutRecord(o.CheckoutId, [o], null))]));

        /// <summary>Applies the schema again, as a silo start does.</summary>
        public void Prepare() => prepare!();

        public Task<long> ExecuteAsync(string statement) => sql!(statement, false);

        public Task<long> ScalarAsync(string query) => sql!(query, true);

        /// <summary>How many indexes of the name the database has (its catalog differs by kind).</summary>
        public Task<long> IndexCountAsync(string name) => ScalarAsync(journal is PostgresSalesJournal
            ? $"SELECT count(*) FROM pg_indexes WHERE indexname = '{name}'"
            : $"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{name}'");

        public string ColumnCountQuery(string table, string column) => journal is PostgresSalesJournal
            ? $"SELECT count(*) FROM information_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'"
            : $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";

        public ValueTask DisposeAsync() => close();
    }
}
