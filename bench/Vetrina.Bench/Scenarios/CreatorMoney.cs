using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;
using Vetrina.Bench.Report;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// One step of a scenario's set-up through the API: how many requests it sent (with how many in flight) and how long it
/// took; <c>Retries</c> counts the requests sent again after a 503 (the engine did not answer in time).
/// </summary>
public sealed record SetupPhase(string Name, long Requests, double Seconds, int Workers = 0, int Retries = 0)
{
    public double PerSecond => Seconds > 0 ? Requests / Seconds : double.NaN;
}

/// <summary>One payout run as the driver saw it: from its POST to the answer (or the poll) that read it completed.</summary>
public sealed record PayoutRunFigures(
    string RunId, int FirstStatus, double WallSeconds, double? ServerSeconds, long CreatorsVisited, int Payouts, long TotalMinor, int Polls, long PeakResident);

/// <summary>What the payout-run scenario measured, for latest.md and latest.json.</summary>
public sealed record PayoutRunReport(
    int Creators, int Orders, int LinesPerOrder, IReadOnlyList<SetupPhase> Phases, long ActivationsBefore,
    PayoutRunFigures Run, double CreatorsPaidPerSecond, long ResidentBefore, long? LiveHeapBefore, long? LiveHeapAfter,
    double RepeatSeconds, int RepeatStatus, PayoutRunFigures EmptyRun, IReadOnlyList<string> Notes);

/// <summary>One timed series of report reads.</summary>
public sealed record ReportRead(
    string Report, string Query, int Readers, long Requests, double PerSecond, LatencySummary Latency, string Statuses, double ServerCpuShare, double PostgresCpuShare);

/// <summary>What the report scenario measured, for latest.md and latest.json.</summary>
public sealed record CreatorReportReport(
    int Orders, long Succeeded, int Links, int BuyConnections, IReadOnlyList<SetupPhase> Phases, double BuysPerSecond, double CatchUpSeconds,
    IReadOnlyList<ReportRead> Reads, IReadOnlyList<string> Notes);

/// <summary>
/// Creator money at scale, in PostgreSQL mode (durable storage is what operators run): a payout run over many creators
/// with settled commission, and report reads for one creator with many attributed orders. Both are opt-in.
/// </summary>
public sealed partial class ScenarioRunner
{
    public const string PayoutRunSeries = "Vetrina payout run, PostgreSQL, group commit";
    public const string ReportSeries = "Vetrina creator report, PostgreSQL, group commit";

    private const int CatalogSize = 100;
    private const int SetupWorkers = 128;

    // A checkout of 100 lines reserves stock on all 100 products and makes 100 commission entries: 128 of them at once
    // outlast the engine's 15 s request limit on this machine. Fewer orders are in flight, still 1,600 lines.
    private const int OrderWorkers = 16;
    private const int UnavailableAttempts = 5;
    private const int MoneySample = 200;
    private const int ReportBuyConnections = 128;
    private const int ReportShoppersPerConnection = 1_000;
    private const int SequentialReads = 1_000;
    private const int ConcurrentReaders = 16;
    private const int ConcurrentReads = 4_000;
    private const int WarmUpReads = 50;
    private static readonly TimeSpan SettleDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PayoutRunDeadline = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan BuyBound = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan CatchUpDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ReadBound = TimeSpan.FromMinutes(10);

    private static readonly string[] KeyLookupsRaised = ["--Vetrina:RateLimits:KeyLookups:PermitsPerSecond=1000000", "--Vetrina:RateLimits:KeyLookups:Burst=1000000"];

    // A delivered order's return-window reminder is due 1 s after delivery with a period of SettlementCheckInterval
    // (default 1 h). Orleans counts that due time from before the reminder's row is written: when the write takes longer
    // (PostgreSQL under this set-up's load), the first tick is skipped and the next comes a period later. The period is
    // lowered to the least reminder period the engine accepts by default, so such an order completes within a minute.
    private const string SettlementCheck = "--Vetrina:Fulfilment:SettlementCheckInterval=00:01:00";

    public PayoutRunReport? PayoutRun { get; private set; }

    public CreatorReportReport? CreatorReport { get; private set; }

    /// <summary>
    /// N creators, each with one link to one of 100 products; shopper j clicks the links of creators 100j .. 100j+99,
    /// puts the 100 products in its cart and checks out: one order of 100 lines, each attributed to another creator. The
    /// brand (return window 0 days) ships and delivers every order, which completes about a second later and settles
    /// its commission. Then one payout run pays every creator; its repeat (same key) and a second run (new key) pay nothing.
    /// </summary>
    private async Task PayoutRunAsync(PointResult point, int creators)
    {
        var sectionNotes = new List<string>();
        void Note(string text)
        {
            point.Notes.Add(text);
            sectionNotes.Add(text);
        }
        // Each creator's key is used for the first time by the one driver address, which stands for N creators: the
        // per-address budget of checks of keys the engine has not verified yet (Vetrina:RateLimits:KeyLookups, 100/s,
        // and every first use of a valid key is charged too) is raised, so the limit is not what is measured.
        await using var vetrina = await engines.StartVetrinaAsync(EngineMode.Postgres, [.. KeyLookupsRaised, SettlementCheck]);
        Note("engine started with " + string.Join(" ", KeyLookupsRaised) + ": one driver address uses every creator's key for the first time; and with "
            + SettlementCheck + " (default 1 h): an order whose first return-window reminder tick is skipped completes at the next check");
        var client = vetrina.Client;
        var pid = vetrina.Server.Pid;
        var shoppers = creators / CatalogSize;
        var phases = new List<SetupPhase>();
        string Shopper(int j) => I($"ps{j}");

        // The set-up, through the API with many requests in flight. Item i of the click and cart phases is shopper
        // i mod S and its k-th product (k = i div S): consecutive requests go to different shoppers.
        var brand = await client.CreateBrandAsync("Bench brand payouts", CommissionBps, returnWindowDays: 0);
        var products = new string[CatalogSize];
        phases.Add(await PhaseAsync("products", products.Length, async i => products[i] = await client.CreateProductAsync(brand, I($"PAY-{i:D3}"), PriceMinor, HugeStock)));
        var productIndex = products.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);
        var creatorList = new Creator[creators];
        phases.Add(await PhaseAsync("creators", creators, async i => creatorList[i] = await client.CreateCreatorAsync(I($"@pay{i}"))));
        var codes = new string[creators];
        phases.Add(await PhaseAsync("links (creator i → product i mod 100)", creators, async i => codes[i] = await client.CreateLinkAsync(creatorList[i], products[i % CatalogSize])));
        phases.Add(await PhaseAsync("clicks", creators, i => client.ClickAsync(codes[(CatalogSize * (i % shoppers)) + (i / shoppers)], Shopper(i % shoppers))));
        phases.Add(await PhaseAsync("cart lines", creators, i => client.SetCartQuantityAsync(Shopper(i % shoppers), products[i / shoppers], 1)));
        var orderIds = new string[shoppers];
        var checkoutRetries = new StrongBox<int>();
        var wrongLines = 0;
        var wrongSample = "";
        phases.Add(await PhaseAsync("checkouts (100 lines each)", shoppers, async j =>
        {
            var receipt = await RetryUnavailableAsync(_ => client.CheckoutAsync(Shopper(j), I($"po-{j}")), checkoutRetries);
            var orders = receipt.GetProperty("orders").EnumerateArray().ToList();
            if (orders.Count != 1)
            {
                throw new InvalidOperationException(I($"The checkout of {Shopper(j)} made {orders.Count} orders, not one: {receipt}"));
            }
            orderIds[j] = orders[0].GetProperty("orderId").GetString()!;
            var lines = orders[0].GetProperty("lines").EnumerateArray().ToList();
            var wrong = lines.Count == CatalogSize ? 0 : 1;
            foreach (var line in lines)
            {
                var k = productIndex.GetValueOrDefault(line.GetProperty("productId").GetString()!, -1);
                var expected = k < 0 ? null : creatorList[(CatalogSize * j) + k].CreatorId;
                var creatorId = line.TryGetProperty("creatorId", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                if (creatorId != expected || line.GetProperty("quantity").GetInt32() != 1 || line.GetProperty("commissionMinor").GetInt64() != UnitCommission)
                {
                    wrong++;
                }
            }
            if (wrong > 0 && Interlocked.Add(ref wrongLines, wrong) == wrong)
            {
                wrongSample = I($"{Shopper(j)}: {lines.Count} lines, {wrong} wrong; order {orders[0]}");
            }
        }, OrderWorkers, checkoutRetries));
        point.Checks.Add(new Check("every order line attributed to the creator whose link was clicked, commission 599", wrongLines == 0,
            wrongLines == 0 ? I($"{shoppers:N0} orders of {CatalogSize} lines read from the checkout answers") : I($"{wrongLines} wrong lines; first: {Shorten(wrongSample)}")));
        // A ship or delivery that answered 503 is sent again only if the order shows it did not take effect.
        var shipRetries = new StrongBox<int>();
        phases.Add(await PhaseAsync("ships (brand key)", shoppers, i => RetryUnavailableAsync(async attempt =>
            attempt == 1 || await client.GetOrderStatusAsync(orderIds[i]) == "paid" ? await client.ShipAsync(brand, orderIds[i]) : default,
            shipRetries), OrderWorkers, shipRetries));
        var deliverRetries = new StrongBox<int>();
        phases.Add(await PhaseAsync("deliveries (brand key)", shoppers, i => RetryUnavailableAsync(async attempt =>
            attempt == 1 || await client.GetOrderStatusAsync(orderIds[i]) == "shipped" ? await client.DeliverAsync(brand, orderIds[i]) : default,
            deliverRetries), OrderWorkers, deliverRetries));
        foreach (var (what, retries) in new[] { ("checkouts", checkoutRetries), ("ships", shipRetries), ("deliveries", deliverRetries) }.Where(r => r.Item2.Value > 0))
        {
            Note(I($"set-up: {retries.Value} {what} answered 503 (the engine did not answer within its request limit) and were sent again{(what == "checkouts" ? " with the same Idempotency-Key" : " after a read showed they had not taken effect")}"));
        }

        // Settlement: every order completes on its own (its return-window reminder), then its commission settles.
        var settling = Stopwatch.StartNew();
        var random = new Random(42);
        var sample = Enumerable.Range(0, creators).OrderBy(_ => random.Next()).Take(MoneySample).ToArray();
        var (pendingOrders, orderReads, delays) = await UntilOrdersCompletedAsync(client, orderIds);
        var settledSample = await UntilAsync(sample, async i => (await client.GetBalanceAsync(creatorList[i])).SettledMinor == UnitCommission,
            SettleDeadline - settling.Elapsed);
        phases.Add(new SetupPhase("settlement: every order completed (GET polls), a sample of creators settled", orderReads + sample.Length, settling.Elapsed.TotalSeconds));
        if (delays.Count > 0)
        {
            delays.Sort();
            var late = delays.Count(d => d > 10);
            Note(I($"settlement: from the end of its return window to completedAt, per order: p50 {delays[delays.Count / 2]:F1} s, max {delays[^1]:F1} s; {late:N0} of {delays.Count:N0} orders took over 10 s") + (late == 0 ? ""
                : " (their first return-window reminder tick, due 1 s after delivery, was skipped: Orleans counts the due time from before the reminder row is written; they completed at the next tick, one SettlementCheckInterval later)"));
        }
        Console.WriteLine(I($"   set-up: settlement: {shoppers - pendingOrders.Count:N0} of {shoppers:N0} orders completed, {settledSample:N0} of {sample.Length} sampled creators settled after {settling.Elapsed.TotalSeconds:F1} s"));
        var stuck = new List<string>();
        foreach (var orderId in pendingOrders.Take(5))
        {
            var order = (await client.TryGetAsync($"/api/orders/{orderId}", vetrina.PlatformKey)).Json;
            stuck.Add(order is { } o ? $"{orderId} {o.GetProperty("status").GetString()}, deliveredAt {o.GetProperty("deliveredAt")}, returnWindowEndsAt {o.GetProperty("returnWindowEndsAt")}" : orderId);
        }
        point.Checks.Add(new Check("every order completed and its commission settled (return window 0 days)", pendingOrders.Count == 0 && settledSample == sample.Length,
            I($"{shoppers - pendingOrders.Count:N0} of {shoppers:N0} orders completed{(pendingOrders.Count > 0 ? $" (not: {string.Join("; ", stuck)})" : "")}, {settledSample} of {sample.Length} sampled creators show settled {UnitCommission} within {SettleDeadline.TotalMinutes:F0} min")));
        foreach (var phase in phases)
        {
            point.Notes.Add(I($"set-up: {phase.Name}: {phase.Requests:N0} requests in {phase.Seconds:F1} s ({phase.PerSecond:N0}/s{(phase.Workers > 0 ? $", {phase.Workers} in flight" : "")}{(phase.Retries > 0 ? $", {phase.Retries} sent again after a 503" : "")})"));
        }
        if (pendingOrders.Count > 0 || settledSample < sample.Length)
        {
            point.Notes.Add("the payout run was not measured: the commission did not settle");
            return;
        }

        // The run, measured: its wall time, the engine's peak resident memory, its live heap before and after.
        var activations = await client.GetActivationsAsync();
        Note($"machine load average (1 / 5 / 15 min) before the run: {LoadAverage()} on {Environment.ProcessorCount} cores");
        var heapBefore = await LiveHeap.MeasureAsync(pid, TimeSpan.FromSeconds(30));
        var residentBefore = ProcessCpu.ResidentBytes(pid);
        var key = "payout-run-1";
        var (run, body) = await TimedPayoutRunAsync(client, pid, key);
        Note($"machine load average (1 / 5 / 15 min) after the run: {LoadAverage()}");
        var heapAfter = await LiveHeap.MeasureAsync(pid, TimeSpan.FromSeconds(30));
        var paidPerSecond = run.Payouts / run.WallSeconds;

        var ours = creatorList.Select(c => c.CreatorId).ToHashSet(StringComparer.Ordinal);
        var payouts = body.GetProperty("payouts").EnumerateArray()
            .Select(p => (Creator: p.GetProperty("creatorId").GetString()!, Amount: p.GetProperty("amountMinor").GetInt64())).ToList();
        var distinct = payouts.Select(p => p.Creator).Distinct(StringComparer.Ordinal).Count();
        var strangers = payouts.Count(p => !ours.Contains(p.Creator));
        var wrongAmounts = payouts.Count(p => p.Amount != UnitCommission);
        point.Checks.Add(new Check("payout run: exactly one payout per creator", payouts.Count == creators && distinct == creators && strangers == 0,
            I($"{payouts.Count:N0} payouts to {distinct:N0} distinct creators ({strangers} not of this run's set-up), {creators:N0} creators")));
        point.Checks.Add(new Check("payout run: each payout is the creator's settled commission", wrongAmounts == 0,
            wrongAmounts == 0 ? I($"every amountMinor {UnitCommission}") : I($"{wrongAmounts} payouts of another amount, e.g. {payouts.First(p => p.Amount != UnitCommission)}")));
        point.Checks.Add(new Check("payout run: totalMinor = N × 599 = the sum of its payouts", run.TotalMinor == creators * UnitCommission && payouts.Sum(p => p.Amount) == run.TotalMinor,
            I($"totalMinor {run.TotalMinor:N0}, sum of payouts {payouts.Sum(p => p.Amount):N0}, expected {creators:N0} × {UnitCommission} = {creators * UnitCommission:N0}")));
        point.Checks.Add(await CheckPaidSampleAsync(client, creatorList, sample, run.RunId, "after the run"));

        // The same key again: the same run, nothing more paid.
        var repeating = Stopwatch.StartNew();
        var (repeatStatus, repeat) = await client.StartPayoutRunAsync("EUR", 0, key);
        var repeatSeconds = repeating.Elapsed.TotalSeconds;
        var repeatId = repeat.GetProperty("runId").GetString();
        var repeatTotal = repeat.GetProperty("totalMinor").GetInt64();
        var repeatCount = repeat.GetProperty("payouts").GetArrayLength();
        point.Checks.Add(new Check("payout run: a repeat of its key answers the same run", repeatId == run.RunId && repeatTotal == run.TotalMinor && repeatCount == run.Payouts,
            I($"{repeatStatus} in {repeatSeconds * 1000:F0} ms: run {repeatId} (first {run.RunId}), totalMinor {repeatTotal:N0} (first {run.TotalMinor:N0}), {repeatCount:N0} payouts (first {run.Payouts:N0})")));

        // A second run, new key: it visits every creator and finds nothing settled left.
        var (empty, _) = await TimedPayoutRunAsync(client, pid, "payout-run-2");
        point.Checks.Add(new Check("second run (new key): pays nothing", empty.Payouts == 0 && empty.TotalMinor == 0 && empty.RunId != run.RunId,
            I($"run {empty.RunId}: {empty.Payouts:N0} payouts, totalMinor {empty.TotalMinor:N0}, {empty.CreatorsVisited:N0} creators visited")));
        point.Checks.Add(await CheckPaidSampleAsync(client, creatorList, sample, run.RunId, "after the repeat and the second run"));

        point.Figures["payout run s"] = run.WallSeconds;
        point.Figures["creators paid/s"] = paidPerSecond;
        point.Figures["peak resident MB during the run"] = run.PeakResident / 1024.0 / 1024.0;
        point.Figures["second (empty) run s"] = empty.WallSeconds;
        point.Notes.Add(I($"payout run over {creators:N0} creators ({activations:N0} activations before it): answered {run.FirstStatus}, completed after {run.WallSeconds:F2} s as seen by the driver ({run.Polls} polls of GET /api/payouts/runs/{{id}}), {Seconds(run.ServerSeconds)} between its createdAt and completedAt; {paidPerSecond:N0} creators paid/s; {run.Payouts:N0} payouts, totalMinor {run.TotalMinor:N0}; {run.CreatorsVisited:N0} creators visited"));
        point.Notes.Add(I($"engine memory: resident {Mb(residentBefore)} MB before the run, peak {Mb(run.PeakResident)} MB during it (sampled every 200 ms); live heap {Mb(heapBefore)} → {Mb(heapAfter)} MB (after a forced full GC, before and after the run)"));
        point.Notes.Add(I($"repeat of the run's key: {repeatStatus} in {repeatSeconds * 1000:F0} ms; second run (new key): answered {empty.FirstStatus}, completed after {empty.WallSeconds:F2} s ({Seconds(empty.ServerSeconds)} server-side), {empty.CreatorsVisited:N0} creators visited, {empty.Payouts} paid"));
        PayoutRun = new PayoutRunReport(creators, shoppers, CatalogSize, phases, activations, run, paidPerSecond, residentBefore, heapBefore, heapAfter,
            repeatSeconds, repeatStatus, empty, sectionNotes);
    }

    /// <summary>POSTs a payout run and polls it (every 100 ms) until it reads completed, sampling the engine's resident memory every 200 ms.</summary>
    private static async Task<(PayoutRunFigures Figures, JsonElement Run)> TimedPayoutRunAsync(VetrinaClient client, int pid, string key)
    {
        var peak = ProcessCpu.ResidentBytes(pid);
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    peak = Math.Max(peak, ProcessCpu.ResidentBytes(pid));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var clock = Stopwatch.StartNew();
        var (status, run) = await client.StartPayoutRunAsync("EUR", 0, key);
        var runId = run.GetProperty("runId").GetString()!;
        Console.WriteLine(I($"   payout run {runId} ({key}): POST answered {status} after {clock.Elapsed.TotalSeconds:F1} s, {run.GetProperty("creatorsVisited").GetInt64():N0} creators visited"));
        var polls = 0;
        var lastPrint = clock.Elapsed;
        while (run.GetProperty("status").GetString() != "completed")
        {
            if (clock.Elapsed > PayoutRunDeadline)
            {
                await stop.CancelAsync();
                throw new TimeoutException(I($"Payout run {runId} still {run.GetProperty("status").GetString()} after {PayoutRunDeadline.TotalMinutes:F0} min ({run.GetProperty("creatorsVisited").GetInt64():N0} creators visited)."));
            }
            await Task.Delay(100);
            run = await client.GetPayoutRunAsync(runId);
            polls++;
            if (clock.Elapsed - lastPrint > TimeSpan.FromSeconds(10))
            {
                lastPrint = clock.Elapsed;
                Console.WriteLine(I($"   payout run: {run.GetProperty("creatorsVisited").GetInt64():N0} creators visited after {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
        var wall = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        peak = Math.Max(peak, ProcessCpu.ResidentBytes(pid));
        double? server = run.TryGetProperty("completedAt", out var completed) && completed.ValueKind == JsonValueKind.String
            ? (completed.GetDateTimeOffset() - run.GetProperty("createdAt").GetDateTimeOffset()).TotalSeconds
            : null;
        var figures = new PayoutRunFigures(runId, status, wall, server, run.GetProperty("creatorsVisited").GetInt64(),
            run.GetProperty("payouts").GetArrayLength(), run.GetProperty("totalMinor").GetInt64(), polls, peak);
        Console.WriteLine(I($"   payout run {runId}: completed after {wall:F2} s, {figures.Payouts:N0} payouts, totalMinor {figures.TotalMinor:N0}"));
        return (figures, run);
    }

    /// <summary>Each sampled creator: paid 599, settled 0 and pending 0 in EUR, and exactly one payout, of <paramref name="runId"/>.</summary>
    private static async Task<Check> CheckPaidSampleAsync(VetrinaClient client, Creator[] creators, int[] sample, string runId, string when)
    {
        var wrong = 0;
        var first = "";
        await ForEachAsync(sample.Length, 16, async s =>
        {
            var creator = creators[sample[s]];
            var balance = await client.GetBalanceAsync(creator);
            var payouts = (await client.GetCreatorPayoutsAsync(creator)).EnumerateArray().ToList();
            var ok = balance is { PaidMinor: UnitCommission, SettledMinor: 0, PendingMinor: 0 } && payouts.Count == 1
                && payouts[0].GetProperty("runId").GetString() == runId && payouts[0].GetProperty("amountMinor").GetInt64() == UnitCommission;
            if (!ok && Interlocked.Increment(ref wrong) == 1)
            {
                first = $"{creator.CreatorId}: {balance}; payouts {Shorten(string.Join(", ", payouts))}";
            }
        });
        return new Check($"sampled creators paid once, nothing settled left ({when})", wrong == 0,
            wrong == 0 ? I($"{sample.Length} creators: paid {UnitCommission}, settled 0, pending 0, one payout of run {runId}") : I($"{wrong} of {sample.Length} wrong; first: {first}"));
    }

    /// <summary>
    /// Polls the orders (32 at a time) until every one reads completed, or the deadline; returns those that do not, the
    /// reads made, and for each completed order the seconds from the end of its return window to its completedAt.
    /// </summary>
    private static async Task<(List<string> Pending, long Reads, List<double> Delays)> UntilOrdersCompletedAsync(VetrinaClient client, string[] orderIds)
    {
        var until = Stopwatch.GetTimestamp() + (long)(SettleDeadline.TotalSeconds * Stopwatch.Frequency);
        var pending = orderIds.ToList();
        var delays = new List<double>();
        long reads = 0;
        while (true)
        {
            var delay = new double?[pending.Count];
            var batch = pending;
            await ForEachAsync(batch.Count, 32, async i =>
            {
                var order = await client.GetOrderAsync(batch[i]);
                if (order.GetProperty("status").GetString() == "completed")
                {
                    delay[i] = (order.GetProperty("completedAt").GetDateTimeOffset() - order.GetProperty("returnWindowEndsAt").GetDateTimeOffset()).TotalSeconds;
                }
            });
            reads += batch.Count;
            delays.AddRange(delay.OfType<double>());
            pending = batch.Where((_, i) => delay[i] is null).ToList();
            if (pending.Count == 0 || Stopwatch.GetTimestamp() > until)
            {
                return (pending, reads, delays);
            }
            await Task.Delay(250);
        }
    }

    /// <summary>Polls <paramref name="done"/> for each item (16 at a time) until all hold or the time is up; returns how many hold.</summary>
    private static async Task<int> UntilAsync(int[] items, Func<int, Task<bool>> done, TimeSpan within)
    {
        var until = Stopwatch.GetTimestamp() + (long)(Math.Max(1, within.TotalSeconds) * Stopwatch.Frequency);
        var pending = items;
        while (true)
        {
            var holds = new bool[pending.Length];
            var batch = pending;
            await ForEachAsync(batch.Length, 16, async i => holds[i] = await done(batch[i]));
            pending = batch.Where((_, i) => !holds[i]).ToArray();
            if (pending.Length == 0 || Stopwatch.GetTimestamp() > until)
            {
                return items.Length - pending.Length;
            }
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// One creator with a link to each of 100 products; M one-tap buys over those links by 128 connections (the load
    /// machinery, bounded by the count). Once its report counts them all, report reads are timed: three creator
    /// windows and the brand's report, each by one reader (sequential) and by 16.
    /// </summary>
    private async Task CreatorReportAsync(PointResult point, int orders)
    {
        // One creator key reads thousands of reports a second here: its per-key bucket is raised, as the brand's is
        // for every engine the benchmark starts, so the limit is not what is measured.
        await using var vetrina = await engines.StartVetrinaAsync(EngineMode.Postgres,
            ["--Vetrina:RateLimits:Creator:PermitsPerSecond=1000000", "--Vetrina:RateLimits:Creator:Burst=1000000"]);
        var client = vetrina.Client;
        var phases = new List<SetupPhase>();
        var brand = await client.CreateBrandAsync("Bench brand report", CommissionBps);
        var products = new string[CatalogSize];
        phases.Add(await PhaseAsync("products", products.Length, async i => products[i] = await client.CreateProductAsync(brand, I($"REP-{i:D3}"), PriceMinor, HugeStock)));
        var creator = await client.CreateCreatorAsync("@bench_report");
        var codes = new string[CatalogSize];
        phases.Add(await PhaseAsync("links (one per product)", codes.Length, async i => codes[i] = await client.CreateLinkAsync(creator, products[i])));
        var codeIndex = codes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var productIndex = products.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);

        // M buys as fast as the engine answers them.
        var ledger = new WriteLedger(CatalogSize);
        var requests = Requests(vetrina);
        var buying = Stopwatch.StartNew();
        var load = await LoadRun.RunAsync(vetrina.Server.EndPoint,
            [new ConnectionGroup("buy", ReportBuyConnections, ["POST /api/links/{code}/buy"],
                i => new LinkBuys(requests, codes, "rp", i, ReportShoppersPerConnection, ledger))],
            TimeSpan.Zero, BuyBound, options.RequestTimeout, Watched(vetrina.Server), orders,
            () => ProgressAsync(ledger, orders, buying));
        var buySeconds = buying.Elapsed.TotalSeconds;
        Record(point, load, I($"POST /api/links/{{code}}/buy over {CatalogSize} links (set-up of {orders:N0})"));
        point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
        var expected = ledger.Succeeded;
        phases.Add(new SetupPhase(I($"one-tap buys, {ReportBuyConnections} connections"), ledger.Answered + ledger.Unknown.Count, buySeconds, ReportBuyConnections));
        point.Checks.Add(new Check("every one-tap buy answered 201", expected == orders && ledger.Refused == 0,
            I($"{expected:N0} of {orders:N0} buys answered 201 (lost answers replayed), {ledger.Refused:N0} refused")));
        point.Notes.Add(I($"set-up: {expected:N0} buys in {buySeconds:F1} s ({load.Groups[0].PerSecond:N0} buys/s answered 201, p50 {load.Groups[0].Latency.P50:F1} ms, p99 {load.Groups[0].Latency.P99:F1} ms), {ReportBuyConnections} connections, {ReportBuyConnections * ReportShoppersPerConnection:N0} shoppers; machine load average (1 / 5 / 15 min) after them: {LoadAverage()}"));

        // The report catches up with the buys (aggregates may lag).
        var creatorPath = $"/api/creators/{creator.CreatorId}/report";
        var brandPath = $"/api/brands/{brand.BrandId}/report";
        var catchingUp = Stopwatch.StartNew();
        var until = Stopwatch.GetTimestamp() + (long)(CatchUpDeadline.TotalSeconds * Stopwatch.Frequency);
        JsonElement report;
        var polls = 0;
        while (true)
        {
            report = await ReadReportAsync(client, creatorPath + "?interval=day", creator.ApiKey);
            polls++;
            var t = Totals(report);
            if ((t.Orders == expected && t.Units == expected && t.Commission == expected * UnitCommission) || Stopwatch.GetTimestamp() > until)
            {
                break;
            }
            await Task.Delay(100);
        }
        var catchUp = catchingUp.Elapsed.TotalSeconds;
        phases.Add(new SetupPhase("report catches up (polls of ?interval=day)", polls, catchUp, 1));
        point.Notes.Add(I($"the creator's report counted every order {catchUp:F1} s after the last buy was answered ({polls} polls)"));
        foreach (var phase in phases.TakeLast(2))
        {
            Console.WriteLine(I($"   set-up: {phase.Name}: {phase.Requests:N0} requests in {phase.Seconds:F1} s ({phase.PerSecond:N0}/s, {phase.Workers} in flight)"));
        }

        // One-tap buys count as clicks: their tally may lag a little more.
        var clicksUntil = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (Totals(report).Clicks != expected && Stopwatch.GetTimestamp() < clicksUntil)
        {
            await Task.Delay(250);
            report = await ReadReportAsync(client, creatorPath + "?interval=day", creator.ApiKey);
        }
        var totals = Totals(report);
        point.Checks.Add(new Check("creator report totals: orders = units = M, gmvMinor = M × 4999, commissionMinor = M × 599",
            totals.Orders == expected && totals.Units == expected && totals.Gmv == expected * PriceMinor && totals.Commission == expected * UnitCommission,
            I($"{totals}; M = {expected:N0}, expected gmv {expected * PriceMinor:N0}, commission {expected * UnitCommission:N0}")));
        point.Checks.Add(new Check("creator report: one-tap buys count as clicks (clicks = M)", totals.Clicks == expected, I($"clicks {totals.Clicks:N0}, M = {expected:N0}")));
        point.Checks.Add(SeriesCheck("creator report ?interval=day", report));
        point.Checks.Add(TopCheck("topProducts", report.GetProperty("topProducts"), "productId", productIndex, ledger));
        point.Checks.Add(TopCheck("topLinks", report.GetProperty("topLinks"), "code", codeIndex, ledger));
        var pending = await client.GetPendingEarningsAsync(creator);
        point.Checks.Add(new Check("creator's pending earnings equal the report's commission", pending == totals.Commission,
            I($"pendingMinor {pending:N0}, report commissionMinor {totals.Commission:N0}")));

        // The windows timed, each read once first and checked.
        var now = DateTimeOffset.UtcNow;
        var windowNotes = new List<string>();
        var windows = new List<(string Report, string Path, string Key, string Query)>
        {
            ("creator, last 24 hours by hour", creatorPath, creator.ApiKey, "interval=hour"),
            ("creator, 31 days by hour", creatorPath, creator.ApiKey,
                await AcceptedQueryAsync(client, creatorPath, creator.ApiKey, $"interval=hour&from={Iso(now.AddDays(-31))}&to={Iso(now)}",
                    $"interval=hour&from={Iso(CeilingHour(now).AddHours(-31 * 24))}&to={Iso(now)}", windowNotes)),
            ("creator, 366 days by day", creatorPath, creator.ApiKey,
                await AcceptedQueryAsync(client, creatorPath, creator.ApiKey, $"interval=day&from={Iso(now.AddDays(-366))}",
                    $"interval=day&from={Iso(FloorDay(now).AddDays(-365))}", windowNotes)),
            ("brand, last 30 days by day", brandPath, brand.ApiKey, "interval=day"),
        };
        foreach (var note in windowNotes)
        {
            point.Notes.Add(note);
            Console.WriteLine($"   {note}");
        }
        foreach (var (name, path, key, query) in windows)
        {
            var (status, json, text) = await client.TryGetAsync($"{path}?{query}", key);
            if (json is not { } body)
            {
                point.Checks.Add(new Check($"report {name} answers 200", false, I($"GET {path}?{query} answered {status}: {Shorten(text)}")));
                continue;
            }
            var t = Totals(body);
            point.Checks.Add(new Check($"report {name}: totals count every order", t.Orders == expected && t.Units == expected && t.Gmv == expected * PriceMinor && t.Commission == expected * UnitCommission,
                I($"{t}; M = {expected:N0}")));
            point.Checks.Add(SeriesCheck($"report {name}", body));
            if (path == brandPath)
            {
                point.Checks.AddRange(BrandChecks(body, creator, expected));
            }
        }

        // Latency: one reader, then 16, on each window.
        var loadBefore = $"machine load average (1 / 5 / 15 min) before the reads: {LoadAverage()} on {Environment.ProcessorCount} cores";
        point.Notes.Add(loadBefore);
        var reads = new List<ReportRead>();
        var statuses = new Dictionary<string, long>();
        foreach (var (name, path, key, query) in windows)
        {
            var request = RequestBuilder.Ascii($"GET {path}?{query} HTTP/1.1\r\n{RequestBuilder.CommonHeaders(requests.HostAndPort, key)}\r\n");
            await ReadLoadAsync(vetrina, request, 1, WarmUpReads);
            foreach (var (readers, count) in new[] { (1, SequentialReads), (ConcurrentReaders, ConcurrentReads) })
            {
                var timed = await ReadLoadAsync(vetrina, request, readers, count);
                var group = timed.Groups[0];
                var label = I($"GET report: {name}, {readers} reader{(readers == 1 ? "" : "s")}");
                point.Measurements.Add(new Measurement(label, group));
                foreach (var (status, n) in group.Statuses)
                {
                    statuses[status] = statuses.GetValueOrDefault(status) + n;
                }
                double Share(string process) => timed.Processes.FirstOrDefault(p => p.Name == process)?.CpuShare ?? double.NaN;
                reads.Add(new ReportRead(name, query, readers, group.Completed, group.PerSecond, group.Latency, ConsoleReport.Statuses(group), Share("server"), Share("postgres")));
                point.Figures[I($"{name}, {readers} reader{(readers == 1 ? "" : "s")}: p50 ms")] = group.Latency.P50;
                point.Figures[I($"{name}, {readers} reader{(readers == 1 ? "" : "s")}: p99 ms")] = group.Latency.P99;
                if (readers > 1)
                {
                    point.Figures[I($"{name}, {readers} readers: reads/s")] = group.PerSecond;
                }
                Console.WriteLine(I($"   {label}: {group.Completed:N0} reads, {group.PerSecond:N0}/s, p50 {group.Latency.P50:F2} ms, p99 {group.Latency.P99:F2} ms, max {group.Latency.Max:F2} ms"));
            }
        }
        var loadAfter = $"machine load average (1 / 5 / 15 min) after the reads: {LoadAverage()}";
        point.Notes.Add(loadAfter);
        windowNotes.Add(loadBefore);
        windowNotes.Add(loadAfter);
        var non200 = statuses.Where(s => s.Key != "200").Sum(s => s.Value);
        point.Checks.Add(new Check("every timed report read answered 200", non200 == 0 && reads.All(r => r.Requests >= (r.Readers == 1 ? SequentialReads : ConcurrentReads)),
            string.Join(", ", statuses.Select(s => I($"{s.Key}: {s.Value:N0}"))) + I($" over {reads.Count} series")));
        point.Figures["set-up buys/s"] = load.Groups[0].PerSecond;
        point.Figures["report catch-up s"] = catchUp;
        CreatorReport = new CreatorReportReport(orders, expected, CatalogSize, ReportBuyConnections, phases, load.Groups[0].PerSecond, catchUp, reads, windowNotes);
    }

    /// <summary>A count-bounded closed loop of report reads; its window ends with its last answer.</summary>
    private Task<LoadResult> ReadLoadAsync(RunningVetrina vetrina, byte[] request, int readers, int count) =>
        LoadRun.RunAsync(vetrina.Server.EndPoint,
            [new ConnectionGroup("report", readers, ["GET report"], _ => new FixedRequest(request))],
            TimeSpan.Zero, ReadBound, options.RequestTimeout, Watched(vetrina.Server), count);

    /// <summary>
    /// The query as asked when the engine answers it 200; otherwise, noted with the engine's answer, the fallback (the
    /// widest window it accepts).
    /// </summary>
    private static async Task<string> AcceptedQueryAsync(VetrinaClient client, string path, string key, string asked, string fallback, List<string> notes)
    {
        var (status, _, text) = await client.TryGetAsync($"{path}?{asked}", key);
        if (status == 200)
        {
            return asked;
        }
        var (fallbackStatus, _, _) = await client.TryGetAsync($"{path}?{fallback}", key);
        notes.Add(I($"GET {path}?{asked} answered {status} ({Shorten(ProblemDetail(text))}); timed instead: ?{fallback} (answered {fallbackStatus})"));
        return fallback;
    }

    private static string ProblemDetail(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? text : text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static async Task<JsonElement> ReadReportAsync(VetrinaClient client, string pathAndQuery, string key)
    {
        var (status, json, text) = await client.TryGetAsync(pathAndQuery, key);
        return json ?? throw new HttpRequestException(I($"GET {pathAndQuery} answered {status}: {Shorten(text)}"));
    }

    private sealed record ReportFigures(long Clicks, long Orders, long Units, long Gmv, long Commission)
    {
        public override string ToString() => I($"clicks {Clicks:N0}, orders {Orders:N0}, units {Units:N0}, gmvMinor {Gmv:N0}, commissionMinor {Commission:N0}");
    }

    private static ReportFigures FiguresOf(JsonElement e) => new(
        e.GetProperty("clicks").GetInt64(), e.GetProperty("orders").GetInt64(), e.GetProperty("units").GetInt64(),
        e.GetProperty("gmvMinor").GetInt64(), e.GetProperty("commissionMinor").GetInt64());

    private static ReportFigures Totals(JsonElement report) => FiguresOf(report.GetProperty("totals"));

    private static ReportFigures Sum(IEnumerable<ReportFigures> figures) => figures.Aggregate(new ReportFigures(0, 0, 0, 0, 0),
        (a, b) => new ReportFigures(a.Clicks + b.Clicks, a.Orders + b.Orders, a.Units + b.Units, a.Gmv + b.Gmv, a.Commission + b.Commission));

    /// <summary>"A series sums to its totals."</summary>
    private static Check SeriesCheck(string name, JsonElement report)
    {
        var series = report.GetProperty("series").EnumerateArray().Select(FiguresOf).ToList();
        var sum = Sum(series);
        var totals = Totals(report);
        return new Check($"{name}: its series sums to its totals", sum == totals, I($"{series.Count} buckets sum to {sum}; totals {totals}"));
    }

    /// <summary>A top-10 list: 10 entries, each with the orders the driver counted for that product or link, largest first.</summary>
    private static Check TopCheck(string name, JsonElement top, string keyName, Dictionary<string, int> index, WriteLedger ledger)
    {
        var entries = top.EnumerateArray().Select(e => (Key: e.GetProperty(keyName).GetString()!, Orders: e.GetProperty("orders").GetInt64(), Units: e.GetProperty("units").GetInt64())).ToList();
        var wrong = entries.Where(e => !index.TryGetValue(e.Key, out var i) || ledger.SoldPerProduct[i] != e.Orders || e.Units != e.Orders).ToList();
        var largest = ledger.SoldPerProduct.Select(n => (long)n).OrderDescending().Take(10).ToArray();
        var ordered = entries.Select(e => e.Orders).SequenceEqual(largest);
        return new Check($"creator report {name}: 10 entries, each as counted, the largest", entries.Count == 10 && wrong.Count == 0 && ordered,
            I($"{entries.Count} entries, {wrong.Count} not as counted{(wrong.Count > 0 ? $" (e.g. {wrong[0].Key}: {wrong[0].Orders} orders)" : "")}; orders {string.Join(",", entries.Select(e => e.Orders))}, the 10 largest counted {string.Join(",", largest)}"));
    }

    private static List<Check> BrandChecks(JsonElement report, Creator creator, long expected)
    {
        var byProduct = report.GetProperty("byProduct").EnumerateArray().Select(FiguresOf).ToList();
        var byCreator = report.GetProperty("byCreator").EnumerateArray()
            .Select(e => (Id: e.GetProperty("creatorId").GetString(), Figures: FiguresOf(e))).ToList();
        var link = report.GetProperty("byChannel").EnumerateArray().Where(e => e.GetProperty("channel").GetString() == "link").Select(FiguresOf).FirstOrDefault();
        var productSum = Sum(byProduct);
        return
        [
            new("brand report: byProduct has the 100 products and sums to M orders", byProduct.Count == CatalogSize && productSum.Orders == expected && productSum.Gmv == expected * PriceMinor,
                I($"{byProduct.Count} products, summing to {productSum}")),
            new("brand report: byCreator is the one creator, M orders, M × 599 commission",
                byCreator.Count == 1 && byCreator[0].Id == creator.CreatorId && byCreator[0].Figures.Orders == expected && byCreator[0].Figures.Commission == expected * UnitCommission,
                string.Join("; ", byCreator.Select(c => $"{c.Id}: {c.Figures}"))),
            new("brand report: channel link has M orders", link is not null && link.Orders == expected, $"link: {link?.ToString() ?? "missing"}"),
        ];
    }

    /// <summary>Prints the buys answered every 10 s while the count-bounded load runs.</summary>
    private static async Task ProgressAsync(WriteLedger ledger, int orders, Stopwatch clock)
    {
        var printed = clock.Elapsed;
        while (ledger.Answered + ledger.Unknown.Count < orders && clock.Elapsed < BuyBound)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            if (clock.Elapsed - printed >= TimeSpan.FromSeconds(10))
            {
                printed = clock.Elapsed;
                Console.WriteLine(I($"   {ledger.Succeeded:N0} buys answered 201 after {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
    }

    /// <summary>
    /// Sends a change until it is answered otherwise than 503 (at most 5 times, a second apart); <paramref name="send"/>
    /// gets the attempt number (from 1), so that it may first read whether an earlier attempt took effect.
    /// </summary>
    private static async Task<T> RetryUnavailableAsync<T>(Func<int, Task<T>> send, StrongBox<int> retries)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await send(attempt);
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < UnavailableAttempts)
            {
                Interlocked.Increment(ref retries.Value);
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>One set-up step: <paramref name="count"/> requests by <paramref name="workers"/> in flight (128 by default), timed and printed.</summary>
    private static async Task<SetupPhase> PhaseAsync(string name, int count, Func<int, Task> step, int workers = SetupWorkers, StrongBox<int>? retries = null)
    {
        var clock = Stopwatch.StartNew();
        var every = count >= 20_000 ? count / 5 : int.MaxValue;
        await ForEachAsync(count, workers, async i =>
        {
            await step(i);
            if ((i + 1) % every == 0)
            {
                Console.WriteLine(I($"   {name}: {i + 1:N0} of {count:N0} after {clock.Elapsed.TotalSeconds:F0} s"));
            }
        });
        var phase = new SetupPhase(name, count, clock.Elapsed.TotalSeconds, workers, retries?.Value ?? 0);
        Console.WriteLine(I($"   set-up: {name}: {count:N0} requests in {phase.Seconds:F1} s ({phase.PerSecond:N0}/s, {workers} in flight{(phase.Retries > 0 ? $", {phase.Retries} sent again after a 503" : "")})"));
        return phase;
    }

    /// <summary>Runs <paramref name="step"/> for 0 .. count-1 with <paramref name="workers"/> in flight; the first failure stops every worker.</summary>
    private static async Task ForEachAsync(int count, int workers, Func<int, Task> step)
    {
        var next = -1;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, Math.Min(workers, count))).Select(_ => Task.Run(async () =>
        {
            int i;
            while (Volatile.Read(ref failed) == 0 && (i = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    await step(i);
                }
                catch
                {
                    Volatile.Write(ref failed, 1);
                    throw;
                }
            }
        })));
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset FloorDay(DateTimeOffset at) => new(at.UtcDateTime.Date, TimeSpan.Zero);

    private static DateTimeOffset CeilingHour(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var floor = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
        return floor == at ? floor : floor.AddHours(1);
    }

    private static string Seconds(double? seconds) => seconds is { } s ? I($"{s:F2} s") : "?";

    /// <summary>The machine's load averages (1, 5, 15 minutes): other work on it shows there.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Shorten(string text) => text.Length <= 600 ? text : text[..600] + "…";
}
