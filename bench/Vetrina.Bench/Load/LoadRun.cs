using System.Diagnostics;
using System.Net;

namespace Vetrina.Bench.Load;

/// <summary>What one connection sends next, and what it learns from each answer.</summary>
public interface IRequestSource
{
    /// <summary>The next request's bytes (valid until the next call) and its kind (an index into the group's kinds).</summary>
    ReadOnlyMemory<byte> NextRequest(out int kind);

    /// <summary>The answer's status code, or <see cref="Outcomes.Failed"/> / <see cref="Outcomes.TimedOut"/>.</summary>
    void Completed(int status);
}

public static class Outcomes
{
    /// <summary>The connection failed: the request may or may not have been processed.</summary>
    public const int Failed = -1;

    /// <summary>No answer within the time-out: the request may or may not have been processed.</summary>
    public const int TimedOut = -2;

    public static string Name(int status) => status switch
    {
        Failed => "io-error",
        TimedOut => "timeout",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static bool IsUnknown(int status) => status is Failed or TimedOut || status >= 500;
}

/// <summary>Connections that share one kind of work; each gets its own <see cref="IRequestSource"/>.</summary>
public sealed class ConnectionGroup(string name, int connections, IReadOnlyList<string> kinds, Func<int, IRequestSource> sourceFor)
{
    public string Name { get; } = name;

    public int Connections { get; } = connections;

    public IReadOnlyList<string> Kinds { get; } = kinds;

    public Func<int, IRequestSource> SourceFor { get; } = sourceFor;

    /// <summary>When set, a connection sends at most one request per interval (a modest, steady load).</summary>
    public TimeSpan? Interval { get; init; }
}

/// <summary>
/// A closed-loop load: each connection keeps one request outstanding; after a warm-up, every answer whose
/// request started and ended inside the measured window is recorded.
/// </summary>
public static class LoadRun
{
    public static async Task<LoadResult> RunAsync(
        IPEndPoint server, IReadOnlyList<ConnectionGroup> groups, TimeSpan warmup, TimeSpan duration, TimeSpan requestTimeout,
        IReadOnlyList<ProcessCpu> watched, long maxRequests, Func<Task>? duringMeasurement = null)
    {
        var startedAt = Stopwatch.GetTimestamp();
        var window = new Window(
            startedAt + Ticks(warmup),
            startedAt + Ticks(warmup) + Ticks(duration),
            Ticks(requestTimeout),
            maxRequests);
        var workers = new List<Worker>();
        foreach (var group in groups)
        {
            for (var i = 0; i < group.Connections; i++)
            {
                workers.Add(new Worker(server, group, group.SourceFor(i), window));
            }
        }

        using var watchdog = new Timer(_ =>
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var worker in workers)
            {
                worker.AbortIfLate(now);
            }
        }, null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));

        var running = workers.Select(w => Task.Run(w.RunAsync)).ToArray();

        await Task.Delay(Remaining(window.MeasureFrom));
        var self = ProcessCpu.Self();
        var cpuBefore = watched.Select(p => p.Sample()).ToArray();
        var selfBefore = self.Sample();
        var wallBefore = Stopwatch.GetTimestamp();
        var during = duringMeasurement?.Invoke() ?? Task.CompletedTask;
        // A run bounded by its request count may end before its window does: the window ends with its last answer then.
        await Task.WhenAny(Task.Delay(Remaining(window.MeasureTo)), Task.WhenAll(running));
        var wallAfter = Stopwatch.GetTimestamp();
        var selfAfter = self.Sample();
        var cpuAfter = watched.Select(p => p.Sample()).ToArray();
        await during;

        // Requests in flight at the end are answered (or time out) before the run is over: their outcomes count.
        await Task.WhenAll(running);

        var measuredSeconds = Stopwatch.GetElapsedTime(wallBefore, wallAfter).TotalSeconds;
        var results = groups.Select(g => GroupResult.From(g, workers.Where(w => w.Group == g).ToList(), measuredSeconds)).ToList();
        var recorded = results.Sum(r => r.Completed);
        var selfCpu = (selfAfter - selfBefore).TotalSeconds;
        return new LoadResult(
            results,
            measuredSeconds,
            selfCpu / measuredSeconds / Environment.ProcessorCount,
            recorded == 0 ? 0 : selfCpu * 1e6 / recorded,
            watched.Select((p, i) => new ProcessShare(p.Name, (cpuAfter[i] - cpuBefore[i]).TotalSeconds / measuredSeconds / Environment.ProcessorCount)).ToList());
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Remaining(long until)
    {
        var left = until - Stopwatch.GetTimestamp();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / Stopwatch.Frequency);
    }

    /// <summary>The run's time limits, and a cap on its requests (all connections together) as a second bound.</summary>
    internal sealed class Window(long measureFrom, long measureTo, long timeout, long maxRequests)
    {
        private long _sent;

        public long MeasureFrom { get; } = measureFrom;

        public long MeasureTo { get; } = measureTo;

        public long Timeout { get; } = timeout;

        public bool MaySend() => Stopwatch.GetTimestamp() < MeasureTo && Interlocked.Increment(ref _sent) <= maxRequests;
    }

    internal sealed class Worker(IPEndPoint server, ConnectionGroup group, IRequestSource source, Window window) : IDisposable
    {
        private readonly HttpConnection _connection = new(server);
        private long _inFlightSince;

        public ConnectionGroup Group { get; } = group;

        public LatencyRecorder[] Latencies { get; } = group.Kinds.Select(_ => new LatencyRecorder()).ToArray();

        public Dictionary<int, long> Statuses { get; } = [];

        public void Dispose() => _connection.Dispose();

        public void AbortIfLate(long now)
        {
            var since = Volatile.Read(ref _inFlightSince);
            if (since != 0 && now - since > window.Timeout)
            {
                Volatile.Write(ref _inFlightSince, 0);
                _connection.Close();
            }
        }

        public async Task RunAsync()
        {
            var interval = Group.Interval is { } i ? Ticks(i) : 0;
            var next = Stopwatch.GetTimestamp();
            try
            {
                while (window.MaySend())
                {
                    if (!_connection.IsOpen && !await TryConnectAsync())
                    {
                        continue;
                    }
                    if (interval > 0)
                    {
                        next += interval;
                        var wait = next - Stopwatch.GetTimestamp();
                        if (wait > 0)
                        {
                            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                        }
                        else
                        {
                            next = Stopwatch.GetTimestamp();
                        }
                    }
                    var request = source.NextRequest(out var kind);
                    var start = Stopwatch.GetTimestamp();
                    Volatile.Write(ref _inFlightSince, start);
                    int status;
                    try
                    {
                        status = await _connection.ExchangeAsync(request);
                    }
                    catch (Exception) when (Volatile.Read(ref _inFlightSince) == 0)
                    {
                        status = Outcomes.TimedOut;
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                    {
                        status = Outcomes.Failed;
                        _connection.Close();
                    }
                    Volatile.Write(ref _inFlightSince, 0);
                    var end = Stopwatch.GetTimestamp();
                    source.Completed(status);
                    if (start >= window.MeasureFrom && end <= window.MeasureTo)
                    {
                        Latencies[kind].Record(end - start);
                        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
                    }
                }
            }
            finally
            {
                Dispose();
            }
        }

        private async Task<bool> TryConnectAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _connection.ConnectAsync(timeout.Token);
                return true;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= window.MeasureFrom && now <= window.MeasureTo)
                {
                    Statuses[Outcomes.Failed] = Statuses.GetValueOrDefault(Outcomes.Failed) + 1;
                }
                await Task.Delay(100);
                return false;
            }
        }
    }
}

public sealed record ProcessShare(string Name, double CpuShare);

public sealed record LoadResult(
    IReadOnlyList<GroupResult> Groups,
    double MeasuredSeconds,
    double DriverCpuShare,
    double DriverCpuMicrosecondsPerRequest,
    IReadOnlyList<ProcessShare> Processes);

/// <summary>One kind of request: how many were answered in the measured window and how fast (all answers, errors too).</summary>
public sealed record KindResult(string Kind, long Count, double PerSecond, LatencySummary Latency);

/// <summary>
/// A group's measured window. <see cref="PerSecond"/> counts only 2xx answers: errors never inflate throughput.
/// Latency covers every answer.
/// </summary>
public sealed record GroupResult(
    string Name, int Connections, long Completed, long Succeeded, double PerSecond, LatencySummary Latency,
    IReadOnlyList<KindResult> Kinds, IReadOnlyDictionary<string, long> Statuses)
{
    internal static GroupResult From(ConnectionGroup group, List<LoadRun.Worker> workers, double seconds)
    {
        var kinds = group.Kinds.Select((kind, k) =>
        {
            var merged = LatencyRecorder.Merge(workers.Select(w => w.Latencies[k]));
            return new KindResult(kind, merged.Count, merged.Count / seconds, merged.Summary());
        }).ToList();
        var all = LatencyRecorder.Merge(workers.SelectMany(w => w.Latencies));
        var byStatus = workers.SelectMany(w => w.Statuses).GroupBy(s => s.Key).OrderBy(g => g.Key).ToList();
        var succeeded = byStatus.Where(g => g.Key is >= 200 and < 300).Sum(g => g.Sum(s => s.Value));
        var statuses = byStatus.ToDictionary(g => Outcomes.Name(g.Key), g => g.Sum(s => s.Value));
        return new GroupResult(group.Name, group.Connections, all.Count, succeeded, succeeded / seconds, all.Summary(), kinds, statuses);
    }

    /// <summary>Answers other than 2xx (and time-outs and connection failures) in the measured window.</summary>
    public long Errors => Statuses.Where(s => !s.Key.StartsWith('2')).Sum(s => s.Value);
}
