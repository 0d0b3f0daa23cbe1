using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>What the live-streams run measured, for latest.md and latest.json.</summary>
public sealed record LiveStreamsReport(
    int Streams, int Opened, double OpenSeconds, long ResidentBefore, long ResidentAfter, long? LiveHeapBefore, long? LiveHeapAfter,
    double ResidentPerStream, double? LiveHeapPerStream, int Changes, double IntervalMs, int ChangesAnswered, LatencySummary ChangeLatency,
    long Deliveries, long Missed, LatencySummary DeliveryFromAnswer, LatencySummary DeliveryFromRequest, double EarliestFromAnswerMs,
    double ServerCpuMicrosecondsPerDelivery, double DriverCpuMicrosecondsPerDelivery,
    int BuyConnections, double? BuysWithStreams, double? BuysAfterStreams, string? EngineWithStreams, string? EngineAfterStreams,
    DealStormReport? DealStorm = null);

/// <summary>What the flash deal storm measured: deal buys per second while units lasted, and when the streams saw it sold out.</summary>
public sealed record DealStormReport(
    int Units, long DealPriceMinor, int Connections, long Sold, long Refused, double SellSeconds, double PerSecond, double? RatioToLiveBuys,
    int StreamsSawSoldOut, LatencySummary SoldOutDelay, int? ViralBuyConnections = null, double? RatioToViralBuy = null);

public sealed partial class ScenarioRunner
{
    public const string LiveStreamsSeries = "Vetrina live streams, memory";

    private const int OpenConcurrency = 256;
    private const int WarmUpStreams = 16;
    private const int FileMargin = 1024;
    private const long WarmUpBuys = 5_000;
    private const int DealConnections = 128;
    private const long DealPriceMinor = PriceMinor / 2;
    private static readonly TimeSpan DealBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DeliveryDeadline = TimeSpan.FromSeconds(10);

    public LiveStreamsReport? LiveStreams { get; private set; }

    /// <summary>
    /// One live session in memory mode and N viewers on its event stream, one socket each: the engine's memory per open
    /// stream, the delay from a pin change to each viewer's pin event, and live buys with the streams open and, once they
    /// are closed, with none, on the same engine.
    /// </summary>
    private async Task LiveStreamsAsync(PointResult point, int streams)
    {
        CheckOpenFiles(Environment.ProcessId, streams, "the driver");
        // The engine refuses streams past Vetrina:Live:MaxStreamsPerSilo (20,000): raised only for runs that need more.
        IEnumerable<string>? settings = streams + WarmUpStreams >= 20_000 ? [$"--Vetrina:Live:MaxStreamsPerSilo={streams + WarmUpStreams + 1000}"] : null;
        await using var vetrina = await engines.StartVetrinaAsync(EngineMode.Memory, settings);
        CheckOpenFiles(vetrina.Server.Pid, streams, "the engine");
        var client = vetrina.Client;
        var pid = vetrina.Server.Pid;

        // 1. A brand, two products of the showcase, a creator and its live session, started, the first product pinned.
        var brand = await client.CreateBrandAsync("Bench brand live", CommissionBps);
        var shown = await client.CreateProductAsync(brand, "LIVE-A", PriceMinor, HugeStock);
        var other = await client.CreateProductAsync(brand, "LIVE-B", PriceMinor, HugeStock);
        // The flash deal storm's product: a deal sold out refuses that product's live buys while it lasts, so it is not
        // the one the buy loads measure.
        var dealt = await client.CreateProductAsync(brand, "LIVE-D", PriceMinor, HugeStock);
        var creator = await client.CreateCreatorAsync("@bench_live");
        var sessionId = await client.CreateLiveAsync(creator, "Bench live");
        await client.StartLiveAsync(creator, sessionId);
        await client.SetShowcaseAsync(creator, sessionId, [shown, other, dealt]);
        if (await client.PinAsync(creator, sessionId, shown) != 200)
        {
            throw new InvalidOperationException("The first pin was refused.");
        }

        // Change k pins the other product than change k - 1: other, shown, other, ...
        var changes = options.PinChanges;
        var pinOf = Enumerable.Range(0, changes).Select(k => k % 2 == 0 ? other : shown).ToArray();
        var expected = pinOf.Select(p => (byte[]?)RequestBuilder.Ascii(p)).ToArray();
        var request = EventStreamReader.Request($"127.0.0.1:{vetrina.Server.Port}", sessionId);

        // A few streams opened, sent two pin changes (there and back) and closed first, so the stream path's code, the
        // fan-out of live events included, is compiled before the baseline.
        string[] thereAndBack = [other, shown];
        var warmUp = Enumerable.Range(0, WarmUpStreams)
            .Select(_ => new EventStreamReader(vetrina.Server.EndPoint, request, thereAndBack.Select(p => (byte[]?)RequestBuilder.Ascii(p)).ToArray()))
            .ToArray();
        await Task.WhenAll(warmUp.Select(s => s.OpenAsync(StreamTimeout)));
        await Task.WhenAll(warmUp.Select(s => s.Settled.WaitAsync(StreamTimeout)));
        foreach (var product in thereAndBack)
        {
            if (await client.PinAsync(creator, sessionId, product) != 200)
            {
                throw new InvalidOperationException("A warm-up pin was refused.");
            }
        }
        var warmedBy = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmedBy && warmUp.Any(s => s.End == StreamEnd.Open && s.Pins < 2))
        {
            await Task.Delay(50);
        }
        foreach (var s in warmUp)
        {
            s.Close();
        }
        // A short burst of live buys compiles the buy path before the baseline (a full load here would leave the GC's
        // headroom and the projection's tail in the memory measured next).
        var ledger = new WriteLedger();
        var requests = Requests(vetrina);
        var buyConnections = options.LiveBuyConnections;
        double? withStreams = null, afterStreams = null;
        string? engineWithStreams = null, engineAfterStreams = null;
        ConnectionGroup Buyers(string tag) =>
            new("live buy", buyConnections, ["POST /api/lives/{id}/buy"], i => new LiveBuys(requests, sessionId, shown, tag, i, ledger));
        if (buyConnections > 0)
        {
            await LoadRun.RunAsync(vetrina.Server.EndPoint, [Buyers("lsw")], TimeSpan.Zero, TimeSpan.FromSeconds(2), options.RequestTimeout,
                Watched(vetrina.Server), WarmUpBuys);
        }
        await Task.Delay(TimeSpan.FromSeconds(3));

        // 2-3. Memory with no stream, then with all open and settled: the live heap after a forced full GC, then VmRSS.
        var heapBefore = await LiveHeap.MeasureAsync(pid, TimeSpan.FromSeconds(30));
        var residentBefore = ProcessCpu.ResidentBytes(pid);
        var all = Enumerable.Range(0, streams).Select(_ => new EventStreamReader(vetrina.Server.EndPoint, request, expected)).ToArray();
        var opening = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(OpenConcurrency))
        {
            var openers = new List<Task>(streams);
            for (var i = 0; i < streams; i++)
            {
                await gate.WaitAsync();
                openers.Add(OpenOneAsync(all[i], gate));
                if ((i + 1) % 2_000 == 0)
                {
                    Console.WriteLine($"   {i + 1} streams requested ({opening.Elapsed.TotalSeconds:F1} s)");
                }
            }
            await Task.WhenAll(openers);
        }
        var openSeconds = opening.Elapsed.TotalSeconds;
        var opened = all.Count(s => s.HasSnapshot && s.End == StreamEnd.Open);
        point.Figures["streams open"] = opened;
        point.Figures["streams opened/s"] = opened / openSeconds;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var heapAfter = await LiveHeap.MeasureAsync(pid, TimeSpan.FromSeconds(60));
        var residentAfter = ProcessCpu.ResidentBytes(pid);
        var residentPerStream = opened > 0 ? (double)(residentAfter - residentBefore) / opened : double.NaN;
        double? heapPerStream = heapBefore is { } hb && heapAfter is { } ha && opened > 0 ? (double)(ha - hb) / opened : null;
        point.Figures["resident KiB per stream"] = residentPerStream / 1024;
        if (heapPerStream is { } perStream)
        {
            point.Figures["live heap KiB per stream"] = perStream / 1024;
        }
        point.Notes.Add($"engine memory with no stream: resident {Mb(residentBefore)} MB, live heap {Mb(heapBefore)} MB; with {opened:N0} streams open: resident {Mb(residentAfter)} MB, live heap {Mb(heapAfter)} MB");

        // 4. K pin changes, one per interval: when each was answered, and when each stream's pin event arrived.
        var sent = new long[changes];
        var answered = new long[changes];
        var statuses = new int[changes];
        var serverCpu = ProcessCpu.Of("server", pid);
        var driverCpu = ProcessCpu.Self();
        var cpuBefore = serverCpu.Sample();
        var driverBefore = driverCpu.Sample();
        var first = Stopwatch.GetTimestamp();
        var interval = (long)(options.PinInterval.TotalSeconds * Stopwatch.Frequency);
        for (var k = 0; k < changes; k++)
        {
            var wait = first + (k * interval) - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
            }
            sent[k] = Stopwatch.GetTimestamp();
            try
            {
                statuses[k] = await client.PinAsync(creator, sessionId, pinOf[k]);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                statuses[k] = Outcomes.Failed;
            }
            answered[k] = Stopwatch.GetTimestamp();
        }
        var deliveredBy = Stopwatch.GetTimestamp() + (long)(DeliveryDeadline.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deliveredBy && all.Any(s => s.End == StreamEnd.Open && s.Pins < changes))
        {
            await Task.Delay(100);
        }
        var cpuAfter = serverCpu.Sample();
        var driverAfter = driverCpu.Sample();

        var fromAnswer = new LatencyRecorder();
        var fromRequest = new LatencyRecorder();
        var earliest = long.MaxValue;
        var slowest = new long[changes];
        foreach (var stream in all)
        {
            var arrivals = stream.PinArrivals;
            for (var k = 0; k < arrivals.Length; k++)
            {
                fromAnswer.Record(arrivals[k] - answered[k]);
                fromRequest.Record(arrivals[k] - sent[k]);
                earliest = Math.Min(earliest, arrivals[k] - answered[k]);
                slowest[k] = Math.Max(slowest[k], arrivals[k] - answered[k]);
            }
        }
        var delivered = (long)fromAnswer.Count;
        var missed = ((long)streams * changes) - delivered;
        var fromAnswerSummary = LatencyRecorder.Merge([fromAnswer]).Summary();
        var fromRequestSummary = LatencyRecorder.Merge([fromRequest]).Summary();
        var changeLatency = new LatencyRecorder();
        for (var k = 0; k < changes; k++)
        {
            changeLatency.Record(answered[k] - sent[k]);
        }
        var changeSummary = LatencyRecorder.Merge([changeLatency]).Summary();
        var earliestMs = delivered == 0 ? double.NaN : earliest * 1000.0 / Stopwatch.Frequency;
        var cpuPerDelivery = delivered == 0 ? double.NaN : (cpuAfter - cpuBefore).TotalSeconds * 1e6 / delivered;
        var driverPerDelivery = delivered == 0 ? double.NaN : (driverAfter - driverBefore).TotalSeconds * 1e6 / delivered;
        point.Figures["pin delivery p50 ms"] = fromAnswerSummary.P50;
        point.Figures["pin delivery p95 ms"] = fromAnswerSummary.P95;
        point.Figures["pin delivery p99 ms"] = fromAnswerSummary.P99;
        point.Figures["pin delivery max ms"] = fromAnswerSummary.Max;
        point.Figures["pin deliveries missed"] = missed;
        point.Notes.Add(I($"{changes} pin changes, one per {options.PinInterval.TotalMilliseconds:F0} ms: {statuses.Count(s => s == 200)} answered 200, in p50 {changeSummary.P50:F1} ms, max {changeSummary.Max:F1} ms"));
        point.Notes.Add(I($"pin delivery from the change's answer over {delivered:N0} (stream, change) pairs: p50 {fromAnswerSummary.P50:F1} ms, p95 {fromAnswerSummary.P95:F1} ms, p99 {fromAnswerSummary.P99:F1} ms, max {fromAnswerSummary.Max:F1} ms, earliest {earliestMs:F1} ms (negative: the event came before the answer); from the change's request: p50 {fromRequestSummary.P50:F1} ms, p99 {fromRequestSummary.P99:F1} ms, max {fromRequestSummary.Max:F1} ms"));
        point.Notes.Add("slowest delivery of each change, ms from its answer: " + string.Join(", ", slowest.Select(t => I($"{t * 1000.0 / Stopwatch.Frequency:F0}"))));
        point.Notes.Add(I($"CPU over the pin phase, per delivered pin change (two events per stream: session and pin): engine {cpuPerDelivery:F1} µs, driver {driverPerDelivery:F1} µs"));

        // 5. Live buys with the streams open.
        if (buyConnections > 0)
        {
            var probe = new WindowProbe(client, options.Duration);
            var load = await LoadAsync(vetrina.Server, [Buyers("lso")], probe.RunAsync);
            Record(point, load, I($"POST /api/lives/{{id}}/buy, {opened:N0} streams open"));
            withStreams = load.Groups[0].PerSecond;
            engineWithStreams = probe.Describe(load);
            point.Notes.Add($"engine over the buy window with the streams open: {engineWithStreams}");
        }

        // 5b. A flash deal storm with the streams open: a deal on the showcased product, sold out by live buys.
        DealStormReport? storm = null;
        if (options.DealUnits > 0)
        {
            storm = await DealStormAsync(point, vetrina, brand, sessionId, dealt, all, withStreams);
        }

        // 6. Every stream got every change, in order, with ids that only go forward, and none was closed by the server.
        var endedByServer = all.Where(s => s.End == StreamEnd.ByServer).ToList();
        var notOpened = all.Where(s => s.End == StreamEnd.NotOpened || !s.HasSnapshot).ToList();
        var wrongPins = all.Sum(s => s.WrongPins);
        var badIds = all.Sum(s => s.BadIds);
        var keepAlives = all.Where(s => s.HasSnapshot).Select(s => s.KeepAlives).DefaultIfEmpty().ToArray();
        point.Notes.Add($"keep-alive comments per stream over the run: {keepAlives.Min()}–{keepAlives.Max()}; events per stream: {all.Min(s => s.Events)}–{all.Max(s => s.Events)}");
        foreach (var stream in all)
        {
            stream.Close();
        }
        point.Checks.Add(new Check("every stream opened (200, snapshot)", notOpened.Count == 0,
            notOpened.Count == 0 ? I($"{streams:N0} streams open in {openSeconds:F1} s") : $"{notOpened.Count} of {streams} did not open: {Reasons(notOpened)}"));
        point.Checks.Add(new Check("every pin change answered 200", statuses.All(s => s == 200),
            string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{Outcomes.Name(g.Key)}: {g.Count()}"))));
        point.Checks.Add(new Check("every stream got every pin change", missed == 0,
            I($"{delivered:N0} of {(long)streams * changes:N0} deliveries, {missed:N0} missed")));
        point.Checks.Add(new Check("pin events in the order of the changes", wrongPins == 0, $"{wrongPins} pin events out of order or extra"));
        point.Checks.Add(new Check("event ids increase, one epoch", badIds == 0, $"{badIds} events with an id that went back, repeated or changed epoch"));
        point.Checks.Add(new Check("no stream closed by the server", endedByServer.Count == 0,
            endedByServer.Count == 0 ? "none" : $"{endedByServer.Count} closed: {Reasons(endedByServer)}"));

        if (buyConnections > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var probe = new WindowProbe(client, options.Duration);
            var after = await LoadAsync(vetrina.Server, [Buyers("lsa")], probe.RunAsync);
            point.Measurements.Add(new Measurement("POST /api/lives/{id}/buy, streams closed", after.Groups[0]));
            afterStreams = after.Groups[0].PerSecond;
            engineAfterStreams = probe.Describe(after);
            point.Notes.Add($"engine over the buy window with the streams closed: {engineAfterStreams}");
            point.Figures["live buys/s, streams open"] = withStreams!.Value;
            point.Figures["live buys/s, streams closed"] = afterStreams.Value;
            point.Figures["buys with / without streams"] = afterStreams > 0 ? withStreams.Value / afterStreams.Value : double.NaN;
            point.Checks.Add(await Invariants.ResolveLostAnswersAsync(client, ledger));
            point.Checks.AddRange(await Invariants.CheckStockAsync(client, shown, ledger.Succeeded));
            // The deal's buys are live orders of the session too, with the commission of the deal price.
            var dealSold = storm?.Sold ?? 0;
            point.Checks.Add(await Invariants.CheckEarningsAsync(client, creator, ledger.Succeeded, UnitCommission, dealSold, DealPriceMinor * CommissionBps / 10_000));
            point.Checks.Add(await Invariants.CheckLiveOrdersAsync(client, sessionId, ledger.Succeeded + dealSold));
            point.Notes.Add($"{ledger.Succeeded} successful live buys over both loads and the burst before them (warm-ups included), {ledger.Refused} refused");
        }
        point.Checks.AddRange(Invariants.StockChecks(await client.GetStockAsync(other), 0, "product never bought: "));

        LiveStreams = new LiveStreamsReport(streams, opened, openSeconds, residentBefore, residentAfter, heapBefore, heapAfter,
            residentPerStream, heapPerStream, changes, options.PinInterval.TotalMilliseconds, statuses.Count(s => s == 200), changeSummary,
            delivered, missed, fromAnswerSummary, fromRequestSummary, earliestMs, cpuPerDelivery, driverPerDelivery,
            buyConnections, withStreams, afterStreams, engineWithStreams, engineAfterStreams, storm);
    }

    /// <summary>
    /// The brand creates and starts a flash deal of <see cref="BenchOptions.DealUnits"/> units on the showcased product, then
    /// 128 connections of live buys (a new shopper each) run until it is sold out and a little beyond, bounded in time.
    /// </summary>
    private async Task<DealStormReport> DealStormAsync(
        PointResult point, RunningVetrina vetrina, Brand brand, string sessionId, string product, EventStreamReader[] streams, double? liveBuys)
    {
        var client = vetrina.Client;
        var units = options.DealUnits;
        var beforeDeal = await client.GetStockAsync(product);
        var dealId = await client.CreateDealAsync(brand, product, sessionId, DealPriceMinor, units, perBuyerLimit: 1, durationSeconds: 600);
        await client.StartDealAsync(brand, dealId);
        var beforeStorm = await client.GetStockAsync(product);
        var tally = new DealTally();
        var requests = Requests(vetrina);
        var load = await LoadRun.RunAsync(vetrina.Server.EndPoint,
            [new ConnectionGroup("deal buy", DealConnections, ["POST /api/lives/{id}/buy"], i => new DealBuys(requests, sessionId, product, "lsd", i, tally))],
            TimeSpan.Zero, DealBound, options.RequestTimeout, Watched(vetrina.Server), units + Math.Max(2_000, units / 2));
        point.Measurements.Add(new Measurement(I($"POST /api/lives/{{id}}/buy, flash deal of {units:N0} units, streams open"), load.Groups[0]));
        var lost = tally.Unknown.Count;

        // The delay from the last 201 to each stream's first soldOut deal event.
        var seenBy = Stopwatch.GetTimestamp() + (long)(DeliveryDeadline.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < seenBy && streams.Any(s => s.End == StreamEnd.Open && s.SoldOutArrival == 0))
        {
            await Task.Delay(100);
        }
        var delay = new LatencyRecorder();
        foreach (var stream in streams.Where(s => s.SoldOutArrival != 0))
        {
            delay.Record(stream.SoldOutArrival - tally.Last);
        }
        var sawSoldOut = delay.Count;
        var delaySummary = LatencyRecorder.Merge([delay]).Summary();
        var sold = tally.Sold.Count;
        var sellSeconds = sold > 1 ? (double)(tally.Last - tally.First) / Stopwatch.Frequency : double.NaN;
        var perSecond = sold > 1 ? (sold - 1) / sellSeconds : double.NaN;
        double? ratio = liveBuys is { } l && l > 0 ? perSecond / l : null;
        // The viral buy of this run in memory mode (the viral-buy scenario runs before this one), at 128 connections if
        // it ran there, else at its highest.
        var viral = Results.Where(r => r.Series == ViralBuy(EngineMode.Memory) && !r.Broken && r.Throughput > 0)
            .OrderBy(r => r.Concurrency == DealConnections ? 0 : 1).ThenByDescending(r => r.Concurrency).FirstOrDefault();
        double? ratioToViral = viral is null ? null : perSecond / viral.Throughput;
        if (ratioToViral is { } rv)
        {
            point.Figures[I($"deal buys / viral buy at {viral!.Concurrency}")] = rv;
        }
        point.Figures["deal buys/s while units lasted"] = perSecond;
        if (ratio is { } r)
        {
            point.Figures["deal buys / live buys with streams"] = r;
        }
        point.Figures["deal soldOut delivery p99 ms"] = delaySummary.P99;
        point.Notes.Add(I($"flash deal of {units:N0} units at {DealPriceMinor} (price {PriceMinor}), {DealConnections} connections: {sold:N0} answered 201 in {sellSeconds:F2} s from the first to the last ({perSecond:N0}/s), {tally.Refused:N0} refused, {lost} answers lost; statuses {string.Join(", ", load.Groups[0].Statuses.Select(s => $"{s.Key}: {s.Value}"))}"));
        point.Notes.Add(I($"deal soldOut event from the last 201, over {sawSoldOut:N0} streams: p50 {delaySummary.P50:F1} ms, p95 {delaySummary.P95:F1} ms, p99 {delaySummary.P99:F1} ms, max {delaySummary.Max:F1} ms"));

        // Every sold buy read back (replayed with its Idempotency-Key): one order of one unit at the deal price, of this deal.
        var orders = new ConcurrentDictionary<string, string>();
        var shoppers = new ConcurrentDictionary<string, int>();
        var wrong = 0;
        var sample = "";
        var replays = tally.Sold.ToArray();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < replays.Length)
            {
                var (status, body) = await client.ReadReplayAsync(replays[i]);
                var ok = false;
                if (status == 201)
                {
                    using var json = JsonDocument.Parse(body);
                    var order = json.RootElement;
                    var lines = order.GetProperty("lines").EnumerateArray().ToList();
                    ok = lines.Count == 1 && lines[0].GetProperty("quantity").GetInt32() == 1
                        && lines[0].GetProperty("unitPriceMinor").GetInt64() == DealPriceMinor
                        && lines[0].TryGetProperty("dealId", out var d) && d.GetString() == dealId;
                    orders.TryAdd(order.GetProperty("orderId").GetString()!, "");
                    shoppers.AddOrUpdate(order.GetProperty("shopperId").GetString()!, 1, (_, n) => n + 1);
                }
                if (!ok && Interlocked.Increment(ref wrong) == 1)
                {
                    sample = $"{status}: {body}";
                }
            }
        })));
        var deal = await client.GetDealAsync(dealId);
        var afterStorm = await client.GetStockAsync(product);
        var open = streams.Count(s => s.End == StreamEnd.Open);
        point.Checks.Add(new Check("deal: exactly its units answered 201", sold == units && lost == 0,
            I($"{sold:N0} answered 201 for {units:N0} units, {tally.Refused:N0} refused, {lost} answers lost")));
        point.Checks.Add(new Check("deal: every sold buy is one unit at the deal price, of the deal", wrong == 0 && orders.Count == sold,
            wrong == 0 ? I($"{orders.Count:N0} distinct orders read back, each one line at {DealPriceMinor} with dealId") : I($"{wrong} wrong, first: {sample}")));
        point.Checks.Add(new Check("deal: no shopper with more than 1", shoppers.Values.All(n => n <= 1),
            I($"{shoppers.Count:N0} shoppers, most orders of one: {shoppers.Values.DefaultIfEmpty().Max()}")));
        point.Checks.Add(new Check("deal: remaining 0, status soldOut", deal.Remaining == 0 && deal.Status == "soldOut",
            $"remaining {deal.Remaining}, status {deal.Status}"));
        point.Checks.Add(new Check("deal: the product's own available stock unchanged by the storm", afterStorm.Available == beforeStorm.Available,
            I($"available {beforeDeal.Available:N0} before the deal, {beforeStorm.Available:N0} once started, {afterStorm.Available:N0} after the storm")));
        point.Checks.Add(new Check("deal: every stream got a soldOut deal event", sawSoldOut == streams.Length,
            I($"{sawSoldOut:N0} of {streams.Length:N0} streams ({open:N0} still open); deal events per stream: {streams.Min(s => s.Deals)}–{streams.Max(s => s.Deals)}")));
        return new DealStormReport(units, DealPriceMinor, DealConnections, sold, tally.Refused, sellSeconds, perSecond, ratio, sawSoldOut, delaySummary,
            viral?.Concurrency, ratioToViral);
    }

    private static async Task OpenOneAsync(EventStreamReader stream, SemaphoreSlim gate)
    {
        try
        {
            await stream.OpenAsync(StreamTimeout);
            await stream.Settled.WaitAsync(StreamTimeout);
        }
        catch (TimeoutException)
        {
            // Counted as not opened: it has no snapshot.
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The engine's runtime counters over a measured window: GC pauses, lock contention, thread-pool work.</summary>
    private sealed class WindowProbe(VetrinaClient client, TimeSpan window)
    {
        private EngineCounters? _before;
        private EngineCounters? _after;
        private double _seconds;
        private string? _failure;

        public async Task RunAsync()
        {
            try
            {
                var clock = Stopwatch.StartNew();
                _before = await client.GetCountersAsync();
                var left = window - clock.Elapsed;
                if (left > TimeSpan.Zero)
                {
                    await Task.Delay(left);
                }
                _after = await client.GetCountersAsync();
                _seconds = clock.Elapsed.TotalSeconds;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _failure = $"the engine's /metrics could not be scraped: {e.Message}";
            }
        }

        public string Describe(LoadResult load)
        {
            var cpu = string.Join(", ", load.Processes.Where(p => p.Name == "server").Select(p => I($"CPU {p.CpuShare * 100:F0}% of the machine")));
            if (_before is not { } b || _after is not { } a)
            {
                return $"{cpu}; {_failure}";
            }
            double Per(string name) => (a[name] - b[name]) / _seconds;
            return I($"{cpu}, GC paused {Per(EngineCounters.GcPauseSeconds) * 1000:F0} ms/s in {Per(EngineCounters.GcCollections):F1} collections/s, {Per(EngineCounters.LockContentions):N0} lock contentions/s, {Per(EngineCounters.ThreadPoolWorkItems):N0} thread-pool work items/s");
        }
    }

    private static string Reasons(IEnumerable<EventStreamReader> streams) =>
        string.Join("; ", streams.GroupBy(s => s.Error ?? (s.HasSnapshot ? "?" : "no snapshot within 30 s")).OrderByDescending(g => g.Count()).Take(3).Select(g => $"{g.Count()} × {g.Key}"));

    /// <summary>One socket per stream: the soft limit of open files of <paramref name="pid"/> must leave room for them.</summary>
    private static void CheckOpenFiles(int pid, int streams, string who)
    {
        var line = File.ReadLines($"/proc/{pid}/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: >= 5 } || fields[3] == "unlimited" || !long.TryParse(fields[3], CultureInfo.InvariantCulture, out var soft))
        {
            return;
        }
        if (soft < streams + FileMargin)
        {
            throw new InvalidOperationException(
                $"{streams} streams need about {streams + FileMargin} open files in {who}, whose soft limit is {soft} (hard {fields[4]}): " +
                "run through bash bench/run.sh (it raises the soft limit), raise the hard limit (ulimit -Hn as root), or pass a smaller --streams.");
        }
    }

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
