using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;

namespace Vetrina.Tests.Cluster;

/// <summary>
/// Paid ad clicks racing for a budget on three PostgreSQL silo processes while one of them dies. 2,000 distinct
/// shoppers click one ad at once, a third through each silo, for a campaign whose budget fits exactly 300 clicks, while
/// readers read the campaign. The silo whose charge batch is committing when the campaign passes
/// <see cref="KillAfter"/> paid clicks is SIGKILLed with that commit in flight: a test trigger holds the commit until
/// the silo is dead, so its clicks are charged and their answers never leave. Every click left without an answer is
/// sent again to a survivor, as the contract tells platforms to. The spend row is the authority: exactly 300 shoppers
/// are charged, spend is 300 × cost, no read ever saw more, the clients saw at most 300 charged answers, and the retry
/// or repeat of a charged shopper within 24 hours is free.
/// </summary>
public sealed class AdClusterKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Shoppers = 2000;
    private const int PaidClicks = 300;
    private const long Cost = 7;
    private const int Readers = 4;

    /// <summary>
    /// Where the kill lands. A silo's batch holds only clicks in flight on it, at most the 256 connections a
    /// <see cref="VetrinaClient"/> opens to one server, so the batch that passes 40 paid clicks leaves budget for the
    /// survivors: the kill is in the middle of the spending, never after it.
    /// </summary>
    private const int KillAfter = 40;

    /// <summary>The advisory-lock space of the commit gate; the second key is the index of a silo.</summary>
    private const int GateLock = 7100;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Test-only, in the cluster's database: at its commit, a charge of the storm's shoppers that brings the campaign to
    /// <see cref="KillAfter"/> paid clicks or more waits for the gate lock of its silo (named by the shoppers' ids),
    /// which the test holds. The waiting commit keeps the campaign's row locked, so the other silos' charges wait too.
    /// </summary>
    private static readonly string[] Gate =
    [
        $"""
        CREATE FUNCTION test_ad_commit_gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT charged_clicks FROM vetrina_ad_spend WHERE campaign_id = NEW.campaign_id) >= {KillAfter} THEN
                PERFORM pg_advisory_xact_lock_shared({GateLock}, split_part(NEW.shopper_id, '-', 2)::int);
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE CONSTRAINT TRIGGER test_ad_commit_gate AFTER INSERT ON vetrina_ad_charges DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.shopper_id LIKE 'adkill-%') EXECUTE FUNCTION test_ad_commit_gate()
        """,
    ];

    private SiloCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SiloCluster.StartAsync(3, "adkill",
        "--Vetrina:Ads:IndexRefresh=00:00:00.200",
        "--Vetrina:Ads:ProductRefresh=00:00:00.200",
        // A loaded machine may take long over 2,000 clicks at once; the test waits rather than being answered 503.
        "--Vetrina:Limits:RequestTimeout=00:01:00");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_silo_killed_while_its_paid_clicks_commit_leaves_exactly_the_budget_spent_and_retries_free()
    {
        var api = _cluster.Api;
        var silos = _cluster.Silos;
        var direct = silos.Select(s => new VetrinaClient(s.Address, VetrinaServer.PlatformKey)).ToArray();
        await using var database = NpgsqlDataSource.Create(_cluster.ConnectionString);
        using var reading = new CancellationTokenSource();
        try
        {
            var brand = await api.CreateBrandAsync();
            var product = await api.CreateProductAsync(brand, priceMinor: 5000, stock: 10_000);
            // The total budget, not the daily one: a run across UTC midnight must not start a new day's budget.
            var campaign = await CreateCampaignAsync(api, brand, product, bid: Cost, total: PaidClicks * Cost + Cost - 1);
            // A campaign bidding right below, so that the first one's clicks cost its whole bid.
            var other = await CreateCampaignAsync(api, brand, await api.CreateProductAsync(brand, priceMinor: 5000), bid: Cost - 1, total: null);

            // Each silo clicks only ads its own index lists: wait until every one shows both campaigns, and warm each
            // silo's click path (its desk, its database connections) on the other campaign.
            string? adId = null;
            for (var s = 0; s < silos.Count; s++)
            {
                var client = direct[s];
                var ads = await Eventually.HoldsAsync(() => PlaceAsync(client), a => a.Any(x => x.Campaign == campaign && x.Cost == Cost) && a.Any(x => x.Campaign == other),
                    Deadline, because: $"silo {s}'s placement index lists both campaigns");
                adId ??= ads.Single(a => a.Campaign == campaign).AdId;
                (await ClickAsync(client, ads.Single(a => a.Campaign == other).AdId, $"warm-{s}")).Expect(HttpStatusCode.Created);
            }

            foreach (var statement in Gate)
            {
                await using var create = database.CreateCommand(statement);
                await create.ExecuteNonQueryAsync();
            }
            await using var gate = await database.OpenConnectionAsync();
            await using (var hold = new NpgsqlCommand($"SELECT {string.Join(", ", Enumerable.Range(0, silos.Count).Select(s => $"pg_advisory_lock({GateLock}, {s})"))}", gate))
            {
                await hold.ExecuteNonQueryAsync();
            }

            var readers = Enumerable.Range(0, Readers).Select(_ => Task.Run(() => ReadAllAlongAsync(api, campaign, reading.Token))).ToArray();

            // The storm: every click at once, shopper i through silo i mod 3.
            var clock = Stopwatch.StartNew();
            var plan = Enumerable.Range(0, Shoppers).Select(i => (Silo: i % silos.Count, Shopper: $"adkill-{i % silos.Count}-{i}")).ToArray();
            var storm = plan.Select(p => AnswerAsync(direct[p.Silo], adId!, p.Shopper)).ToArray();

            var held = (await Eventually.HoldsAsync(() => HeldSiloAsync(gate), s => s is not null, Deadline,
                because: $"a charge passes {KillAfter} paid clicks and waits at its commit"))!.Value;
            var chargedBeforeKill = (await ChargedShoppersAsync(database, campaign)).ToHashSet(StringComparer.Ordinal);
            var answeredBeforeKill = storm.Count(t => t.IsCompleted);
            var victim = silos[held];
            victim.Kill();
            var killedAt = clock.Elapsed;
            await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", gate))
            {
                await release.ExecuteNonQueryAsync();
            }
            var replies = await Task.WhenAll(storm);
            var stormTook = clock.Elapsed;
            await reading.CancelAsync();
            var readings = await Task.WhenAll(readers);
            await using (var drop = database.CreateCommand("DROP TRIGGER test_ad_commit_gate ON vetrina_ad_charges; DROP FUNCTION test_ad_commit_gate()"))
            {
                await drop.ExecuteNonQueryAsync();
            }
            Assert.True(victim.HasExited);

            // The survivors answered every click of theirs, charged or refused for the budget: a click asks no grain, so
            // a dead silo is no reason for a 5xx elsewhere.
            var charged = new HashSet<string>(StringComparer.Ordinal);
            var unanswered = new List<string>();
            for (var i = 0; i < Shoppers; i++)
            {
                var (silo, shopper) = plan[i];
                var reply = replies[i];
                if (silo == held && (reply is null || (int)reply.Status >= 500))
                {
                    Assert.True(reply is null || reply.IsProblem, reply?.Raw);
                    unanswered.Add(shopper);
                    continue;
                }
                Assert.NotNull(reply);
                if (reply.Status == HttpStatusCode.Created)
                {
                    Assert.Equal(Cost, reply.Number("chargedMinor"));
                    charged.Add(shopper);
                }
                else
                {
                    Assert.True(reply.Status == HttpStatusCode.Conflict && reply.IsProblem && reply.Str("detail").StartsWith("budget-spent", StringComparison.Ordinal),
                        $"{shopper} through silo {silo}: {(int)reply.Status} {reply.Raw}");
                }
            }
            var answeredCharged = charged.Count;
            Assert.InRange(answeredCharged, 0, PaidClicks);
            Assert.NotEmpty(unanswered);

            // Every unanswered click again, through the survivors: free if the dead silo charged it, else refused (or
            // charged, had budget been left).
            var retries = await Task.WhenAll(unanswered.Select(async shopper => (Shopper: shopper, Reply: await ClickUntilAnsweredAsync(api, adId!, shopper))));
            var free = new HashSet<string>(StringComparer.Ordinal);
            var late = 0;
            foreach (var (shopper, reply) in retries)
            {
                if (reply.Status == HttpStatusCode.Created)
                {
                    var paid = reply.Number("chargedMinor");
                    Assert.True(paid is 0 or Cost, reply.Raw);
                    if (paid == 0)
                    {
                        free.Add(shopper);
                    }
                    else
                    {
                        late++;
                    }
                    Assert.True(charged.Add(shopper));
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Conflict, reply.Status);
                }
            }

            // The store: exactly the budget, for exactly the shoppers the answers name.
            Assert.Equal(PaidClicks, charged.Count);
            var view = await ReadOkAsync(api, $"/api/campaigns/{campaign}");
            Assert.Equal((PaidClicks * Cost, (long)PaidClicks), (view.Number("spentMinor"), view.Number("chargedClicks")));
            var report = await ReadOkAsync(api, $"/api/campaigns/{campaign}/report", brand.Key);
            Assert.Equal((PaidClicks * Cost, (long)PaidClicks), (report.Number("spentMinor"), report.Number("chargedClicks")));
            Assert.Equal(charged.Order(StringComparer.Ordinal), (await ChargedShoppersAsync(database, campaign)).Order(StringComparer.Ordinal));

            // The batch held at the kill (the dead silo's charges after it): committed, its answers lost, and free when
            // sent again. It left budget, which the survivors went on spending.
            var heldBatch = charged.Except(chargedBeforeKill).Where(shopper => shopper.StartsWith($"adkill-{held}-", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            Assert.NotEmpty(heldBatch);
            Assert.Subset(free, heldBatch);
            var chargedAfterKill = charged.Except(chargedBeforeKill).Except(heldBatch).Count();
            Assert.True(chargedAfterKill > 0, "the survivors charged nothing after the kill");

            // Every read during the storm: one row as it was, spend = charged clicks × cost, never past the budget, and
            // for each reader never going back.
            var seen = readings.SelectMany(r => r.Seen).ToArray();
            Assert.NotEmpty(seen);
            Assert.All(seen, r => Assert.Equal(r.Clicks * Cost, r.Spent));
            Assert.All(seen, r => Assert.InRange(r.Spent, 0, PaidClicks * Cost));
            Assert.All(readings.SelectMany(r => r.Seen.Zip(r.Seen.Skip(1))),
                p => Assert.True(p.Second.Spent >= p.First.Spent, $"spend went back from {p.First.Spent} to {p.Second.Spent}"));

            // Within 24 hours each charged shopper clicks for free, the spend stays.
            var again = await Task.WhenAll(charged.Select(shopper => ClickUntilAnsweredAsync(api, adId!, shopper)));
            Assert.All(again, r => Assert.Equal(0, r.Expect(HttpStatusCode.Created).Number("chargedMinor")));
            view = await ReadOkAsync(api, $"/api/campaigns/{campaign}");
            Assert.Equal((PaidClicks * Cost, (long)PaidClicks), (view.Number("spentMinor"), view.Number("chargedClicks")));

            output.WriteLine($"silo {held} killed at {killedAt.TotalSeconds:F1} s with {chargedBeforeKill.Count} paid clicks committed, {heldBatch.Count} held at " +
                $"its commit and {answeredBeforeKill} clicks answered; storm took {stormTook.TotalSeconds:F1} s; {answeredCharged} charged answers; " +
                $"{chargedAfterKill} charged by the survivors after the kill; {unanswered.Count} unanswered, of which {free.Count} already charged " +
                $"and {late} charged on retry; {seen.Length} reads ({readings.Sum(r => r.Failed)} failed) of spend " +
                string.Join(", ", seen.Select(r => r.Spent).Distinct().Order()));
        }
        finally
        {
            await reading.CancelAsync();
            foreach (var client in direct)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Reads the campaign over and over until told to stop: what each answered read saw, and how many failed.</summary>
    private static async Task<(List<(long Spent, long Clicks)> Seen, int Failed)> ReadAllAlongAsync(VetrinaClient api, string campaign, CancellationToken stop)
    {
        var seen = new List<(long, long)>();
        var failed = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var reply = await api.GetAsync($"/api/campaigns/{campaign}");
                if (reply.Status == HttpStatusCode.OK)
                {
                    seen.Add((reply.Number("spentMinor"), reply.Number("chargedClicks")));
                    continue;
                }
                // The campaign's grain lived on the dead silo: 503 until the cluster declares it dead.
                Assert.True(reply.Status == HttpStatusCode.ServiceUnavailable && reply.IsProblem, reply.Raw);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Sent to the silo as it died.
            }
            failed++;
        }
        return (seen, failed);
    }

    /// <summary>The click's answer, or null when its silo died with it (charged or not: its retry tells).</summary>
    private static async Task<Reply?> AnswerAsync(VetrinaClient client, string adId, string shopper)
    {
        try
        {
            return await ClickAsync(client, adId, shopper);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Sends the click until it gets a final answer, as a platform does after a broken call or a 5xx.</summary>
    private static async Task<Reply> ClickUntilAnsweredAsync(VetrinaClient api, string adId, string shopper)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var reply = await ClickAsync(api, adId, shopper);
                if ((int)reply.Status < 500)
                {
                    return reply;
                }
                Assert.True(reply.IsProblem, reply.Raw);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Sent to the dead silo before the client learned it was gone.
            }
            Assert.True(deadline.Elapsed < Deadline, $"{shopper}'s click got no final answer in {Deadline}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>A read retried on 503 while the cluster has not yet declared the dead silo gone.</summary>
    private static async Task<Reply> ReadOkAsync(VetrinaClient api, string path, string key = "platform")
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reply = await api.GetAsync(path, key);
            if (reply.Status != HttpStatusCode.ServiceUnavailable || deadline.Elapsed > Deadline)
            {
                return reply.Expect(HttpStatusCode.OK);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>The silo whose commit waits at the gate, if one does.</summary>
    private static async Task<int?> HeldSiloAsync(NpgsqlConnection gate)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT objid::int FROM pg_locks
            WHERE locktype = 'advisory' AND classid = {GateLock} AND NOT granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, gate);
        return await command.ExecuteScalarAsync() is int silo ? silo : null;
    }

    private static async Task<List<string>> ChargedShoppersAsync(NpgsqlDataSource database, string campaign)
    {
        await using var command = database.CreateCommand("SELECT shopper_id FROM vetrina_ad_charges WHERE campaign_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = campaign });
        await using var reader = await command.ExecuteReaderAsync();
        var shoppers = new List<string>();
        while (await reader.ReadAsync())
        {
            shoppers.Add(reader.GetString(0));
        }
        return shoppers;
    }

    private static async Task<string> CreateCampaignAsync(VetrinaClient api, Party brand, string productId, long bid, long? total) =>
        (await api.PostAsync($"/api/brands/{brand.Id}/campaigns",
            new { name = "Campaign " + Guid.NewGuid().ToString("N")[..6], productIds = new[] { productId }, bidMinor = bid, currency = "EUR", dailyBudgetMinor = 1_000_000, totalBudgetMinor = total },
            brand.Key)).Expect(HttpStatusCode.Created).Str("campaignId");

    private static async Task<List<(string AdId, string Campaign, long Cost)>> PlaceAsync(VetrinaClient client) =>
        (await client.PostAsync("/api/ads/placements", new { shopperId = "viewer", slot = "feed", count = 5 })).Expect(HttpStatusCode.OK).Body.GetProperty("ads").EnumerateArray()
            .Select(a => (a.GetProperty("adId").GetString()!, a.GetProperty("campaignId").GetString()!, a.GetProperty("costPerClickMinor").GetInt64()))
            .ToList();

    private static Task<Reply> ClickAsync(VetrinaClient client, string adId, string shopper) => client.PostAsync($"/api/ads/{adId}/clicks", new { shopperId = shopper });
}
