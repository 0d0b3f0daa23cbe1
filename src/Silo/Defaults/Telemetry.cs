using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Vetrina.Grains.Common;

namespace Vetrina.Silo.Defaults;

/// <summary>
/// Traces, metrics and logs through OpenTelemetry. One trace follows a request from Kestrel through every grain call
/// it makes (Orleans activity propagation) down to PostgreSQL (Npgsql's own activities). Metrics: ASP.NET Core and
/// Kestrel, the .NET runtime, Orleans, Npgsql and Vetrina's own meter. Exported over OTLP when an endpoint is set,
/// and served to Prometheus at <c>/metrics</c>.
/// </summary>
public static class Telemetry
{
    public const string PrometheusPath = "/metrics";

    /// <summary>Activity sources traced: Orleans grain calls (system and application grains) and PostgreSQL.</summary>
    public static readonly string[] ActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Npgsql", VetrinaMetrics.MeterName];

    /// <summary>Meters collected besides ASP.NET Core's and the runtime's.</summary>
    public static readonly string[] Meters = [VetrinaMetrics.MeterName, "Microsoft.Orleans", "Npgsql"];

    /// <summary>Whether any trace can be recorded: something exports them, or a share of new traces is sampled.</summary>
    public static bool RecordsTraces(TelemetrySettings settings, IConfiguration configuration) =>
        Exporting(settings, configuration) || SampleRatio(settings, configuration) > 0;

    private static bool Exporting(TelemetrySettings settings, IConfiguration configuration) =>
        settings.OtlpEndpoint is not null || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    private static double SampleRatio(TelemetrySettings settings, IConfiguration configuration) =>
        Math.Clamp(settings.TraceSampleRatio ?? (Exporting(settings, configuration) ? 1 : 0), 0, 1);

    public static WebApplicationBuilder AddVetrinaTelemetry(this WebApplicationBuilder builder, TelemetrySettings settings)
    {
        var exporting = Exporting(settings, builder.Configuration);
        var sampleRatio = SampleRatio(settings, builder.Configuration);
        builder.Logging.AddOpenTelemetry(logs =>
        {
            logs.IncludeFormattedMessage = true;
            logs.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(settings.ServiceName, serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(sampleRatio)))
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsOperational(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource(ActivitySources))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(Meters);
                if (settings.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });

        if (settings.OtlpEndpoint is { } endpoint)
        {
            var protocol = settings.OtlpProtocol.Equals("http/protobuf", StringComparison.OrdinalIgnoreCase)
                ? OtlpExportProtocol.HttpProtobuf
                : OtlpExportProtocol.Grpc;
            telemetry.UseOtlpExporter(protocol, endpoint);
        }
        else if (exporting)
        {
            // The standard OTEL_EXPORTER_OTLP_* variables (endpoint, protocol, headers) configure it.
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Probes and scrapes are not traced: they would bury the requests that matter.</summary>
    private static bool IsOperational(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments(PrometheusPath);
}
