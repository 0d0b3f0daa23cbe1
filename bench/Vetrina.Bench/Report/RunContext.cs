using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Vetrina.Bench.Report;

/// <summary>What was measured, where: the commit and the machine, printed with every scenario.</summary>
public sealed record RunContext(string Commit, string Cores, string Cpu, string Memory, string Os, string Runtime, DateTimeOffset StartedAt)
{
    public static RunContext Read(string repositoryRoot) => new(
        CommitOf(repositoryRoot),
        Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        FirstValue("/proc/meminfo", "MemTotal") is { } kb && long.TryParse(kb.Split(' ')[0], CultureInfo.InvariantCulture, out var k)
            ? $"{k / 1024.0 / 1024.0:F1} GiB"
            : "unknown",
        OsName(),
        RuntimeInformation.FrameworkDescription,
        DateTimeOffset.UtcNow);

    public string Machine => $"{Cores} cores, {Cpu}, {Memory}, {Os}, {Runtime}";

    private static string CommitOf(string root)
    {
        var head = Git(root, "rev-parse --short HEAD") ?? "unknown";
        // A run on uncommitted changes says so: its figures belong to no commit.
        return string.IsNullOrWhiteSpace(Git(root, "status --porcelain --untracked-files=no")) ? head : head + "-dirty";
    }

    private static string? Git(string root, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
            using var git = Process.Start(start);
            if (git is null)
            {
                return null;
            }
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string OsName()
    {
        var pretty = FirstValue("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"');
        return pretty is null ? RuntimeInformation.OSDescription : $"{pretty} (Linux {Environment.OSVersion.Version})";
    }

    private static string? FirstValue(string file, string key, char separator = ':')
    {
        try
        {
            return File.ReadLines(file)
                .Select(line => line.Split(separator, 2))
                .Where(parts => parts.Length == 2 && parts[0].Trim() == key)
                .Select(parts => parts[1].Trim())
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
