namespace Vetrina.Silo.Defaults;

/// <summary><c>Vetrina:Telemetry</c>: where traces, metrics and logs go.</summary>
public sealed class TelemetrySettings
{
    /// <summary>The <c>service.name</c> of every signal.</summary>
    public string ServiceName { get; set; } = "vetrina";

    /// <summary>An OTLP collector; when absent, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is used; when both are absent nothing is exported.</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Serve <c>GET /metrics</c> in the Prometheus text format (platform key required).</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// The share of new traces recorded, 0 to 1; a request that arrives with a sampled trace is always recorded. Unset: all
    /// of them when an OTLP endpoint is configured, none otherwise (no spans are built that nothing would read).
    /// </summary>
    public double? TraceSampleRatio { get; set; }
}

/// <summary><c>Vetrina:Dashboard</c>: the Orleans dashboard, for operators with the platform key.</summary>
public sealed class DashboardSettings
{
    /// <summary>Off by default: the dashboard profiles every grain call. Enable it on every silo of a cluster.</summary>
    public bool Enabled { get; set; }

    public string Path { get; set; } = "/dashboard";
}

/// <summary><c>Vetrina:Limits</c>: what one request may take.</summary>
public sealed class LimitSettings
{
    /// <summary>Past this, a request that waits on grains answers 503 problem+json (its grain calls may still finish).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Larger bodies answer 413 problem+json before anything reads them. The largest valid body is a few kilobytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Reverse proxies or load balancers in front of the silos, as addresses or CIDR networks: for a request from one of
    /// them the client is the last address its <c>X-Forwarded-For</c> names, so per-address limits see real clients.
    /// Empty: the connection's address is the client, and <c>X-Forwarded-For</c> is ignored (anyone could send it).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
}

/// <summary>
/// <c>Vetrina:RateLimits</c>: a token bucket per key (the platform key, each brand key, each creator key) and one per
/// client address for requests without a valid key. Generous by default; lower them to protect a deployment.
/// </summary>
public sealed class RateLimitSettings
{
    public bool Enabled { get; set; } = true;

    public RateLimit Platform { get; set; } = new() { PermitsPerSecond = 100_000, Burst = 200_000 };

    public RateLimit Brand { get; set; } = new() { PermitsPerSecond = 2_000, Burst = 4_000 };

    public RateLimit Creator { get; set; } = new() { PermitsPerSecond = 2_000, Burst = 4_000 };

    /// <summary>Per client IP address, for requests without a key or with one that is not valid.</summary>
    public RateLimit Anonymous { get; set; } = new() { PermitsPerSecond = 10_000, Burst = 20_000 };

    /// <summary>
    /// Per client (IPv4 address or IPv6 /64), failed checks of brand and creator keys this process has not verified yet
    /// (each check asks a grain, which may read storage). Spent: unknown keys answer 429 before authentication; checks
    /// that succeed and verified keys never count.
    /// </summary>
    public RateLimit KeyLookups { get; set; } = new() { PermitsPerSecond = 100, Burst = 1_000 };
}

public sealed class RateLimit
{
    /// <summary>Sustained requests per second; below 1 means one request every 1/x seconds.</summary>
    public double PermitsPerSecond { get; set; }

    /// <summary>Requests allowed at once after a quiet period (the bucket's size).</summary>
    public int Burst { get; set; }
}
