using System.Text.Json;
using Vetrina.Bench;
using Vetrina.Bench.Baseline;
using Vetrina.Bench.Engine;
using Vetrina.Bench.Report;
using Vetrina.Bench.Scenarios;

// Three commands: the benchmark itself (default), and the two baseline servers it starts as separate processes.
if (args.Length > 0 && args[0] == HotRowServer.Command)
{
    return await HotRowServer.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == JsonCeilingServer.Command)
{
    return await JsonCeilingServer.RunAsync(args[1..]);
}

// The driver's socket continuations run on the socket engine's own thread instead of hopping to the thread
// pool: less CPU per request. Read once, when the first socket is made; the processes it starts do not inherit it.
Environment.SetEnvironmentVariable(ServerProcess.InlineCompletions, "1");

if (args.Contains("--help"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args.Length > 0 && args[0] == "run" ? args[1..] : args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (!File.Exists(options.SiloDll))
{
    Console.Error.WriteLine($"No engine build at {options.SiloDll}: build it in Release first (bash bench/run.sh does).");
    return 2;
}

var context = RunContext.Read(options.RepositoryRoot);
Console.WriteLine($"Vetrina benchmark at {context.Commit} on {context.Machine}");
Console.WriteLine($"Scenarios {string.Join(",", options.Scenarios)}; connections {string.Join(",", options.Concurrency)}; " +
    $"warm-up {options.Warmup.TotalSeconds} s, measured {options.Duration.TotalSeconds} s");
Directory.CreateDirectory(options.OutputDirectory);
if (Directory.Exists(options.LogDirectory))
{
    Directory.Delete(options.LogDirectory, recursive: true);
}

using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => ServerProcess.KillAll());
using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => ServerProcess.KillAll());
var runner = new ScenarioRunner(options, new Engines(options), context);
var clock = System.Diagnostics.Stopwatch.StartNew();
await runner.RunAsync();
ConsoleReport.PrintTargets(options, runner);
Console.WriteLine($"All runs took {clock.Elapsed.TotalMinutes:F1} minutes.");

var command = "bash bench/run.sh" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
var markdownPath = Path.Combine(options.OutputDirectory, "latest.md");
await File.WriteAllTextAsync(markdownPath, MarkdownReport.Write(options, context, runner, command));
var jsonPath = Path.Combine(options.OutputDirectory, "latest.json");
await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(
    new { context, results = runner.Results, wideCatalog = runner.WideCatalog, liveStreams = runner.LiveStreams, payoutRun = runner.PayoutRun, creatorReport = runner.CreatorReport, adStorm = runner.AdStorm, skipped = runner.Skipped },
    new JsonSerializerOptions
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    }));
var chartPath = Path.Combine(options.OutputDirectory, "throughput.png");
var charted = ThroughputChart.Write(chartPath, runner.Results, options.Concurrency, context);
Console.WriteLine();
Console.WriteLine($"Wrote {markdownPath}, {jsonPath}{(charted ? $" and {chartPath}" : " (no throughput to chart)")}");

var broken = runner.Results.Where(r => r.Broken).ToList();
if (broken.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    Console.WriteLine($"!!! {broken.Count} run(s) broke an invariant or failed to run: the benchmark FAILED.");
    foreach (var point in broken)
    {
        var why = point.Failure ?? string.Join("; ", point.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}"));
        Console.WriteLine($"!!! {point.Series}, {point.Concurrency} connections: {why.Split('\n')[0]}");
    }
    Console.WriteLine("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    return 1;
}
Console.WriteLine($"All invariants hold ({runner.Results.Sum(r => r.Checks.Count)} checks over {runner.Results.Count} runs).");
return 0;
