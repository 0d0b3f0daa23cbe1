using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Vetrina.Bench.Engine;

/// <summary>
/// A server under test as its own process (<c>dotnet some.dll args</c>) on a loopback port. Its output goes
/// straight to a log file (through the shell's redirection, so the driver spends no CPU on it).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>Set in the driver's process only; a server under test runs with the runtime's defaults.</summary>
    public const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Process> Running = new();

    private readonly Process _process;

    private ServerProcess(Process process, string name, int port, string logPath)
    {
        _process = process;
        Name = name;
        Port = port;
        LogPath = logPath;
    }

    public string Name { get; }

    public int Port { get; }

    public int Pid => _process.Id;

    public string LogPath { get; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public static ServerProcess Start(string name, string dll, int port, IEnumerable<string> arguments, string logDirectory)
    {
        Directory.CreateDirectory(logDirectory);
        // Absolute: the shell below runs in the server's own folder.
        var logPath = Path.GetFullPath(Path.Combine(logDirectory, $"{name}-{port}.log"));
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            UseShellExecute = false,
        };
        // exec: the shell becomes dotnet, so the process id is the server's own (for its CPU time and memory).
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" >\"$BENCH_SERVER_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["BENCH_SERVER_LOG"] = logPath;
        start.Environment.Remove(InlineCompletions);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start.");
        Running[process.Id] = process;
        return new ServerProcess(process, name, port, logPath);
    }

    /// <summary>Waits until <paramref name="path"/> answers 200.</summary>
    public async Task WaitUntilReadyAsync(string path, TimeSpan deadline)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready:\n{LogTail()}");
            }
            try
            {
                using var response = await http.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{Name} was not ready within {deadline}:\n{LogTail()}");
            }
            await Task.Delay(100);
        }
    }

    public string LogTail(int lines = 40)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not stopped within a few seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    /// <summary>When the benchmark itself is stopped (Ctrl-C, SIGTERM): no server it started outlives it.</summary>
    public static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
