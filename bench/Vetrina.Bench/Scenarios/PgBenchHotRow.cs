using System.Globalization;
using Vetrina.Bench.Baseline;
using Vetrina.Bench.Load;

namespace Vetrina.Bench.Scenarios;

/// <summary>
/// The hot-row transaction driven by pgbench instead of through HTTP: how many of those transactions this PostgreSQL
/// commits per second with nothing else on the machine's cores. Each concurrency gets a fresh database; a warm-up run,
/// then the measured one.
/// </summary>
public sealed partial class ScenarioRunner
{
    public const string PgBenchHotRow = "pgbench hot-row";

    private async Task PgBenchHotRowAsync(PointResult point, PgBench pgbench, int c)
    {
        await using var database = await engines.CreateHotRowDatabaseAsync(HugeStock);
        long committed = 0;
        if (options.Warmup >= TimeSpan.FromSeconds(1))
        {
            committed += (await pgbench.RunAsync(database.ConnectionString, c, options.Warmup)).Transactions;
        }
        var watched = PostmasterPid() is { } postmaster ? new List<ProcessCpu> { ProcessCpu.PostgresServer(postmaster) } : [];
        var measured = await pgbench.RunAsync(database.ConnectionString, c, options.Duration, watched);
        committed += measured.Transactions;
        Record(point, measured.ToLoadResult(c), "pgbench -M prepared: UPDATE stock + INSERT order");
        point.Checks.AddRange(await Invariants.CheckHotRowAsync(database, committed, "transactions pgbench committed"));
        point.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{measured.Command}: tps {measured.Tps:F0} (without connection time), latency average {measured.LatencyAverageMs:F2} ms, {measured.Failed} failed; driver CPU is pgbench's"));
    }
}
