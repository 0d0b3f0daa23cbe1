using Microsoft.Data.Sqlite;
using Npgsql;
using Vetrina.Grains.Ads;
using Vetrina.Silo.Storage;
using Vetrina.Silo.Storage.Postgres;
using Vetrina.Silo.Storage.Sqlite;
using static Vetrina.Grains.Ads.AdChargeResult;

namespace Vetrina.Tests.Storage;

/// <summary>
/// The spend store of every storage kind decides paid clicks as the memory store does (the reference, fed the same
/// input in the same order) and as worked out by hand: in order up to the last click that fits either budget, the
/// daily budget from zero on each UTC day and the total budget not, a shopper's repeat on an ad free for 24 hours,
/// unknown campaigns, budgets lowered below the spend; and batches charging one campaign at once, from one store or
/// from two (two silos), charge exactly what the budget fits.
/// </summary>
public sealed class AdSpendStoreTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Day2 = Day1.AddDays(1);
    private static readonly DateTimeOffset Day3 = Day2.AddDays(1);

    public static TheoryData<string> Stores => new() { "memory", "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Clicks_are_charged_in_order_while_they_fit_and_never_a_minor_unit_over_either_budget(string store)
    {
        await using var opened = await OpenAsync(store);
        var spend = new Compared(opened.Store);
        await spend.OpenAsync("cmp_daily", new AdBudget(1000, null));
        await spend.OpenAsync("cmp_total", new AdBudget(5000, 1000));
        var at = Day1.AddHours(9);

        // Twenty clicks of 70 on each campaign, interleaved: 14 × 70 = 980 fit either budget, a 15th would be 1050.
        var clicks = Enumerable.Range(0, 20).SelectMany(i => new[] { Click("cmp_total", "pr_1", $"sh_{i}", 70), Click("cmp_daily", "pr_1", $"sh_{i}", 70) });
        Assert.Equal([.. Enumerable.Repeat(Charged, 28), .. Enumerable.Repeat(OverBudget, 12)], await spend.ChargeAsync([.. clicks], at));

        // 20 left of each: 21 does not fit, 20 does, then nothing but a free click.
        Assert.Equal([OverBudget, Charged, OverBudget, OverBudget, Charged, OverBudget, Charged],
            await spend.ChargeAsync(
            [
                Click("cmp_daily", "pr_2", "sh_a", 21), Click("cmp_daily", "pr_2", "sh_b", 20), Click("cmp_daily", "pr_2", "sh_c", 1),
                Click("cmp_total", "pr_2", "sh_a", 21), Click("cmp_total", "pr_2", "sh_b", 20), Click("cmp_total", "pr_2", "sh_c", 1),
                Click("cmp_daily", "pr_2", "sh_free", 0),
            ], at.AddMinutes(1)));

        var read = await spend.ReadAsync(["cmp_daily", "cmp_total"], at.AddMinutes(2));
        Assert.Equal(new AdSpend("cmp_daily", 1000, 1000, new DateOnly(2026, 3, 1), 16, new AdBudget(1000, null)), read["cmp_daily"]);
        Assert.Equal(new AdSpend("cmp_total", 1000, 1000, new DateOnly(2026, 3, 1), 15, new AdBudget(5000, 1000)), read["cmp_total"]);
        Assert.Equal(0, read["cmp_daily"].RemainingMinor);

        // The next day the daily budget is whole again; the total is still spent.
        Assert.Equal([Charged, OverBudget], await spend.ChargeAsync([Click("cmp_daily", "pr_3", "sh_a", 70), Click("cmp_total", "pr_3", "sh_a", 1)], Day2));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_daily_budget_starts_again_at_each_UTC_midnight_and_the_total_budget_does_not(string store)
    {
        await using var opened = await OpenAsync(store);
        var spend = new Compared(opened.Store);
        await spend.OpenAsync("cmp_both", new AdBudget(300, 500));
        await spend.OpenAsync("cmp_day", new AdBudget(250, null));

        // Day 1: three clicks of 100 fit 300, two fit 250.
        Assert.Equal([Charged, Charged, Charged, Charged, Charged, OverBudget, OverBudget],
            await spend.ChargeAsync(
            [
                Click("cmp_both", "pr_1", "sh_0", 100), Click("cmp_day", "pr_1", "sh_0", 100), Click("cmp_both", "pr_1", "sh_1", 100),
                Click("cmp_day", "pr_1", "sh_1", 100), Click("cmp_both", "pr_1", "sh_2", 100), Click("cmp_day", "pr_1", "sh_2", 100),
                Click("cmp_both", "pr_1", "sh_3", 100),
            ], Day1.AddHours(10)));
        // Still day 1 in UTC: 01:00 at +02:00 is 23:00 UTC, and the last tick before midnight.
        var late = new DateTimeOffset(2026, 3, 2, 1, 0, 0, TimeSpan.FromHours(2));
        Assert.Equal([OverBudget, OverBudget], await spend.ChargeAsync([Click("cmp_both", "pr_1", "sh_4", 100), Click("cmp_day", "pr_1", "sh_4", 100)], late));
        Assert.Equal([OverBudget], await spend.ChargeAsync([Click("cmp_both", "pr_1", "sh_5", 100)], Day2.AddTicks(-1)));
        Assert.Equal(new AdSpend("cmp_both", 300, 300, new DateOnly(2026, 3, 1), 3, new AdBudget(300, 500)),
            (await spend.ReadAsync(["cmp_both"], late))["cmp_both"]);
        // Read on day 2 before any charge: nothing spent today, the day is day 2.
        Assert.Equal(new AdSpend("cmp_both", 300, 0, new DateOnly(2026, 3, 2), 3, new AdBudget(300, 500)),
            (await spend.ReadAsync(["cmp_both"], Day2))["cmp_both"]);

        // Day 2 from midnight: today counts from 0, but only 200 is left of the total.
        Assert.Equal([Charged, Charged, Charged, Charged, OverBudget, OverBudget],
            await spend.ChargeAsync(
            [
                Click("cmp_both", "pr_2", "sh_6", 100), Click("cmp_day", "pr_2", "sh_6", 100), Click("cmp_both", "pr_2", "sh_7", 100),
                Click("cmp_day", "pr_2", "sh_7", 100), Click("cmp_both", "pr_2", "sh_8", 100), Click("cmp_day", "pr_2", "sh_8", 100),
            ], Day2));
        var read = await spend.ReadAsync(["cmp_both", "cmp_day"], Day2.AddHours(12));
        Assert.Equal(new AdSpend("cmp_both", 500, 200, new DateOnly(2026, 3, 2), 5, new AdBudget(300, 500)), read["cmp_both"]);
        Assert.Equal(new AdSpend("cmp_day", 400, 200, new DateOnly(2026, 3, 2), 4, new AdBudget(250, null)), read["cmp_day"]);

        // Day 3: a new day, but the total is spent.
        Assert.Equal([OverBudget, Charged], await spend.ChargeAsync([Click("cmp_both", "pr_3", "sh_9", 100), Click("cmp_day", "pr_3", "sh_9", 100)], Day3));
        read = await spend.ReadAsync(["cmp_both", "cmp_day"], Day3.AddHours(1));
        Assert.Equal(new AdSpend("cmp_both", 500, 0, new DateOnly(2026, 3, 3), 5, new AdBudget(300, 500)), read["cmp_both"]);
        Assert.Equal(new AdSpend("cmp_day", 500, 100, new DateOnly(2026, 3, 3), 5, new AdBudget(250, null)), read["cmp_day"]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_shoppers_repeat_on_an_ad_is_free_for_24_hours_also_within_one_batch(string store)
    {
        await using var opened = await OpenAsync(store);
        var spend = new Compared(opened.Store);
        await spend.OpenAsync("cmp_a", new AdBudget(10_000, null));
        await spend.OpenAsync("cmp_b", new AdBudget(10_000, null));
        var at = Day1.AddHours(20);

        Assert.Equal([Charged], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_1", 10)], at));
        // The same product and shopper repeat; another product, another shopper or another campaign do not.
        Assert.Equal([Repeat, Charged, Charged, Charged],
            await spend.ChargeAsync(
                [Click("cmp_a", "pr_1", "sh_1", 10), Click("cmp_a", "pr_2", "sh_1", 10), Click("cmp_a", "pr_1", "sh_2", 10), Click("cmp_b", "pr_1", "sh_1", 10)],
                at.AddHours(1)));
        Assert.Equal([Repeat], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_1", 10)], at.AddDays(1).AddTicks(-1)));
        Assert.Equal([Charged], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_1", 10)], at.AddDays(1)));
        Assert.Equal([Repeat, Repeat], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_1", 10), Click("cmp_a", "pr_2", "sh_1", 10)], at.AddDays(1).AddHours(1).AddTicks(-1)));
        Assert.Equal([Repeat, Charged], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_1", 10), Click("cmp_a", "pr_2", "sh_1", 10)], at.AddDays(1).AddHours(1)));

        // Within one batch: a second click repeats a first that was charged, not one that did not fit.
        await spend.OpenAsync("cmp_c", new AdBudget(15, null));
        Assert.Equal([OverBudget, Charged, Repeat, Charged, Repeat, OverBudget],
            await spend.ChargeAsync(
            [
                Click("cmp_c", "pr_1", "sh_x", 20), Click("cmp_c", "pr_1", "sh_x", 10), Click("cmp_c", "pr_1", "sh_x", 1),
                Click("cmp_c", "pr_1", "sh_y", 1), Click("cmp_c", "pr_1", "sh_y", 100), Click("cmp_c", "pr_1", "sh_z", 5),
            ], at));

        var read = await spend.ReadAsync(["cmp_a", "cmp_b", "cmp_c"], at.AddDays(1).AddHours(2));
        Assert.Equal((50L, 20L, 5L), (read["cmp_a"].SpentMinor, read["cmp_a"].SpentTodayMinor, read["cmp_a"].ChargedClicks));
        Assert.Equal((10L, 1L), (read["cmp_b"].SpentMinor, read["cmp_b"].ChargedClicks));
        Assert.Equal((11L, 2L), (read["cmp_c"].SpentMinor, read["cmp_c"].ChargedClicks));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Unknown_campaigns_are_not_charged_not_changed_and_not_read(string store)
    {
        await using var opened = await OpenAsync(store);
        var spend = new Compared(opened.Store);
        var at = Day1.AddHours(8);
        await spend.OpenAsync("cmp_a", new AdBudget(1000, 2000));
        // Opening again changes nothing; setting an unknown campaign's budget creates nothing.
        await spend.OpenAsync("cmp_a", new AdBudget(1, 1));
        await spend.SetBudgetAsync("cmp_missing", new AdBudget(5, 5));

        Assert.Equal([NoCampaign, Charged, NoCampaign, NoCampaign],
            await spend.ChargeAsync(
                [Click("cmp_missing", "pr_1", "sh_1", 10), Click("cmp_a", "pr_1", "sh_1", 10), Click("cmp_missing", "pr_1", "sh_1", 10), Click("cmp_other", "pr_1", "sh_2", 10)],
                at));
        Assert.Equal([NoCampaign], await spend.ChargeAsync([Click("cmp_missing", "pr_1", "sh_1", 10)], at));
        Assert.Empty(await spend.ChargeAsync([], at));

        var read = await spend.ReadAsync(["cmp_missing", "cmp_a", "cmp_other", "cmp_a"], at);
        Assert.Equal(["cmp_a"], read.Keys);
        Assert.Equal(new AdSpend("cmp_a", 10, 10, new DateOnly(2026, 3, 1), 1, new AdBudget(1000, 2000)), read["cmp_a"]);
        Assert.Empty(await spend.ReadAsync([], at));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_budget_lowered_below_the_spend_charges_nothing_more_and_keeps_the_spend(string store)
    {
        await using var opened = await OpenAsync(store);
        var spend = new Compared(opened.Store);
        await spend.OpenAsync("cmp_a", new AdBudget(1000, null));
        Assert.Equal(Enumerable.Repeat(Charged, 6), await spend.ChargeAsync(Clicks("cmp_a", "d1", 6, 100), Day1.AddHours(9)));

        await spend.SetBudgetAsync("cmp_a", new AdBudget(400, null));
        Assert.Equal([OverBudget, OverBudget], await spend.ChargeAsync([Click("cmp_a", "pr_1", "sh_late", 100), Click("cmp_a", "pr_1", "sh_free", 0)], Day1.AddHours(10)));
        var read = (await spend.ReadAsync(["cmp_a"], Day1.AddHours(10)))["cmp_a"];
        Assert.Equal(new AdSpend("cmp_a", 600, 600, new DateOnly(2026, 3, 1), 6, new AdBudget(400, null)), read);
        Assert.Equal(-200, read.RemainingMinor);

        // The next day the lower daily budget applies in full.
        Assert.Equal([Charged, Charged, Charged, Charged, OverBudget], await spend.ChargeAsync(Clicks("cmp_a", "d2", 5, 100), Day2.AddHours(9)));
        // A total below the spend: nothing; a total above it: what is left of it.
        await spend.SetBudgetAsync("cmp_a", new AdBudget(400, 900));
        Assert.Equal([OverBudget], await spend.ChargeAsync(Clicks("cmp_a", "d3a", 1, 100), Day3.AddHours(9)));
        await spend.SetBudgetAsync("cmp_a", new AdBudget(400, 1200));
        Assert.Equal([Charged, Charged, OverBudget], await spend.ChargeAsync(Clicks("cmp_a", "d3b", 3, 100), Day3.AddHours(10)));
        Assert.Equal(new AdSpend("cmp_a", 1200, 200, new DateOnly(2026, 3, 3), 12, new AdBudget(400, 1200)),
            (await spend.ReadAsync(["cmp_a"], Day3.AddHours(10)))["cmp_a"]);
        // Raised again, it charges up to the new daily budget.
        await spend.SetBudgetAsync("cmp_a", new AdBudget(1000, null));
        Assert.Equal([.. Enumerable.Repeat(Charged, 8), OverBudget], await spend.ChargeAsync(Clicks("cmp_a", "d3c", 9, 100), Day3.AddHours(11)));
        Assert.Equal(new AdSpend("cmp_a", 2000, 1000, new DateOnly(2026, 3, 3), 20, new AdBudget(1000, null)),
            (await spend.ReadAsync(["cmp_a"], Day3.AddHours(11)))["cmp_a"]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Sixteen_batches_at_once_charge_exactly_the_300_clicks_the_budget_fits(string store)
    {
        await using var opened = await OpenAsync(store);
        await RaceAsync([opened.Store]);
    }

    [Fact]
    public async Task Two_silos_charging_one_campaign_at_once_charge_exactly_the_300_clicks_the_budget_fits()
    {
        await using var opened = await OpenAsync("postgres");
        // A store of its own, on a data source (a connection pool) of its own: as a second silo has.
        await RaceAsync([opened.Store, opened.Another()]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Batches_at_once_with_the_same_shoppers_charge_each_of_them_once(string store)
    {
        await using var opened = await OpenAsync(store);
        IAdSpendStore[] stores = [opened.Store, opened.Another()];
        await opened.Store.OpenAsync("cmp_a", new AdBudget(1_000_000, null));
        var at = Day1.AddHours(12);
        // Eight batches of the same 200 products and shoppers, each in another order, through two stores in turn.
        var pairs = Enumerable.Range(0, 200).Select(i => Click("cmp_a", $"pr_{i % 3}", $"sh_{i}", 7)).ToArray();
        var batches = Enumerable.Range(0, 8).Select(k => pairs.OrderBy(c => (c.ShopperId.GetHashCode(StringComparison.Ordinal) ^ k * 7919) % 1000).ToArray()).ToArray();

        var results = await Task.WhenAll(batches.Select((batch, k) => Task.Run(() => stores[k % 2].ChargeAsync(batch, at.AddSeconds(k)))));

        // Each click once Charged, seven times Repeat, whichever batch got there first.
        foreach (var click in pairs)
        {
            var outcomes = batches.SelectMany((batch, k) => batch.Select((c, i) => (c, r: results[k][i]))).Where(x => x.c == click).Select(x => x.r).ToArray();
            Assert.Equal(1, outcomes.Count(r => r == Charged));
            Assert.Equal(7, outcomes.Count(r => r == Repeat));
        }
        var read = (await stores[1].ReadAsync(["cmp_a"], at.AddMinutes(1)))["cmp_a"];
        Assert.Equal((200 * 7L, 200L), (read.SpentMinor, read.ChargedClicks));
    }

    private const long RaceCost = 37;
    private const int RaceFits = 300;

    /// <summary>
    /// 2,000 clicks of 37 on one campaign whose daily budget fits 300 of them (and 36 more minor units), in 16 batches
    /// of mixed sizes charged at once through the stores in turn; each batch also charges five clicks of a second
    /// campaign, before its own for even batches and after them for odd ones (the locks are taken in id order anyway).
    /// </summary>
    private static async Task RaceAsync(IReadOnlyList<IAdSpendStore> stores)
    {
        int[] sizes = [1, 3, 7, 15, 31, 63, 127, 255, 400, 300, 200, 150, 100, 150, 98, 100];
        Assert.Equal(2000, sizes.Sum());
        var at = Day1.AddHours(12);
        var budget = new AdBudget(RaceFits * RaceCost + RaceCost - 1, null);
        var reference = new InMemoryAdSpendStore();
        foreach (var store in new[] { stores[0], reference })
        {
            await store.OpenAsync("cmp_race", budget);
            await store.OpenAsync("cmp_side", new AdBudget(1_000_000, 2_000_000));
        }
        var batches = sizes.Select((size, k) =>
        {
            var race = Enumerable.Range(0, size).Select(j => Click("cmp_race", $"pr_{j % 7}", $"sh_{k}_{j}", RaceCost));
            var side = Enumerable.Range(0, 5).Select(j => Click("cmp_side", "pr_side", $"sh_{k}_side_{j}", 3));
            return (k % 2 == 0 ? side.Concat(race) : race.Concat(side)).ToArray();
        }).ToArray();

        var results = await Task.WhenAll(batches.Select((batch, k) => Task.Run(() => stores[k % stores.Count].ChargeAsync(batch, at))));

        var partial = 0;
        for (var k = 0; k < batches.Length; k++)
        {
            var race = batches[k].Select((c, i) => (c, r: results[k][i])).Where(x => x.c.CampaignId == "cmp_race").Select(x => x.r).ToArray();
            var charged = race.Count(r => r == Charged);
            // The batch saw the campaign as some order of whole batches left it: its charged clicks are its first ones.
            Assert.Equal([.. Enumerable.Repeat(Charged, charged), .. Enumerable.Repeat(OverBudget, race.Length - charged)], race);
            partial += charged > 0 && charged < race.Length ? 1 : 0;
            Assert.All(batches[k].Select((c, i) => (c, r: results[k][i])).Where(x => x.c.CampaignId == "cmp_side"), x => Assert.Equal(Charged, x.r));
        }
        Assert.True(partial <= 1, $"{partial} batches were charged in part; in any order of whole batches at most one is.");
        Assert.Equal(RaceFits, results.Sum(r => r.Count(x => x == Charged)) - 5 * batches.Length);

        // The same batches one after another in the memory store: the same totals.
        foreach (var batch in batches)
        {
            await reference.ChargeAsync(batch, at);
        }
        var ids = new[] { "cmp_race", "cmp_side" };
        foreach (var store in stores)
        {
            var read = await store.ReadAsync(ids, at.AddMinutes(1));
            Assert.Equal(new AdSpend("cmp_race", RaceFits * RaceCost, RaceFits * RaceCost, new DateOnly(2026, 3, 1), RaceFits, budget), read["cmp_race"]);
            Assert.Equal(new AdSpend("cmp_side", 5 * 3 * 16, 5 * 3 * 16, new DateOnly(2026, 3, 1), 5 * 16, new AdBudget(1_000_000, 2_000_000)), read["cmp_side"]);
            Assert.Equal(Sorted(await reference.ReadAsync(ids, at.AddMinutes(1))), Sorted(read));
        }

        // What was charged was remembered, and only that: the same clicks again are repeats exactly where they were charged.
        var again = await stores[^1].ChargeAsync([.. batches.SelectMany(b => b)], at.AddMinutes(2));
        Assert.Equal(results.SelectMany(r => r).Select(r => r == Charged ? Repeat : OverBudget), again);
    }

    private static AdClickCharge Click(string campaignId, string productId, string shopperId, long cost) => new(campaignId, productId, shopperId, cost);

    private static AdClickCharge[] Clicks(string campaignId, string shopperPrefix, int count, long cost) =>
        [.. Enumerable.Range(0, count).Select(i => Click(campaignId, "pr_1", $"sh_{shopperPrefix}_{i}", cost))];

    private static KeyValuePair<string, AdSpend>[] Sorted(IReadOnlyDictionary<string, AdSpend> spend) =>
        [.. spend.OrderBy(s => s.Key, StringComparer.Ordinal)];

    /// <summary>A store under test and the memory store fed the same calls; every answer must be the same.</summary>
    private sealed class Compared(IAdSpendStore store)
    {
        private readonly InMemoryAdSpendStore _reference = new();

        public async Task OpenAsync(string campaignId, AdBudget budget)
        {
            await store.OpenAsync(campaignId, budget);
            await _reference.OpenAsync(campaignId, budget);
        }

        public async Task SetBudgetAsync(string campaignId, AdBudget budget)
        {
            await store.SetBudgetAsync(campaignId, budget);
            await _reference.SetBudgetAsync(campaignId, budget);
        }

        public async Task<IReadOnlyList<AdChargeResult>> ChargeAsync(IReadOnlyList<AdClickCharge> clicks, DateTimeOffset now)
        {
            var results = await store.ChargeAsync(clicks, now);
            Assert.Equal(await _reference.ChargeAsync(clicks, now), results);
            return results;
        }

        public async Task<IReadOnlyDictionary<string, AdSpend>> ReadAsync(IReadOnlyCollection<string> campaignIds, DateTimeOffset now)
        {
            var read = await store.ReadAsync(campaignIds, now);
            Assert.Equal(Sorted(await _reference.ReadAsync(campaignIds, now)), Sorted(read));
            return read;
        }
    }

    private static async Task<OpenedStore> OpenAsync(string store)
    {
        switch (store)
        {
            case "memory":
                var memory = new InMemoryAdSpendStore();
                return new OpenedStore(memory, () => memory, () => ValueTask.CompletedTask);
            case "sqlite":
                var folder = Path.Combine(Path.GetTempPath(), $"vetrina-adspend-{Guid.NewGuid():N}");
                var sqlite = SqliteDatabase.Prepare(Path.Combine(folder, "vetrina.db"));
                return new OpenedStore(new SqliteAdSpendStore(sqlite), () => new SqliteAdSpendStore(sqlite), () =>
                {
                    using (var connection = new SqliteConnection(sqlite))
                    {
                        SqliteConnection.ClearPool(connection);
                    }
                    Directory.Delete(folder, recursive: true);
                    return ValueTask.CompletedTask;
                });
            default:
                var postgres = PostgresDatabase.WithEngineDefaults(await TestPostgres.CreateDatabaseAsync("adspend"));
                PostgresDatabase.Prepare(postgres);
                var sources = new List<NpgsqlDataSource>();
                PostgresAdSpendStore Open()
                {
                    var source = NpgsqlDataSource.Create(postgres);
                    sources.Add(source);
                    return new PostgresAdSpendStore(source);
                }
                return new OpenedStore(Open(), Open, async () =>
                {
                    foreach (var source in sources)
                    {
                        await source.DisposeAsync();
                    }
                });
        }
    }

    /// <summary>A store, a way to open another on the same data (another silo's), and what removes them.</summary>
    private sealed class OpenedStore(IAdSpendStore store, Func<IAdSpendStore> another, Func<ValueTask> close) : IAsyncDisposable
    {
        public IAdSpendStore Store { get; } = store;

        public IAdSpendStore Another() => another();

        public ValueTask DisposeAsync() => close();
    }
}
