using System.Diagnostics;

namespace Vetrina.Bench.Load;

/// <summary>CPU time (user + system) used so far by a process, or by a group of processes, read from /proc.</summary>
public sealed class ProcessCpu(string name, Func<TimeSpan> read)
{
    // Linux reports /proc times in clock ticks of USER_HZ, which is 100 on every mainstream kernel build.
    private const double TicksPerSecond = 100;

    public string Name { get; } = name;

    public TimeSpan Sample() => read();

    public static ProcessCpu Self()
    {
        var process = Process.GetCurrentProcess();
        return new ProcessCpu("driver", () =>
        {
            process.Refresh();
            return process.TotalProcessorTime;
        });
    }

    public static ProcessCpu Of(string name, int pid) => new(name, () => TimeSpan.FromSeconds(Ticks(pid) / TicksPerSecond));

    /// <summary>A PostgreSQL server: the postmaster and all its backends (the children alive at each sample).</summary>
    public static ProcessCpu PostgresServer(int postmasterPid) => new("postgres", () =>
    {
        long total = Ticks(postmasterPid);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && pid != postmasterPid && ParentOf(pid) == postmasterPid)
            {
                total += Ticks(pid);
            }
        }
        return TimeSpan.FromSeconds(total / TicksPerSecond);
    });

    /// <summary>Resident memory of a process in bytes (VmRSS).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    // After the command name: [0] state, [1] ppid, ... [11] utime, [12] stime.
    private static long Ticks(int pid) => StatFields(pid) is { } f ? long.Parse(f[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(f[12], System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static int ParentOf(int pid) => StatFields(pid) is { } f ? int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture) : -1;
}
