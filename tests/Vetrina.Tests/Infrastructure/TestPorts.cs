using System.Net.Sockets;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// Ports for silos and their HTTP servers. Asking the kernel for port 0 hands out an ephemeral port that is free
/// now but may be given to the next outgoing connection or port-0 listener before the silo binds it; so these
/// come from below the ephemeral range (which starts at 32768 on Linux), each one handed out once per test run,
/// and checked free when handed out.
/// </summary>
public static class TestPorts
{
    private const int First = 20_000;
    private const int Last = 32_000;
    private static int _next = First + Random.Shared.Next(0, 4_000);

    public static int Next()
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Interlocked.Increment(ref _next);
            if (port > Last)
            {
                Interlocked.CompareExchange(ref _next, First, port);
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by something else: try the next one.
            }
        }
        throw new InvalidOperationException("No free port below the ephemeral range.");
    }
}
