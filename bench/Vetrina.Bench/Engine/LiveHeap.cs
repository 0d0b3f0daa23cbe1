using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Vetrina.Bench.Engine;

/// <summary>
/// The managed heap of another .NET process after a full collection, through its diagnostics port (EventPipe):
/// enabling the runtime's GCHeapCollect keyword makes it run a blocking gen-2 GC, and the heap statistics that
/// follow it are the live heap. Unlike the resident set, that does not include garbage or the GC's headroom.
/// Only used between load phases: a forced full GC would disturb a measurement.
/// </summary>
public static class LiveHeap
{
    // On a thread-pool thread: the diagnostics client blocks on socket I/O, and with the driver's inline socket
    // completions a caller's continuation may be running on the socket engine's own thread.
    public static Task<long?> MeasureAsync(int pid, TimeSpan deadline) => Task.Run(() => CollectAsync(pid, deadline));

    private static async Task<long?> CollectAsync(int pid, TimeSpan deadline)
    {
        try
        {
            var client = new DiagnosticsClient(pid);
            var keywords = (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect);
            using var session = client.StartEventPipeSession(
                [new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Informational, keywords)], requestRundown: false);
            using var source = new EventPipeEventSource(session.EventStream);
            var result = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var induced = false;
            source.Clr.GCStart += e => induced |= e.Reason == GCReason.Induced && e.Depth == 2;
            source.Clr.GCHeapStats += e =>
            {
                if (induced)
                {
                    result.TrySetResult(e.TotalHeapSize);
                }
            };
            var processing = Task.Run(source.Process);
            var finished = await Task.WhenAny(result.Task, Task.Delay(deadline));
            await session.StopAsync(CancellationToken.None);
            await Task.WhenAny(processing, Task.Delay(TimeSpan.FromSeconds(5)));
            return finished == result.Task ? await result.Task : null;
        }
        catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or EndOfStreamException or IOException or TimeoutException)
        {
            return null;
        }
    }
}
