using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Baseline;

/// <summary>
/// The hot-row transaction with neither HTTP nor .NET in the way: PostgreSQL's own pgbench runs the transaction of
/// <see cref="HotRowServer"/> (a conditional stock UPDATE, an order INSERT) as a custom script with prepared
/// statements, over N connections for a fixed time, and says how many it committed per second.
/// pgbench is found on PATH (bench/run.sh puts the throwaway server's bin folder first).
/// </summary>
public sealed partial class PgBench(string executable)
{
    // A random 63-bit key per transaction: the (shopper, key) pair of an order is unique, as the schema requires.
    public static readonly string Script = $"""
        \set key random(1, 9000000000000000000)
        BEGIN;
        UPDATE stock SET available = available - 1 WHERE id = {HotRowServer.ProductId} AND available >= 1;
        INSERT INTO orders (product_id, shopper_id, idempotency_key, quantity) VALUES ({HotRowServer.ProductId}, 'pgbench-' || :client_id, 'k' || :key, 1);
        COMMIT;

        """;

    public const string ScriptName = "hot-row.sql";

    public string Executable { get; } = executable;

    /// <summary>The first <c>pgbench</c> on PATH, or null.</summary>
    public static PgBench? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "pgbench");
            if (File.Exists(candidate))
            {
                return new PgBench(candidate);
            }
        }
        return null;
    }

    /// <summary>
    /// Runs the script for <paramref name="duration"/> (whole seconds, at least 1) on <paramref name="clients"/>
    /// connections and two threads. With <paramref name="watched"/>, their CPU and pgbench's own are sampled inside the
    /// run (after the connections are made, before they close) and every transaction's latency is read from pgbench's log.
    /// </summary>
    public async Task<PgBenchRun> RunAsync(string connectionString, int clients, TimeSpan duration, IReadOnlyList<ProcessCpu>? watched = null)
    {
        var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        var folder = Directory.CreateTempSubdirectory("vetrina-pgbench-");
        try
        {
            var script = Path.Combine(folder.FullName, ScriptName);
            await File.WriteAllTextAsync(script, Script);
            var database = new NpgsqlConnectionStringBuilder(connectionString);
            var start = new ProcessStartInfo(Executable)
            {
                WorkingDirectory = folder.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "-h", database.Host ?? "127.0.0.1", "-p", database.Port.ToString(CultureInfo.InvariantCulture), "-U", database.Username ?? "postgres",
                "-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", Math.Min(2, clients).ToString(CultureInfo.InvariantCulture),
                "-T", seconds.ToString(CultureInfo.InvariantCulture), "-f", script,
            })
            {
                start.ArgumentList.Add(argument);
            }
            if (watched is not null)
            {
                start.ArgumentList.Add("-l");
                start.ArgumentList.Add("--log-prefix=" + Path.Combine(folder.FullName, "latency"));
            }
            start.ArgumentList.Add(database.Database ?? "postgres");

            using var process = Process.Start(start) ?? throw new InvalidOperationException("pgbench did not start.");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            var cpu = watched is null ? null : await SampleCpuAsync(process, watched, TimeSpan.FromSeconds(seconds));
            await process.WaitForExitAsync();
            var text = await output;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"pgbench exited with code {process.ExitCode}: {(await errors).Trim()}\n{text.Trim()}");
            }
            var latencies = watched is null ? null : ReadLatencies(folder.FullName);
            // As it ran, without the throwaway folder's paths (the script by its name, the latency log's prefix left out).
            var command = string.Join(' ', start.ArgumentList
                .Where(a => !a.StartsWith("--log-prefix=", StringComparison.Ordinal))
                .Select(a => a == script ? ScriptName : a)
                .Prepend(Executable));
            return new PgBenchRun(
                command,
                Number(TransactionsLine(), text) is { } processed ? (long)processed : throw new InvalidOperationException($"pgbench printed no transaction count:\n{text}"),
                (long)(Number(FailedLine(), text) ?? 0),
                Number(TpsLine(), text) ?? throw new InvalidOperationException($"pgbench printed no tps:\n{text}"),
                Number(LatencyLine(), text) ?? double.NaN,
                latencies,
                cpu);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<PgBenchCpu> SampleCpuAsync(Process process, IReadOnlyList<ProcessCpu> watched, TimeSpan run)
    {
        var edge = TimeSpan.FromSeconds(Math.Min(1, run.TotalSeconds / 5));
        var self = ProcessCpu.Of("pgbench", process.Id);
        await Task.Delay(edge);
        var wallBefore = Stopwatch.GetTimestamp();
        var selfBefore = self.Sample();
        var before = watched.Select(p => p.Sample()).ToArray();
        await Task.Delay(run - edge - edge);
        var seconds = Stopwatch.GetElapsedTime(wallBefore).TotalSeconds;
        var selfAfter = self.Sample();
        var after = watched.Select(p => p.Sample()).ToArray();
        double Share(TimeSpan used) => used.TotalSeconds / seconds / Environment.ProcessorCount;
        return new PgBenchCpu(
            seconds,
            Share(selfAfter - selfBefore),
            (selfAfter - selfBefore).TotalSeconds,
            watched.Select((p, i) => new ProcessShare(p.Name, Share(after[i] - before[i]))).ToList());
    }

    /// <summary>
    /// pgbench's per-transaction log (one file per thread): "client transaction latency_us script epoch epoch_us";
    /// the latency of a failed transaction reads "failed" and is left out.
    /// </summary>
    private static SortedLatencies ReadLatencies(string folder)
    {
        var recorder = new LatencyRecorder();
        foreach (var file in Directory.EnumerateFiles(folder, "latency.*"))
        {
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(' ');
                if (fields.Length > 2 && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var microseconds))
                {
                    recorder.Record(microseconds * Stopwatch.Frequency / 1_000_000);
                }
            }
        }
        return LatencyRecorder.Merge([recorder]);
    }

    private static double? Number(Regex line, string text) =>
        line.Match(text) is { Success: true } match ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex TransactionsLine();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedLine();

    [GeneratedRegex(@"latency average = ([0-9.]+) ms")]
    private static partial Regex LatencyLine();

    // "tps = 1234.5 (without initial connection time)"; before PostgreSQL 14, "(excluding connections establishing)".
    [GeneratedRegex(@"tps = ([0-9.]+) \((?:without|excluding)")]
    private static partial Regex TpsLine();
}

/// <summary>CPU inside a pgbench run: pgbench's own share and seconds, and the watched processes' shares.</summary>
public sealed record PgBenchCpu(double Seconds, double PgBenchShare, double PgBenchCpuSeconds, IReadOnlyList<ProcessShare> Processes);

/// <summary>What one pgbench run printed (committed and failed transactions, tps, average latency) and what was sampled.</summary>
public sealed record PgBenchRun(string Command, long Transactions, long Failed, double Tps, double LatencyAverageMs, SortedLatencies? Latencies, PgBenchCpu? Cpu)
{
    /// <summary>The run as the load driver reports its own: one group, one kind, "commit"/"failed" as its answers.</summary>
    public LoadResult ToLoadResult(int clients)
    {
        var latency = Latencies?.Summary() ?? new LatencySummary(double.NaN, double.NaN, double.NaN, double.NaN, LatencyAverageMs);
        var statuses = new Dictionary<string, long> { ["commit"] = Transactions };
        if (Failed > 0)
        {
            statuses["failed"] = Failed;
        }
        var group = new GroupResult("pgbench", clients, Transactions + Failed, Transactions, Tps, latency,
            [new KindResult("transaction", Transactions + Failed, Tps, latency)], statuses);
        var seconds = Cpu?.Seconds ?? double.NaN;
        return new LoadResult(
            [group],
            seconds,
            Cpu?.PgBenchShare ?? double.NaN,
            Cpu is { } cpu && Tps > 0 ? cpu.PgBenchCpuSeconds * 1e6 / (Tps * cpu.Seconds) : double.NaN,
            Cpu?.Processes ?? []);
    }
}
