using Microsoft.Extensions.Logging.Console;
using Orleans.Dashboard;
using Scalar.AspNetCore;
using Vetrina.Api.Auth;
using Vetrina.Silo.Hosting;

namespace Vetrina.Silo.Defaults;

/// <summary>
/// Everything a Vetrina process has around its routes, in one place: structured logs, OpenTelemetry, health, request
/// limits, the Prometheus scrape endpoint, the Orleans dashboard and, in Development, the API reference page.
/// </summary>
public static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder, VetrinaSettings settings)
    {
        builder.AddStructuredLogs();
        builder.AddVetrinaTelemetry(settings.Telemetry);
        builder.Services.AddVetrinaHealthChecks();
        builder.AddRequestLimits(settings);
        return builder;
    }

    public static ISiloBuilder AddSiloDefaults(this ISiloBuilder silo, VetrinaSettings settings, IConfiguration configuration)
    {
        // Grain calls start activities that continue the caller's trace, so one trace runs from HTTP to storage. Only
        // when traces can be recorded at all: otherwise every grain call would pay for filters that build nothing.
        if (Telemetry.RecordsTraces(settings.Telemetry, configuration))
        {
            silo.AddActivityPropagation();
        }
        if (settings.Dashboard.Enabled)
        {
            silo.AddDashboard();
        }
        return silo;
    }

    /// <summary>Middleware that runs before the API's own pipeline.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseTrustedProxies(app.Services.GetRequiredService<VetrinaSettings>());
        app.UseRequestBodyLimit();
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<VetrinaSettings>();
        app.MapVetrinaHealth();
        if (settings.Telemetry.Prometheus)
        {
            // Metrics tell sales volumes: the scraper sends the platform key (Prometheus' 'authorization' setting).
            app.MapPrometheusScrapingEndpoint(Telemetry.PrometheusPath).RequireAuthorization(Access.Platform);
        }
        if (settings.Dashboard.Enabled)
        {
            app.MapOrleansDashboard(settings.Dashboard.Path).RequireAuthorization(Access.Operator).ExcludeFromDescription();
        }
        if (app.Environment.IsDevelopment())
        {
            // An interactive reference of /openapi/v1.json at /scalar/v1.
            app.MapScalarApiReference(o => o.WithTitle("Vetrina API"));
        }
        return app;
    }

    /// <summary>
    /// JSON lines outside Development (readable text in it), each with the trace and span id of the request it belongs
    /// to. Keys and tokens are never logged: they travel in headers and bodies, which no log message includes.
    /// </summary>
    private static void AddStructuredLogs(this WebApplicationBuilder builder)
    {
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (builder.Configuration["Logging:Console:FormatterName"] is null)
        {
            builder.Logging.AddConsole(o => o.FormatterName = builder.Environment.IsDevelopment() ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json);
        }
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o => o.IncludeScopes = true);
    }
}
