using Microsoft.Data.Sqlite;
using Npgsql;
using Vetrina.Grains.Orders;
using Vetrina.Silo.Storage;
using Vetrina.Silo.Storage.Postgres;
using Vetrina.Silo.Storage.Sqlite;

namespace Vetrina.Tests.Storage;

/// <summary>
/// The fulfilment book of every storage kind: an order's stage only moves forward whatever order its writes come in
/// (a late or repeated placement never reopens a shipped order), writers racing on the same orders end at the
/// furthest stage, and a brand's list holds only its own orders of the stage, oldest first, with their count.
/// </summary>
public sealed class FulfilmentBookTests
{
    private static readonly DateTimeOffset Morning = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Stores => new() { "memory", "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Stages_only_move_forward_and_lists_are_per_brand_and_stage_oldest_first(string store)
    {
        await using var opened = await OpenAsync(store);
        var book = opened.Book;
        var placed = Enumerable.Range(0, 6).Select(i => Entry($"o_{i}", "br_luce", FulfilmentStage.ToShip, Morning.AddMinutes(10 - i))).ToList();
        await book.RecordAsync([.. placed, Entry("o_rival", "br_rival", FulfilmentStage.ToShip, Morning)]);

        // o_5 is the oldest (placed first); the limit keeps the oldest.
        var toShip = await book.ListAsync("br_luce", FulfilmentStage.ToShip, limit: 4);
        Assert.Equal(6, toShip.Count);
        Assert.Equal(["o_5", "o_4", "o_3", "o_2"], toShip.Oldest.Select(o => o.OrderId));
        Assert.Equal(placed[5], toShip.Oldest[0]);

        // Shipped, delivered, cancelled; then the placement arrives again (a projection round re-sent after a takeover).
        await book.RecordAsync([placed[5] with { Stage = FulfilmentStage.ToDeliver }, placed[4] with { Stage = FulfilmentStage.ToDeliver }]);
        await book.RecordAsync([placed[4] with { Stage = FulfilmentStage.Done }, placed[3] with { Stage = FulfilmentStage.Done }]);
        await book.RecordAsync(placed);
        // A shipment written before its placement reached the book: the placement comes after and changes nothing.
        var early = Entry("o_early", "br_luce", FulfilmentStage.ToDeliver, Morning.AddHours(1));
        await book.RecordAsync([early]);
        await book.RecordAsync([early with { Stage = FulfilmentStage.ToShip }]);
        // One write carrying the same order twice keeps the furthest stage.
        await book.RecordAsync([placed[2] with { Stage = FulfilmentStage.ToDeliver }, placed[2]]);

        toShip = await book.ListAsync("br_luce", FulfilmentStage.ToShip, limit: 10);
        Assert.Equal(["o_1", "o_0"], toShip.Oldest.Select(o => o.OrderId));
        Assert.Equal(2, toShip.Count);
        var toDeliver = await book.ListAsync("br_luce", FulfilmentStage.ToDeliver, limit: 10);
        Assert.Equal(["o_5", "o_2", "o_early"], toDeliver.Oldest.Select(o => o.OrderId));
        Assert.All(toDeliver.Oldest, o => Assert.Equal(FulfilmentStage.ToDeliver, o.Stage));
        Assert.Equal(["o_rival"], (await book.ListAsync("br_rival", FulfilmentStage.ToShip, limit: 10)).Oldest.Select(o => o.OrderId));
        Assert.Equal(0, (await book.ListAsync("br_nobody", FulfilmentStage.ToShip, limit: 10)).Count);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Writers_racing_on_the_same_orders_leave_each_at_its_furthest_stage(string store)
    {
        await using var opened = await OpenAsync(store);
        var orders = Enumerable.Range(0, 40).Select(i => Entry($"o_{i:D2}", "br_race", FulfilmentStage.ToShip, Morning.AddSeconds(i))).ToList();
        // Eight writers at once, each with every order at some stage, in its own order: order i ends at stage i % 3.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() =>
        {
            var writes = orders.Select(o => o with { Stage = (FulfilmentStage)Math.Min(w % 3, int.Parse(o.OrderId[2..], System.Globalization.CultureInfo.InvariantCulture) % 3) });
            return opened.Book.RecordAsync(w % 2 == 0 ? writes.ToList() : writes.Reverse().ToList());
        })));

        for (var stage = FulfilmentStage.ToShip; stage <= FulfilmentStage.Done; stage++)
        {
            var expected = orders.Where(o => int.Parse(o.OrderId[2..], System.Globalization.CultureInfo.InvariantCulture) % 3 == (int)stage).Select(o => o.OrderId).ToList();
            var listed = await opened.Book.ListAsync("br_race", stage, limit: 100);
            Assert.Equal(expected, listed.Oldest.Select(o => o.OrderId));
            Assert.Equal(expected.Count, listed.Count);
        }
    }

    private static FulfilmentEntry Entry(string orderId, string brandId, FulfilmentStage stage, DateTimeOffset createdAt) =>
        new(orderId, brandId, stage, createdAt, "EUR", 1_999);

    private static async Task<OpenedBook> OpenAsync(string store)
    {
        switch (store)
        {
            case "memory":
                return new OpenedBook(new InMemoryFulfilmentBook(), () => ValueTask.CompletedTask);
            case "sqlite":
                var folder = Path.Combine(Path.GetTempPath(), $"vetrina-fulfilment-{Guid.NewGuid():N}");
                var sqlite = SqliteDatabase.Prepare(Path.Combine(folder, "vetrina.db"));
                return new OpenedBook(new SqliteFulfilmentBook(sqlite), () =>
                {
                    using (var connection = new SqliteConnection(sqlite))
                    {
                        SqliteConnection.ClearPool(connection);
                    }
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                });
            default:
                var postgres = PostgresDatabase.WithEngineDefaults(await TestPostgres.CreateDatabaseAsync("fulfilment"));
                PostgresDatabase.Prepare(postgres);
                var database = NpgsqlDataSource.Create(postgres);
                return new OpenedBook(new PostgresFulfilmentBook(database), database.DisposeAsync);
        }
    }

    private sealed class OpenedBook(IFulfilmentBook book, Func<ValueTask> close) : IAsyncDisposable
    {
        public IFulfilmentBook Book { get; } = book;

        public ValueTask DisposeAsync() => close();
    }
}
