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

    /// <summary>The share of new traces recorded, 0 to 1; a request that arrives with a sampled trace is always recorded.</summary>
    public double TraceSampleRatio { get; set; } = 1.0;
}
