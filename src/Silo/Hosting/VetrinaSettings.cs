using Vetrina.Silo.Defaults;

namespace Vetrina.Silo.Hosting;

public enum StorageKind
{
    Sqlite,
    Memory,
    Postgres,
}

/// <summary>Configuration section <c>Vetrina</c>: everything an operator sets to run a silo.</summary>
public sealed class VetrinaSettings
{
    public const string Section = "Vetrina";

    /// <summary>The platform key; generated in Development when absent, required elsewhere.</summary>
    public string? PlatformKey { get; set; }

    /// <summary>Where grain state, reminders and (in cluster mode) membership live.</summary>
    public StorageKind Storage { get; set; } = StorageKind.Sqlite;

    /// <summary>Folder of the SQLite file, relative to the working directory unless absolute.</summary>
    public string DataDirectory { get; set; } = "data";

    public string? PostgresConnectionString { get; set; }

    public string ClusterId { get; set; } = "vetrina";

    public string ServiceId { get; set; } = "vetrina";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port for external Orleans clients.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos and clients use to reach this silo (cluster mode).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The local address the silo and gateway ports listen on (cluster mode).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>The shortest reminder period the silo accepts; lowered only by tests.</summary>
    public TimeSpan MinimumReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public TelemetrySettings Telemetry { get; set; } = new();

    public DashboardSettings Dashboard { get; set; } = new();

    public LimitSettings Limits { get; set; } = new();

    public RateLimitSettings RateLimits { get; set; } = new();

    public string SqlitePath => Path.Combine(Path.GetFullPath(DataDirectory), "vetrina.db");
}
