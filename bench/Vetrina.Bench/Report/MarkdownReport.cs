using System.Globalization;
using System.Text;
using Vetrina.Bench.Scenarios;

namespace Vetrina.Bench.Report;

/// <summary>bench/results/latest.md: the targets of issue 4 as ratios, then every run, then the invariants.</summary>
public static class MarkdownReport
{
    public static string Write(BenchOptions options, RunContext context, ScenarioRunner runner, string command)
    {
        var results = runner.Results;
        var md = new StringBuilder();
        md.AppendLine("# Vetrina benchmark: latest run").AppendLine();
        md.AppendLine(I($"- commit `{context.Commit}`, started {context.StartedAt:yyyy-MM-dd HH:mm} UTC"));
        md.AppendLine($"- machine: {context.Machine}");
        md.AppendLine(I($"- each run: {options.Warmup.TotalSeconds:F0} s warm-up, then {options.Duration.TotalSeconds:F0} s measured; closed loop, one request outstanding per connection; a fresh engine process (and database) per run"));
        md.AppendLine($"- command: `{command}`");
        md.AppendLine("- PostgreSQL runs with fsync on: a durable answer means a commit on disk").AppendLine();

        md.AppendLine("## Targets of issue 4").AppendLine();
        md.AppendLine("| target | goal | " + string.Join(" | ", options.Concurrency.Select(c => I($"{c} conn."))) + " |");
        md.AppendLine("|---|---|" + string.Concat(options.Concurrency.Select(_ => "---:|")));
        foreach (var target in Targets.All)
        {
            md.AppendLine($"| {target.Name} | {target.Goal} | " + string.Join(" | ", options.Concurrency.Select(c => target.Format(results, c))) + " |");
        }
        md.AppendLine();
        foreach (var hot in results.Where(r => r.Scenario == "hot-read" && r.Failure is null))
        {
            var ratio = hot.Figures.GetValueOrDefault("hot/idle p99", double.NaN);
            md.AppendLine(I($"- {hot.Series}: hot read p99 {hot.Figures.GetValueOrDefault("hot read p99 ms"):F2} ms / idle read p99 {hot.Figures.GetValueOrDefault("idle read p99 ms"):F2} ms (both during the storm) = **{ratio:F2}** (target ≤ 2: {(ratio <= 2 ? "met" : "not met")}); idle read p99 with no storm {hot.Figures.GetValueOrDefault("quiet idle read p99 ms"):F2} ms"));
        }
        md.AppendLine();
        md.AppendLine("A ratio is of successful answers per second at the same concurrency, in this run (a durable buy: PostgreSQL, group commit). ✓ met, ✗ not met.");
        md.AppendLine("The JSON ceilings answer the same buy and click requests with nothing behind them (see below); pgbench runs the hot-row transaction with no HTTP.").AppendLine();
        foreach (var skipped in runner.Skipped)
        {
            md.AppendLine($"- skipped: {Escape(skipped)}");
        }
        if (runner.Skipped.Count > 0)
        {
            md.AppendLine();
        }

        var perBuy = PerBuyTable.Rows(results).ToList();
        if (perBuy.Count > 0)
        {
            md.AppendLine("## Engine counters per buy (viral buy, measured window)").AppendLine();
            md.AppendLine("| " + string.Join(" | ", PerBuyTable.Headers) + " |");
            md.AppendLine("|---|" + string.Concat(PerBuyTable.Headers.Skip(1).Select(_ => "---:|")));
            foreach (var row in perBuy)
            {
                md.AppendLine("| " + string.Join(" | ", row.Select(Escape)) + " |");
            }
            md.AppendLine();
            foreach (var definition in PerBuyTable.Definitions)
            {
                md.AppendLine($"- {definition}");
            }
            md.AppendLine();
        }

        md.AppendLine("## Every run").AppendLine();
        md.AppendLine("| scenario | what | conn. | ok/s | p50 ms | p95 ms | p99 ms | answers by status | driver µs CPU/req | CPU: driver / server / PostgreSQL | invariants |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---|---:|---|---|");
        foreach (var point in results)
        {
            if (point.Failure is not null)
            {
                md.AppendLine($"| {point.Scenario} | {point.Series} | {point.Concurrency} | – | – | – | – | **failed to run**: {Escape(point.Failure.Split('\n')[0])} | | | |");
                continue;
            }
            var first = true;
            foreach (var m in point.Measurements)
            {
                var cpu = first && point.Load is { } load
                    ? I($"{load.DriverCpuMicrosecondsPerRequest:F1}") + " | " + I($"{load.DriverCpuShare * 100:F0}%") + " / " + Share(load, "server") + " / " + Share(load, "postgres")
                    : " | ";
                var invariants = first ? Invariants(point) : "";
                md.AppendLine(I($"| {point.Scenario} | {point.Series}: {m.Label} | {m.Result.Connections} | {m.Result.PerSecond:N0} | {m.Result.Latency.P50:F2} | {m.Result.Latency.P95:F2} | {m.Result.Latency.P99:F2} | {Escape(ConsoleReport.Statuses(m.Result))} | {cpu} | {invariants} |"));
                first = false;
            }
        }
        md.AppendLine();
        md.AppendLine("CPU shares are of the whole machine over the measured window (100% = every core busy), read from /proc. ");
        md.AppendLine("The driver's CPU per request shows it is not the bottleneck.").AppendLine();

        var notes = results.Where(r => r.Notes.Count > 0 || r.Figures.Count > 0).ToList();
        if (notes.Count > 0)
        {
            md.AppendLine("## Notes per run").AppendLine();
            foreach (var point in notes)
            {
                md.AppendLine($"- **{point.Series}, {point.Concurrency} connections**");
                foreach (var (name, value) in point.Figures)
                {
                    md.AppendLine(I($"  - {name}: {value:F2}"));
                }
                foreach (var note in point.Notes)
                {
                    md.AppendLine($"  - {Escape(note)}");
                }
            }
            md.AppendLine();
        }

        if (runner.WideCatalog is { } wide)
        {
            md.AppendLine("## Wide catalog: memory per activation").AppendLine();
            md.AppendLine(I($"- {wide.Products:N0} products created through the API at {wide.CreatedPerSecond:N0}/s; {wide.Shoppers:N0} shopper ids; Zipf s = {wide.ZipfExponent}"));
            md.AppendLine($"- memory per activation, catalog (product grains): live heap {Kib(wide.ProductActivation.LiveHeapBytes)}, resident {Kib(wide.ProductActivation.ResidentBytes)}");
            md.AppendLine($"- memory per activation, traffic (carts, checkouts, orders, …): live heap {Kib(wide.TrafficActivation.LiveHeapBytes)}, resident {Kib(wide.TrafficActivation.ResidentBytes)}");
            md.AppendLine("  (memory delta divided by the activation delta of `GET /api/cluster`; the live heap is measured after a full GC forced");
            md.AppendLine("  through the diagnostics port between phases, the resident set includes garbage and the GC's headroom)");
            md.AppendLine($"- {wide.DeactivationNote}").AppendLine();
            md.AppendLine("| seconds | phase | Vetrina activations | resident MB | live heap MB |");
            md.AppendLine("|---:|---|---:|---:|---:|");
            foreach (var s in wide.Samples)
            {
                var heap = s.LiveHeapBytes is { } h ? I($"{h / 1024.0 / 1024.0:F0}") : "";
                md.AppendLine(I($"| {s.Seconds:F0} | {s.Phase} | {s.Activations:N0} | {s.ResidentBytes / 1024.0 / 1024.0:F0} | {heap} |"));
            }
            md.AppendLine();
        }

        if (runner.LiveStreams is { } live)
        {
            md.AppendLine("## Live streams: memory per stream and pin delivery").AppendLine();
            md.AppendLine(I($"- {live.Opened:N0} of {live.Streams:N0} event streams (`GET /api/lives/{{id}}/events`, one socket each, anonymous) open on one live session in {live.OpenSeconds:F1} s; one engine process in memory mode"));
            md.AppendLine($"- engine memory per open stream: resident {Kib(live.ResidentPerStream)}, live heap {Kib(live.LiveHeapPerStream)} (resident {Mb(live.ResidentBefore)} → {Mb(live.ResidentAfter)} MB, live heap {Mb(live.LiveHeapBefore)} → {Mb(live.LiveHeapAfter)} MB)");
            md.AppendLine("  (each after a full GC forced through the diagnostics port: with no stream open, and once all were open and settled)");
            md.AppendLine(I($"- {live.Changes} pin changes, one per {live.IntervalMs:F0} ms, {live.ChangesAnswered} answered 200 (p50 {live.ChangeLatency.P50:F1} ms, max {live.ChangeLatency.Max:F1} ms); {live.Deliveries:N0} pin events delivered, **{live.Missed:N0} missed**; CPU per delivered change: engine {live.ServerCpuMicrosecondsPerDelivery:F1} µs, driver {live.DriverCpuMicrosecondsPerDelivery:F1} µs"));
            md.AppendLine();
            md.AppendLine("| pin delivery delay, ms | p50 | p95 | p99 | max |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            md.AppendLine(I($"| from the change's answer (earliest {live.EarliestFromAnswerMs:F1} ms; negative would be before the answer) | {live.DeliveryFromAnswer.P50:F1} | {live.DeliveryFromAnswer.P95:F1} | {live.DeliveryFromAnswer.P99:F1} | {live.DeliveryFromAnswer.Max:F1} |"));
            md.AppendLine(I($"| from the change's request | {live.DeliveryFromRequest.P50:F1} | {live.DeliveryFromRequest.P95:F1} | {live.DeliveryFromRequest.P99:F1} | {live.DeliveryFromRequest.Max:F1} |"));
            md.AppendLine();
            if (live.BuysWithStreams is { } with && live.BuysAfterStreams is { } after)
            {
                md.AppendLine(I($"- live buys (`POST /api/lives/{{id}}/buy`, a new shopper each, {live.BuyConnections} connections), same engine: **{with:N0}/s with the streams open**, {after:N0}/s once they were closed ({(after > 0 ? with / after : double.NaN):F2})"));
                md.AppendLine($"  - streams open: {Escape(live.EngineWithStreams ?? "")}");
                md.AppendLine($"  - streams closed: {Escape(live.EngineAfterStreams ?? "")}");
                md.AppendLine();
            }
            if (live.DealStorm is { } deal)
            {
                md.AppendLine(I($"- flash deal storm, streams open: {deal.Units:N0} units at {deal.DealPriceMinor}, {deal.Connections} connections of live buys: {deal.Sold:N0} answered 201 in {deal.SellSeconds:F2} s, **{deal.PerSecond:N0} deal buys/s while units lasted** ({deal.RatioToLiveBuys:F2} × the live buys/s with the streams open{(deal.RatioToViralBuy is { } rv ? I($", {rv:F2} × the viral buy at {deal.ViralBuyConnections} connections of this run") : "")}), {deal.Refused:N0} refused after"));
                md.AppendLine(I($"  - `soldOut` deal event seen by {deal.StreamsSawSoldOut:N0} streams, delay from the last 201: p50 {deal.SoldOutDelay.P50:F1} ms, p95 {deal.SoldOutDelay.P95:F1} ms, p99 {deal.SoldOutDelay.P99:F1} ms, max {deal.SoldOutDelay.Max:F1} ms"));
                md.AppendLine();
            }
        }

        if (runner.PayoutRun is { } payout)
        {
            md.AppendLine("## Payout run").AppendLine();
            md.AppendLine(I($"- {payout.Creators:N0} creators, each with one link and {ScenarioRunner.UnitCommission} of settled EUR commission: {payout.Orders:N0} orders of {payout.LinesPerOrder} lines (each line another creator's), shipped and delivered by a brand whose return window is 0 days; one engine process in PostgreSQL mode (group commit), set up through the API with many requests in flight (below)"));
            md.AppendLine(I($"- `POST /api/payouts/runs` `{{currency: EUR, minimumMinor: 0}}` answered {payout.Run.FirstStatus}; completed after **{payout.Run.WallSeconds:F2} s** as seen by the driver (polling `GET /api/payouts/runs/{{id}}` every 100 ms; {Seconds(payout.Run.ServerSeconds)} from its createdAt to its completedAt): **{payout.CreatorsPaidPerSecond:N0} creators paid/s**, {payout.Run.Payouts:N0} payouts, totalMinor {payout.Run.TotalMinor:N0}, {payout.Run.CreatorsVisited:N0} creators visited ({payout.ActivationsBefore:N0} activations before the run)"));
            md.AppendLine(I($"- engine memory: resident {Mb(payout.ResidentBefore)} MB before the run, **peak {Mb(payout.Run.PeakResident)} MB** during it (sampled every 200 ms); live heap {Mb(payout.LiveHeapBefore)} → {Mb(payout.LiveHeapAfter)} MB (after a full GC forced through the diagnostics port, before and after)"));
            md.AppendLine(I($"- the same Idempotency-Key again: {payout.RepeatStatus} in {payout.RepeatSeconds * 1000:F0} ms, the same run; a second run (new key) answered {payout.EmptyRun.FirstStatus} and completed after **{payout.EmptyRun.WallSeconds:F2} s** ({Seconds(payout.EmptyRun.ServerSeconds)} server-side), {payout.EmptyRun.CreatorsVisited:N0} creators visited, {payout.EmptyRun.Payouts:N0} paid, peak resident {Mb(payout.EmptyRun.PeakResident)} MB"));
            foreach (var note in payout.Notes)
            {
                md.AppendLine($"- {Escape(note)}");
            }
            md.AppendLine();
            md.AppendLine("| set-up phase | requests | in flight | seconds | per second | sent again after a 503 |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var phase in payout.Phases)
            {
                md.AppendLine(I($"| {Escape(phase.Name)} | {phase.Requests:N0} | {(phase.Workers > 0 ? phase.Workers.ToString(CultureInfo.InvariantCulture) : "")} | {phase.Seconds:F1} | {phase.PerSecond:N0} | {phase.Retries} |"));
            }
            md.AppendLine();
        }

        if (runner.CreatorReport is { } report)
        {
            md.AppendLine("## Creator report").AppendLine();
            md.AppendLine(I($"- one creator with {report.Links} links (one per product of one brand); {report.Succeeded:N0} one-tap buys (`POST /api/links/{{code}}/buy`, quantity 1) spread over the links by {report.BuyConnections} connections at **{report.BuysPerSecond:N0} buys/s**; the report counted every order {report.CatchUpSeconds:F1} s after the last buy was answered; one engine process in PostgreSQL mode (group commit)"));
            foreach (var note in report.Notes)
            {
                md.AppendLine($"- {Escape(note)}");
            }
            md.AppendLine();
            md.AppendLine("| report | query | readers | reads | reads/s | p50 ms | p99 ms | max ms | CPU: server / PostgreSQL | answers |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var read in report.Reads)
            {
                md.AppendLine(I($"| {Escape(read.Report)} | `{Escape(read.Query)}` | {read.Readers} | {read.Requests:N0} | {read.PerSecond:N0} | {read.Latency.P50:F2} | {read.Latency.P99:F2} | {read.Latency.Max:F2} | {read.ServerCpuShare * 100:F0}% / {read.PostgresCpuShare * 100:F0}% | {Escape(read.Statuses)} |"));
            }
            md.AppendLine();
        }

        if (runner.AdStorm is { } ads)
        {
            md.AppendLine("## Ad storm").AppendLine();
            md.AppendLine(I($"- {ads.Campaigns:N0} campaigns over {ads.Brands} brands and {ads.Products:N0} products, created through the API (brand keys); {ads.Mode}; the placement index showed them {ads.IndexCatchUpSeconds:F1} s after the last one was created"));
            if (ads.CeilingPerSecond is { } http)
            {
                md.AppendLine(I($"- HTTP ceiling of this run at the same concurrency: {http:N0}/s"));
            }
            foreach (var note in ads.Notes)
            {
                md.AppendLine($"- {Escape(note)}");
            }
            md.AppendLine();
            md.AppendLine("| load | conn. | ok/s | × HTTP ceiling | p50 ms | p99 ms | engine's mean ms |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var load in ads.Loads)
            {
                md.AppendLine(I($"| {Escape(load.What)} | {load.Connections} | {load.PerSecond:N0} | {(load.RatioToCeiling is { } r ? I($"{r:F2}") : "–")} | {load.Latency.P50:F2} | {load.Latency.P99:F2} | {(load.ServerMeanMs is { } m ? I($"{m:F2}") : "–")} |"));
            }
            md.AppendLine();
            md.AppendLine("| set-up phase | requests | in flight | seconds | per second |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var phase in ads.Phases)
            {
                md.AppendLine(I($"| {Escape(phase.Name)} | {phase.Requests:N0} | {(phase.Workers > 0 ? phase.Workers.ToString(CultureInfo.InvariantCulture) : "")} | {phase.Seconds:F1} | {phase.PerSecond:N0} |"));
            }
            md.AppendLine();
        }

        md.AppendLine("## Invariants").AppendLine();
        var broken = results.Where(r => r.Broken).ToList();
        if (broken.Count == 0)
        {
            md.AppendLine($"All {results.Sum(r => r.Checks.Count)} checks of {results.Count} runs hold.");
        }
        else
        {
            md.AppendLine("**BROKEN: this run does not count, whatever its speed.**").AppendLine();
            foreach (var point in broken)
            {
                if (point.Failure is not null)
                {
                    md.AppendLine($"- {point.Series}, {point.Concurrency} connections: failed to run: {Escape(point.Failure)}");
                }
                foreach (var check in point.Checks.Where(c => !c.Passed))
                {
                    md.AppendLine($"- {point.Series}, {point.Concurrency} connections: {check.Name}: {Escape(check.Detail)}");
                }
            }
        }
        md.AppendLine().AppendLine("![Throughput against concurrency](throughput.png)");
        return md.ToString();
    }

    private static string Share(Load.LoadResult load, string name) =>
        load.Processes.FirstOrDefault(p => p.Name == name) is { } p ? I($"{p.CpuShare * 100:F0}%") : "–";

    private static string Invariants(PointResult point) =>
        point.Checks.Count == 0 ? "–" : point.Checks.All(c => c.Passed) ? $"{point.Checks.Count} hold" : $"**{point.Checks.Count(c => !c.Passed)} BROKEN**";

    private static string Mb(long? bytes) => bytes is { } b ? I($"{b / 1024.0 / 1024.0:F0}") : "?";

    private static string Seconds(double? seconds) => seconds is { } s ? I($"{s:F2} s") : "?";

    private static string Kib(double? bytes) => bytes is { } b ? I($"{b / 1024:F1} KiB") : "–";

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
