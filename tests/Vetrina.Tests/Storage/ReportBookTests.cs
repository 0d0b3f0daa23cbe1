using Microsoft.Data.Sqlite;
using Npgsql;
using Vetrina.Grains.Reports;
using Vetrina.Silo.Storage;
using Vetrina.Silo.Storage.Postgres;
using Vetrina.Silo.Storage.Sqlite;

namespace Vetrina.Tests.Storage;

/// <summary>
/// The report book of every storage kind answers as the memory book does (the reference) and as sums worked out by
/// hand: cells of two owners, two currencies and clicks, over hours of two UTC days and several dimensions, added
/// once per operation id, also by writers running at once on the same rows.
/// </summary>
public sealed class ReportBookTests
{
    private const string Anna = "cr_anna";
    private const string Luce = "br_luce";
    private static readonly DateTimeOffset Day1 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Day2 = Day1.AddDays(1);
    private static readonly DateTimeOffset Day3 = Day2.AddDays(1);
    private static readonly DateTimeOffset D1H22 = Day1.AddHours(22);
    private static readonly DateTimeOffset D1H23 = Day1.AddHours(23);
    private static readonly DateTimeOffset D2H00 = Day2;
    private static readonly DateTimeOffset D2H01 = Day2.AddHours(1);
    private static readonly DateTimeOffset D2H02 = Day2.AddHours(2);

    public static TheoryData<string> Stores => new() { "memory", "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Every_store_adds_each_operation_once_and_answers_as_the_memory_book_and_the_hand_sums(string store)
    {
        await using var opened = await OpenAsync(store);
        var book = opened.Book;
        var reference = new InMemoryReportBook();

        await BothAsync(b => b.ApplyAsync("journal/1", FirstOperation()));
        await BothAsync(b => b.ApplyAsync("journal/1", FirstOperation()));
        await BothAsync(b => b.ApplyAsync("journal/1", [Sale(Anna, "", "EUR", D1H22, 1, 1, 999_999, 1)]));
        // Eight writers at once, on the same rows, each handing its cells in another order.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            book.ApplyAsync($"journal/concurrent-{i}", i % 2 == 0 ? ConcurrentOperation() : Enumerable.Reverse(ConcurrentOperation()).ToArray()))));
        for (var i = 0; i < 8; i++)
        {
            await reference.ApplyAsync($"journal/concurrent-{i}", ConcurrentOperation());
        }
        await BothAsync(b => b.ApplyAsync("journal/concurrent-3", ConcurrentOperation()));
        // Clicks a silo hands over carry no operation id: each hand-over adds.
        await BothAsync(b => b.AddAsync(TalliedClicks()));
        await BothAsync(b => b.AddAsync(TalliedClicks()));
        await BothAsync(b => b.AddAsync([]));

        // The memory book's answers, for every owner, interval, currency, period and prefix asked.
        foreach (var owner in new[] { Anna, Luce, "cr_nobody" })
        {
            Assert.Equal(await reference.CurrenciesAsync(owner), await book.CurrenciesAsync(owner));
            foreach (var query in Queries(owner))
            {
                Assert.Equal(await reference.SeriesAsync(query), await book.SeriesAsync(query));
                foreach (var prefix in new[] { ReportDimensions.ProductPrefix, ReportDimensions.LinkPrefix, ReportDimensions.CreatorPrefix,
                    ReportDimensions.ChannelPrefix, "product", "" })
                {
                    foreach (var limit in new[] { 0, 1, 2, 3, 100 })
                    {
                        Assert.Equal(await reference.BreakdownAsync(query, prefix, limit), await book.BreakdownAsync(query, prefix, limit));
                    }
                }
            }
        }

        // And the sums by hand. Hours: EUR sales and clicks (no currency); the USD sale of 23:00 is left out.
        Assert.Equal(
            [
                new ReportFigures("", D1H22, 10, 1, 2, 1000, 100),
                new ReportFigures("", D2H00, 0, 3, 4, 3100, 310),
                new ReportFigures("", D2H01, 9, 8, 8, 800, 80),
            ],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Hour, "EUR", D1H22, D2H02)));
        Assert.Equal(
            [
                new ReportFigures("", D1H22, 10, 0, 0, 0, 0),
                new ReportFigures("", D1H23, 0, 1, 1, 500, 50),
                new ReportFigures("", D2H01, 9, 0, 0, 0, 0),
            ],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Hour, "USD", D1H22, D2H02)));
        // From is in the period, Until is not.
        Assert.Equal([new ReportFigures("", D2H00, 0, 3, 4, 3100, 310)],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Hour, "EUR", D2H00, D2H01)));
        Assert.Equal([new ReportFigures("", D1H22, 10, 1, 2, 1000, 100)],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Hour, "EUR", D1H22, D2H00)));
        Assert.Empty(await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Hour, "EUR", D2H02, Day3)));
        // Days: the hours of each UTC day summed, the sale placed at 02:30+02:00 in the second.
        Assert.Equal(
            [
                new ReportFigures("", Day1, 10, 1, 2, 1000, 100),
                new ReportFigures("", Day2, 9, 11, 12, 3900, 390),
            ],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Day, "EUR", Day1, Day3)));
        Assert.Equal([new ReportFigures("", Day2, 9, 11, 12, 3900, 390)],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Day, "EUR", Day2, Day3)));
        Assert.Equal([new ReportFigures("", Day1, 10, 1, 2, 1000, 100)],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Day, "EUR", Day1, Day2)));
        Assert.Equal([new ReportFigures("", Day1, 10, 0, 0, 0, 0), new ReportFigures("", Day2, 9, 0, 0, 0, 0)],
            await book.SeriesAsync(new ReportQuery(Anna, ReportInterval.Day, "", Day1, Day3)));

        // Products over both days: most GMV first, then most clicks, then key; "product;odd" is no product.
        var days = new ReportQuery(Anna, ReportInterval.Day, "EUR", Day1, Day3);
        Assert.Equal(
            [
                new ReportFigures("p1", Day1, 6, 11, 12, 2900, 290),
                new ReportFigures("p3", Day1, 5, 1, 2, 2000, 200),
                new ReportFigures("p5", Day1, 7, 0, 0, 0, 0),
                new ReportFigures("p2", Day1, 4, 0, 0, 0, 0),
                new ReportFigures("p4", Day1, 4, 0, 0, 0, 0),
            ],
            await book.BreakdownAsync(days, ReportDimensions.ProductPrefix, 100));
        Assert.Equal(["p1", "p3"], (await book.BreakdownAsync(days, ReportDimensions.ProductPrefix, 2)).Select(f => f.Key));
        Assert.Equal([new ReportFigures("l1", Day1, 4, 1, 2, 1000, 100)], await book.BreakdownAsync(days, ReportDimensions.LinkPrefix, 10));
        Assert.Equal(
            [
                new ReportFigures("p3", D2H00, 0, 1, 2, 2000, 200),
                new ReportFigures("p1", D2H00, 0, 2, 2, 1100, 110),
            ],
            await book.BreakdownAsync(new ReportQuery(Anna, ReportInterval.Hour, "EUR", D2H00, D2H01), ReportDimensions.ProductPrefix, 10));
        Assert.Equal(["odd"], (await book.BreakdownAsync(days, "product;", 10)).Select(f => f.Key));
        // The brand: forty creators' sales from the eight writers, each counted eight times.
        Assert.Equal(
            [
                new ReportFigures("c39", Day1, 0, 8, 8, 3200, 320),
                new ReportFigures("c38", Day1, 0, 8, 8, 3120, 312),
                new ReportFigures("c37", Day1, 0, 8, 8, 3040, 304),
            ],
            await book.BreakdownAsync(new ReportQuery(Luce, ReportInterval.Day, "EUR", Day1, Day3), ReportDimensions.CreatorPrefix, 3));
        Assert.Equal(
            [new ReportFigures("", D1H23, 0, 1, 2, 1000, 100), new ReportFigures("", D2H00, 3, 0, 0, 0, 0), new ReportFigures("", D2H01, 0, 8, 8, 800, 80)],
            await book.SeriesAsync(new ReportQuery(Luce, ReportInterval.Hour, "EUR", Day1, Day3)));

        Assert.Equal(["EUR", "USD"], await book.CurrenciesAsync(Anna));
        Assert.Equal(["EUR"], await book.CurrenciesAsync(Luce));
        Assert.Empty(await book.CurrenciesAsync("cr_nobody"));

        async Task BothAsync(Func<IReportBook, Task> write)
        {
            await write(book);
            await write(reference);
        }
    }

    private static ReportCell[] FirstOperation() =>
    [
        Sale(Anna, "", "EUR", D1H22, 1, 2, 1000, 100),
        Sale(Anna, "product:p1", "EUR", D1H22, 1, 2, 1000, 100),
        Sale(Anna, "link:l1", "EUR", D1H22, 1, 2, 1000, 100),
        Sale(Anna, "product;odd", "EUR", D1H22, 1, 1, 7777, 1),
        Sale(Anna, "", "USD", D1H23, 1, 1, 500, 50),
        Sale(Anna, "product:p2", "USD", D1H23, 1, 1, 500, 50),
        Sale(Anna, "", "EUR", D2H00, 1, 1, 1000, 100),
        Sale(Anna, "", "EUR", D2H00, 1, 2, 2000, 200),
        Sale(Anna, "product:p1", "EUR", D2H00, 1, 1, 1000, 100),
        Sale(Anna, "product:p3", "EUR", D2H00, 1, 2, 2000, 200),
        // Placed at 00:30 UTC, written with its local offset and minutes: it counts in the hour 00:00 UTC.
        Sale(Anna, "", "EUR", new DateTimeOffset(2026, 3, 2, 2, 30, 0, TimeSpan.FromHours(2)), 1, 1, 100, 10),
        Sale(Anna, "product:p1", "EUR", new DateTimeOffset(2026, 3, 2, 2, 30, 0, TimeSpan.FromHours(2)), 1, 1, 100, 10),
        Clicks(Anna, "", D1H22, 10),
        Clicks(Anna, "product:p1", D1H22, 6),
        Clicks(Anna, "product:p2", D1H22, 4),
        Clicks(Anna, "product:p4", D1H22, 4),
        Clicks(Anna, "product:p5", D1H23, 7),
        Clicks(Anna, "", D2H01, 5),
        Clicks(Anna, "product:p3", D2H01, 5),
        Sale(Luce, "", "EUR", D1H23, 1, 2, 1000, 100),
        Sale(Luce, "channel:link", "EUR", D1H23, 1, 2, 1000, 100),
        Sale(Luce, "creator:cr_anna", "EUR", D1H23, 1, 2, 1000, 100),
        Clicks(Luce, "", D2H00, 3),
    ];

    private static ReportCell[] ConcurrentOperation() =>
    [
        Sale(Anna, "", "EUR", D2H01, 1, 1, 100, 10),
        Sale(Anna, "product:p1", "EUR", D2H01, 1, 1, 100, 10),
        Sale(Luce, "", "EUR", D2H01, 1, 1, 100, 10),
        Sale(Luce, "channel:link", "EUR", D2H01, 1, 1, 100, 10),
        .. Enumerable.Range(0, 40).Select(k => Sale(Luce, $"creator:c{k:D2}", "EUR", D2H01, 1, 1, 10 * (k + 1), k + 1)),
    ];

    private static ReportCell[] TalliedClicks() =>
    [
        Clicks(Anna, "", D2H01, 2),
        Clicks(Anna, "link:l1", D2H01, 2),
    ];

    private static IEnumerable<ReportQuery> Queries(string owner)
    {
        foreach (var currency in new[] { "EUR", "USD", "", "GBP" })
        {
            yield return new ReportQuery(owner, ReportInterval.Hour, currency, D1H22, D2H02);
            yield return new ReportQuery(owner, ReportInterval.Hour, currency, D1H23, D2H01);
            yield return new ReportQuery(owner, ReportInterval.Hour, currency, D2H00, D2H01);
            yield return new ReportQuery(owner, ReportInterval.Hour, currency, Day1, Day3);
            yield return new ReportQuery(owner, ReportInterval.Day, currency, Day1, Day3);
            yield return new ReportQuery(owner, ReportInterval.Day, currency, Day1, Day2);
            yield return new ReportQuery(owner, ReportInterval.Day, currency, Day2, Day3);
        }
    }

    private static ReportCell Sale(string owner, string dimension, string currency, DateTimeOffset at, long orders, long units, long gmv, long commission) =>
        new(owner, dimension, currency, at, 0, orders, units, gmv, commission);

    private static ReportCell Clicks(string owner, string dimension, DateTimeOffset hour, long clicks) =>
        new(owner, dimension, "", hour, clicks, 0, 0, 0, 0);

    private static async Task<OpenedBook> OpenAsync(string store)
    {
        switch (store)
        {
            case "memory":
                return new OpenedBook(new InMemoryReportBook(), () => ValueTask.CompletedTask);
            case "sqlite":
                var folder = Path.Combine(Path.GetTempPath(), $"vetrina-reports-{Guid.NewGuid():N}");
                var sqlite = SqliteDatabase.Prepare(Path.Combine(folder, "vetrina.db"));
                return new OpenedBook(new SqliteReportBook(sqlite), () =>
                {
                    using (var connection = new SqliteConnection(sqlite))
                    {
                        SqliteConnection.ClearPool(connection);
                    }
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                });
            default:
                var postgres = PostgresDatabase.WithEngineDefaults(await TestPostgres.CreateDatabaseAsync("reports"));
                PostgresDatabase.Prepare(postgres);
                var database = NpgsqlDataSource.Create(postgres);
                return new OpenedBook(new PostgresReportBook(database), database.DisposeAsync);
        }
    }

    private sealed class OpenedBook(IReportBook book, Func<ValueTask> close) : IAsyncDisposable
    {
        public IReportBook Book { get; } = book;

        public ValueTask DisposeAsync() => close();
    }
}
