using System.Diagnostics;
using System.Text;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// One Vetrina silo as its own operating-system process (the built <c>Vetrina.Silo.dll</c>), so a test can
/// kill it the way a machine dies: SIGKILL, no shutdown, nothing flushed.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly string _home;

    private SiloProcess(Process process, Uri address, int siloPort, string home)
    {
        _process = process;
        _home = home;
        Address = address;
        SiloPort = siloPort;
    }

    public Uri Address { get; }

    public int SiloPort { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static SiloProcess Start(IEnumerable<string> settings)
    {
        var siloPort = TestPorts.Next();
        var httpPort = TestPorts.Next();
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A home of its own, as on a machine of its own: nothing the silos share goes through the test machine's home
        // folder (ASP.NET Core, for one, keeps its data-protection keys there unless told otherwise).
        var home = Directory.CreateTempSubdirectory("vetrina-silo-home-").FullName;
        start.Environment["HOME"] = home;
        start.ArgumentList.Add(Path.Combine(directory, "Vetrina.Silo.dll"));
        foreach (var argument in settings.Concat([
            $"--urls=http://127.0.0.1:{httpPort}",
            $"--Vetrina:SiloPort={siloPort}",
            $"--Vetrina:GatewayPort={TestPorts.Next()}",
        ]))
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("The silo process did not start.");
        var silo = new SiloProcess(process, new Uri($"http://127.0.0.1:{httpPort}"), siloPort, home);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200: the silo joined the cluster and storage answers.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan deadline)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync("/health/ready");
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
                throw new TimeoutException($"The silo at {Address} was not ready within {deadline}:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: the process ends at once, as when its machine dies.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            // Keep the tail only: a long run must not grow without bound.
            if (_output.Length > 200_000)
            {
                _output.Remove(0, 100_000);
            }
            _output.AppendLine(line);
        }
    }
}
