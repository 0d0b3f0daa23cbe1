using System.Diagnostics;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;
using Vetrina.Bench.Report;

namespace Vetrina.Bench.Scenarios;

/// <summary>One load of the ad storm as the summary reports it: answers per second, latency, the engine's mean time per request.</summary>
public sealed record AdLoadFigures(string What, int Connections, double PerSecond, LatencySummary Latency, double? ServerMeanMs, double? RatioToCeiling);

/// <summary>What the ad-storm scenario measured, for latest.md and latest.json.</summary>
public sealed record AdStormReport(
    string Mode, int Campaigns, int Brands, int Products, IReadOnlyList<SetupPhase> Phases, double IndexCatchUpSeconds, double? CeilingPerSecond,
    IReadOnlyList<AdLoadFigures> Loads, IReadOnlyList<string> Notes);

/// <summary>
/// Brand ads under load: many campaigns over many brands and products, then at full concurrency placements (the feed
/// and searches, a new shopper each) and paid clicks (a new shopper each, so every accepted click is charged), each as
/// a ratio of the HTTP ceiling of the same run; then one campaign's budget raced to its end. Spend is read back and
/// must equal the charged clicks times their cost and never pass the budget.
/// </summary>
public sealed partial class ScenarioRunner
{
    private const int AdBrands = 20;
    private const int AdProductsPerBrand = 50;
    private const int AdsPerPlacement = 3;
    private const long LowestBid = 10;
    private const int BidSpread = 491;
    private const long TopBid = 1_000;
    private const long AmpleBudget = 1_000_000_000_000;
    private const int RaceCharges = 2_000;
    private const int RaceOverload = 3;
    private const int LatencyWarmUp = 200;
    private const int LatencyPlacements = 2_000;
    private const string PlacementsRoute = "/api/ads/placements";
    private const string ClicksRoute = "/api/ads/{adId}/clicks";
    private const string TopSku = "toppick-00-000";
    private static readonly TimeSpan IndexDeadline = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ImpressionDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CountedLoadBound = TimeSpan.FromMinutes(2);

    // Product titles are "Bench <word>-<brand>-<product>": a search for a word matches 1/25 of the products, a search for
    // a whole SKU exactly one. No word holds another (or "bench", or the top product's "toppick").
    private static readonly string[] AdWords =
    [
        "boots", "jacket", "scarf", "gloves", "sneaker", "hoodie", "blazer", "sandal", "beanie", "poncho", "parka", "cardigan", "kimono",
        "loafer", "mitten", "overall", "pyjama", "raincoat", "satchel", "tunic", "vest", "wallet", "anorak", "bikini", "clog",
    ];

    // Searches that match no sponsored product: one in six searches, the long tail of what shoppers type.
    private static readonly string[] UnmatchedQueries = ["umbrella", "teapot", "bicycle", "lantern", "guitar"];

    public AdStormReport? AdStorm { get; private set; }

    public static string AdStormSeries(EngineMode mode) => $"Vetrina ad storm, {EngineModes.Label(mode)}";

    private sealed record AdCampaign(string CampaignId, int Product, long Bid);

    private async Task AdStormAsync(PointResult point, EngineMode mode, int c, int campaignCount)
    {
        var notes = new List<string>();
        void Note(string text)
        {
            point.Notes.Add(text);
            notes.Add(text);
        }
        Note($"machine load average (1 / 5 / 15 min) at the start: {LoadAverage()} on {Environment.ProcessorCount} cores");
        await using var vetrina = await engines.StartVetrinaAsync(mode);
        var client = vetrina.Client;
        var phases = new List<SetupPhase>();

        // Brands and products: product k is product k mod 50 of brand k div 50; the top product is brand 0's.
        var brands = await Task.WhenAll(Enumerable.Range(0, AdBrands).Select(b => client.CreateBrandAsync(I($"Ad brand {b}"), CommissionBps)));
        var productCount = AdBrands * AdProductsPerBrand;
        var skus = Enumerable.Range(0, productCount).Select(k => I($"{AdWords[k % AdWords.Length]}-{k / AdProductsPerBrand:D2}-{k % AdProductsPerBrand:D3}")).ToArray();
        var products = new string[productCount];
        phases.Add(await PhaseAsync("products", productCount, async k => products[k] = await client.CreateProductAsync(brands[k / AdProductsPerBrand], skus[k], PriceMinor, HugeStock)));
        var topProduct = await client.CreateProductAsync(brands[0], TopSku, PriceMinor, HugeStock);

        // Campaigns: campaign i of brand i mod 20, on one of its products, bidding 10 to 500 (spread by a prime step).
        var campaigns = new AdCampaign[campaignCount];
        phases.Add(await PhaseAsync("campaigns (brand keys)", campaignCount, async i =>
        {
            var brand = i % AdBrands;
            var product = (brand * AdProductsPerBrand) + ((i / AdBrands) % AdProductsPerBrand);
            var bid = LowestBid + ((((long)i * 7919) + 13) % BidSpread);
            var id = await client.CreateCampaignAsync(brands[brand], I($"Bench campaign {i}"), [products[product]], bid, AmpleBudget);
            campaigns[i] = new AdCampaign(id, product, bid);
        }));
        // The top campaign outbids all: it leads the feed and pays the second bid + 1 per click, and its daily budget
        // pays exactly RaceCharges clicks (leaving cost - 1): the budget race spends it.
        var secondBid = campaigns.Max(x => x.Bid);
        var topCost = Math.Min(TopBid, secondBid + 1);
        var topBudget = (topCost * RaceCharges) + topCost - 1;
        var topCampaign = await client.CreateCampaignAsync(brands[0], "Bench top campaign", [topProduct], TopBid, topBudget);
        var created = Stopwatch.StartNew();

        // The placement index is each silo's, refreshed every Vetrina:Ads:IndexRefresh (1 s) with the products every
        // Vetrina:Ads:ProductRefresh (5 s) or when a campaign names an unknown one: wait until every product's search
        // shows its highest bids, and the feed the top campaign.
        var byProduct = campaigns.GroupBy(x => x.Product).ToDictionary(g => g.Key, g => g
            .OrderByDescending(x => x.Bid).ThenBy(x => x.CampaignId, StringComparer.Ordinal).ToArray());
        var expectedFeed = campaigns.OrderByDescending(x => x.Bid).ThenBy(x => x.CampaignId, StringComparer.Ordinal).Take(AdsPerPlacement - 1)
            .Select(x => x.CampaignId).Prepend(topCampaign).ToArray();
        var placedProducts = byProduct.Keys.Order().ToArray();
        Note(I($"set-up: {campaignCount:N0} campaigns over {AdBrands} brands and {placedProducts.Length:N0} of their {productCount:N0} products (one product each, {(double)campaignCount / placedProducts.Length:F0} per product), bids {LowestBid}–{secondBid}, daily budget {AmpleBudget:N0}; the top campaign bids {TopBid} with a daily budget of {topBudget:N0} ({RaceCharges:N0} clicks at {topCost})"));
        var (index, feedAd, feedShowingTop, polls, wrongSample) = await UntilIndexedAsync(client, placedProducts.Select(k => skus[k]).ToArray(),
            placedProducts.Select(k => byProduct[k]).ToArray(), expectedFeed);
        var catchUp = created.Elapsed.TotalSeconds;
        phases.Add(new SetupPhase("placement index caught up (search per product and the feed, polled)", polls, catchUp));
        var pending = index.Count(a => a is null);
        point.Checks.Add(new Check("ad index: each product's search shows its 3 highest bids, each paying the next bid + 1; the feed the 3 highest overall",
            pending == 0 && feedAd is not null && feedAd.CostMinor == topCost,
            pending == 0 && feedAd is not null
                ? I($"{placedProducts.Length:N0} products, {catchUp:F1} s after the last campaign was created ({polls:N0} placements polled); feed's top ad costs {feedAd.CostMinor} (second bid {secondBid} + 1)")
                : I($"after {IndexDeadline.TotalSeconds:F0} s: {pending:N0} of {placedProducts.Length:N0} products' searches not as expected (e.g. {wrongSample}); feed {(feedAd is null ? "not as expected" : I($"top ad costs {feedAd.CostMinor}, expected {topCost}"))}")));
        Console.WriteLine(I($"   set-up: placement index caught up {catchUp:F1} s after the last campaign ({polls:N0} placements polled)"));
        if (pending > 0 || feedAd is null)
        {
            point.Notes.Add("not measured: the placements did not show the campaigns in time");
            return;
        }

        var requests = Requests(vetrina);
        var ceiling = Results.FirstOrDefault(r => r.Series == Ceiling && r.Concurrency == c && !r.Broken && r.Throughput > 0)?.Throughput;
        if (ceiling is null)
        {
            Note(I($"no HTTP ceiling at {c} connections in this run (add ceiling to --scenarios): no ratios"));
        }
        var loads = new List<AdLoadFigures>();
        var tally = new PlacementTally(AdPlacements.Kinds.Length);
        var queries = AdWords.Concat(UnmatchedQueries).ToArray();
        IRequestSource Placements(int connection, string tag) => new AdPlacements(requests, queries, AdWords.Length, AdsPerPlacement, tag, connection, tally);

        // Placements at full concurrency: feed and search in turn, a new shopper each.
        Note($"machine load average (1 / 5 / 15 min) before the placement load: {LoadAverage()}");
        var before = await client.GetCountersAsync();
        var placing = await LoadAsync(vetrina.Server, [new ConnectionGroup("placements", c, AdPlacements.Kinds, i => Placements(i, I($"pl{c}")))]);
        var after = await client.GetCountersAsync();
        Record(point, placing, "POST /api/ads/placements: feed, search (count 3), a new shopper each");
        var placed = placing.Groups[0];
        loads.Add(new AdLoadFigures("placements (feed and search)", c, placed.PerSecond, placed.Latency, ServerMeanMs(before, after, PlacementsRoute), placed.PerSecond / ceiling));
        foreach (var kind in placed.Kinds)
        {
            point.Notes.Add(I($"placements, {kind.Kind}: {kind.PerSecond:N0}/s answered, p50 {kind.Latency.P50:F2} ms, p99 {kind.Latency.P99:F2} ms"));
        }

        // What the load's searches were answered: 3 ads whose titles hold the word, or none for the unmatched queries.
        var skuOf = products.Select((id, k) => (id, k)).ToDictionary(x => x.id, x => skus[x.k], StringComparer.Ordinal);
        skuOf[topProduct] = TopSku;
        var wrongSearches = new List<string>();
        foreach (var (query, q) in queries.Select((query, q) => (query, q)))
        {
            var ads = await client.PlaceAdsAsync(I($"search-check-{q}"), "search", query, AdsPerPlacement);
            var titles = ads.Select(a => skuOf.GetValueOrDefault(a.ProductId, a.ProductId)).ToList();
            var expected = q < AdWords.Length ? AdsPerPlacement : 0;
            if (ads.Count != expected || titles.Any(t => !t.Contains(query, StringComparison.Ordinal)))
            {
                wrongSearches.Add(I($"'{query}': {string.Join(", ", titles)}"));
            }
        }
        point.Checks.Add(new Check("each search of the load places 3 ads of products whose title holds the query, or none for the 5 unmatched queries", wrongSearches.Count == 0,
            wrongSearches.Count == 0 ? I($"{queries.Length} queries placed once more after the load") : string.Join("; ", wrongSearches)));

        // The time of one placement: one connection, count-bounded, after a short warm-up.
        await CountedLoadAsync(vetrina, [new ConnectionGroup("placement warm-up", 1, AdPlacements.Kinds, i => Placements(i, "plw"))], LatencyWarmUp);
        before = await client.GetCountersAsync();
        var single = await CountedLoadAsync(vetrina, [new ConnectionGroup("placements", 1, AdPlacements.Kinds, i => Placements(i, "pl1"))], LatencyPlacements);
        after = await client.GetCountersAsync();
        var one = single.Groups[0];
        point.Measurements.Add(new Measurement(I($"POST /api/ads/placements, 1 connection, {LatencyPlacements:N0} placements"), one));
        var singleServer = ServerMeanMs(before, after, PlacementsRoute);
        loads.Add(new AdLoadFigures("placements, one at a time", 1, one.PerSecond, one.Latency, singleServer, null));
        foreach (var kind in one.Kinds)
        {
            point.Notes.Add(I($"placements one at a time, {kind.Kind}: p50 {kind.Latency.P50:F2} ms, p99 {kind.Latency.P99:F2} ms ({kind.Count:N0})"));
        }

        // The click storm: the top ad of every product's search (one campaign each), a new shopper per click.
        var adIds = index.Select(a => a!.AdId).ToArray();
        var ledger = new WriteLedger(adIds.Length);
        Note($"machine load average (1 / 5 / 15 min) before the click storm: {LoadAverage()}");
        before = await client.GetCountersAsync();
        var storm = await LoadAsync(vetrina.Server, [new ConnectionGroup("clicks", c, ["POST /api/ads/{adId}/clicks"], i => new AdClicks(requests, adIds, I($"ck{c}"), i, ledger))]);
        after = await client.GetCountersAsync();
        Record(point, storm, I($"POST /api/ads/{{adId}}/clicks: {adIds.Length:N0} ads, a new shopper each (201 = charged)"));
        var clicked = storm.Groups[0];
        loads.Add(new AdLoadFigures("charged clicks", c, clicked.PerSecond, clicked.Latency, ServerMeanMs(before, after, ClicksRoute), clicked.PerSecond / ceiling));
        point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
        point.Checks.AddRange(await CheckStormSpendAsync(client, index, ledger));

        // The budget race: 128 connections click the top ad, three times as often as its daily budget pays.
        var race = new WriteLedger(1);
        var raceLoad = await CountedLoadAsync(vetrina, [new ConnectionGroup("race", c, ["POST /api/ads/{adId}/clicks"], i => new AdClicks(requests, [feedAd.AdId], I($"race{c}"), i, race))],
            RaceCharges * RaceOverload);
        point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, race));
        var top = await client.GetCampaignAsync(topCampaign);
        point.Checks.Add(new Check(I($"budget race: {RaceCharges * RaceOverload:N0} clicks on a budget of {RaceCharges:N0}: exactly {RaceCharges:N0} charged, spend = charged × {topCost} ≤ budget"),
            top.ChargedClicks == RaceCharges && race.Succeeded == RaceCharges && top.SpentMinor == RaceCharges * topCost && top.SpentTodayMinor <= top.DailyBudgetMinor,
            I($"{top}; answered 201: {race.Succeeded:N0}, refused: {race.Refused:N0}; expected spend {RaceCharges:N0} × {topCost} = {RaceCharges * topCost:N0} ≤ {topBudget:N0}")));
        point.Notes.Add(I($"budget race: {raceLoad.Groups[0].Completed:N0} clicks in {raceLoad.MeasuredSeconds:F2} s; {ConsoleReport.Statuses(raceLoad.Groups[0])}"));

        // Impressions: every feed placement answered 200 showed the top campaign, counted once (handed over each second).
        var feedPlacements = tally[0] + feedShowingTop;
        var impressions = await EventuallyAsync(async () => (await client.GetCampaignAsync(topCampaign)).Impressions, n => n == feedPlacements, ImpressionDeadline);
        point.Checks.Add(new Check("impressions of the feed's top campaign equal the feed placements answered 200", impressions == feedPlacements,
            I($"impressions {impressions:N0}, feed placements {feedPlacements:N0} ({tally[0]:N0} under load, {feedShowingTop} while polling)")));

        Note($"machine load average (1 / 5 / 15 min) at the end: {LoadAverage()}");
        point.Figures["placements/s"] = placed.PerSecond;
        point.Figures["charged clicks/s"] = clicked.PerSecond;
        if (ceiling is { } http)
        {
            point.Figures[I($"placements / HTTP ceiling at {c}")] = placed.PerSecond / http;
            point.Figures[I($"charged clicks / HTTP ceiling at {c}")] = clicked.PerSecond / http;
            Note(I($"at {c} connections: {placed.PerSecond:N0} placements/s = {placed.PerSecond / http:F2} × ceiling, {clicked.PerSecond:N0} charged clicks/s = {clicked.PerSecond / http:F2} × ceiling (HTTP ceiling of this run {http:N0}/s)"));
        }
        point.Figures["placement p50 ms, 1 connection"] = one.Latency.P50;
        point.Figures["placement p99 ms, 1 connection"] = one.Latency.P99;
        if (singleServer is { } server)
        {
            point.Figures["placement mean server ms, 1 connection"] = server;
        }
        point.Figures["index caught up s"] = catchUp;
        Note("server ms: the engine's own mean time per request (ASP.NET Core's http.server.request.duration histogram, sum / count, between two scrapes of /metrics)");
        AdStorm = new AdStormReport(EngineModes.Label(mode), campaignCount, AdBrands, productCount, phases, catchUp, ceiling, loads, notes);
    }

    /// <summary>
    /// Polls until each product's search by its SKU shows its campaigns (<paramref name="ranked"/>, highest bid first) of the 3 highest bids, each at the next bid + 1
    /// (at most its own bid), and the feed the 3 highest campaigns overall; or the deadline. Returns each product's top ad
    /// (null where the search never showed what was expected), the feed's top ad, the feed placements that showed the top
    /// campaign, the placements sent and a sample of what was wrong.
    /// </summary>
    private static async Task<(PlacedAd?[] Index, PlacedAd? Feed, int FeedShowingTop, int Polls, string Wrong)> UntilIndexedAsync(
        VetrinaClient client, string[] skus, AdCampaign[][] ranked, string[] expectedFeed)
    {
        var index = new PlacedAd?[skus.Length];
        PlacedAd? feed = null;
        var feedShowingTop = 0;
        var polls = 0;
        var wrong = "";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < IndexDeadline)
        {
            if (feed is null)
            {
                var ads = await client.PlaceAdsAsync(I($"index-feed-{polls}"), "feed", null, AdsPerPlacement);
                polls++;
                feedShowingTop += ads.Count > 0 && ads[0].CampaignId == expectedFeed[0] ? 1 : 0;
                if (ads.Select(a => a.CampaignId).SequenceEqual(expectedFeed))
                {
                    feed = ads[0];
                }
            }
            var missing = Enumerable.Range(0, skus.Length).Where(k => index[k] is null).ToArray();
            if (missing.Length == 0 && feed is not null)
            {
                break;
            }
            await ForEachAsync(missing.Length, 16, async m =>
            {
                var k = missing[m];
                var ads = await client.PlaceAdsAsync(I($"index-{k}"), "search", skus[k], AdsPerPlacement);
                Interlocked.Increment(ref polls);
                var bids = ranked[k];
                var expected = bids.Take(AdsPerPlacement).Select((x, r) => (x.CampaignId, Cost: Math.Min(x.Bid, (r + 1 < bids.Length ? bids[r + 1].Bid : 0) + 1))).ToArray();
                if (ads.Select(a => (a.CampaignId, Cost: a.CostMinor)).SequenceEqual(expected))
                {
                    index[k] = ads[0];
                }
                else
                {
                    wrong = I($"{skus[k]}: {string.Join(", ", ads.Select(a => $"{a.CampaignId} at {a.CostMinor}"))}; expected {string.Join(", ", expected.Select(e => $"{e.CampaignId} at {e.Cost}"))}");
                }
            });
            if (index.All(a => a is not null) && feed is not null)
            {
                break;
            }
            await Task.Delay(250);
        }
        return (index, feed, feedShowingTop, polls, wrong);
    }

    /// <summary>Each clicked campaign, read back: spend = charged clicks × the cost its ad quoted, charged clicks = the 201s, spend within the budget.</summary>
    private static async Task<List<Check>> CheckStormSpendAsync(VetrinaClient client, PlacedAd?[] ads, WriteLedger ledger)
    {
        var read = new CampaignFigures[ads.Length];
        await ForEachAsync(ads.Length, 16, async k => read[k] = await client.GetCampaignAsync(ads[k]!.CampaignId));
        var wrongSpend = Enumerable.Range(0, ads.Length).Where(k => read[k].SpentMinor != ledger.SoldPerProduct[k] * ads[k]!.CostMinor || read[k].ChargedClicks != ledger.SoldPerProduct[k]).ToList();
        var overBudget = Enumerable.Range(0, ads.Length).Where(k => read[k].SpentTodayMinor > read[k].DailyBudgetMinor || read[k].SpentMinor > read[k].DailyBudgetMinor).ToList();
        var spent = read.Sum(r => r.SpentMinor);
        var expected = Enumerable.Range(0, ads.Length).Sum(k => ledger.SoldPerProduct[k] * ads[k]!.CostMinor);
        var charged = read.Sum(r => r.ChargedClicks);
        string Sample(List<int> wrong) => wrong.Count == 0 ? "" : I($"; e.g. {ads[wrong[0]]!.CampaignId}: {read[wrong[0]]}, clicks answered 201 {ledger.SoldPerProduct[wrong[0]]} at {ads[wrong[0]]!.CostMinor}");
        return
        [
            new("click storm: each campaign's spend = its charged clicks × its cost per click, and its charged clicks = the clicks answered 201", wrongSpend.Count == 0,
                I($"{ads.Length:N0} campaigns: spentMinor {spent:N0} (expected {expected:N0}), chargedClicks {charged:N0}, clicks answered 201 {ledger.Succeeded:N0}; {wrongSpend.Count} wrong{Sample(wrongSpend)}")),
            new("click storm: no campaign's spend passes its daily budget", overBudget.Count == 0,
                I($"{ads.Length:N0} campaigns, largest spend {read.Max(r => r.SpentMinor):N0} of a daily budget of {read.Min(r => r.DailyBudgetMinor):N0}; {overBudget.Count} over{Sample(overBudget)}")),
        ];
    }

    /// <summary>A closed loop bounded by its request count (and <see cref="CountedLoadBound"/>); its window is all of it.</summary>
    private Task<LoadResult> CountedLoadAsync(RunningVetrina vetrina, IReadOnlyList<ConnectionGroup> groups, int count) =>
        LoadRun.RunAsync(vetrina.Server.EndPoint, groups, TimeSpan.Zero, CountedLoadBound, options.RequestTimeout, Watched(vetrina.Server), count);

    /// <summary>The engine's mean milliseconds per request of <paramref name="route"/> between two scrapes; null without requests.</summary>
    private static double? ServerMeanMs(EngineCounters before, EngineCounters after, string route)
    {
        var count = after.Route(EngineCounters.Requests, route) - before.Route(EngineCounters.Requests, route);
        var seconds = after.Route(EngineCounters.RequestSeconds, route) - before.Route(EngineCounters.RequestSeconds, route);
        return count > 0 ? seconds * 1000 / count : null;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value) || clock.Elapsed > deadline)
            {
                return value;
            }
            await Task.Delay(250);
        }
    }
}
