using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using Vetrina.Silo.Hosting;
using Vetrina.Silo.Storage;

namespace Vetrina.Silo.Health;

/// <summary><c>/health/live</c> answers while the process runs; <c>/health/ready</c> once the silo is an active member and storage answers.</summary>
public static class VetrinaHealth
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddVetrinaHealthChecks(this IServiceCollection services, VetrinaSettings settings)
    {
        services.AddHealthChecks()
            .AddCheck<ClusterMembershipCheck>("cluster", tags: [ReadyTag])
            .AddCheck<StorageCheck>("storage", tags: [ReadyTag]);
        return services;
    }

    public static WebApplication MapVetrinaHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), reason = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

internal sealed class ClusterMembershipCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {silo.SiloAddress} is an active member of cluster {silo.ClusterId}.")
            : HealthCheckResult.Unhealthy($"Silo {silo.SiloAddress} is {status}, not an active member of cluster {silo.ClusterId}."));
    }
}

internal sealed class StorageCheck(VetrinaSettings settings) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            switch (settings.Storage)
            {
                case StorageKind.Sqlite:
                    await SqliteDatabase.PingAsync(settings.SqlitePath, cancellationToken);
                    return HealthCheckResult.Healthy("SQLite answers.");
                case StorageKind.Postgres:
                    await PostgresDatabase.PingAsync(settings.PostgresConnectionString!, cancellationToken);
                    return HealthCheckResult.Healthy("PostgreSQL answers.");
                default:
                    return HealthCheckResult.Healthy("In-memory storage.");
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"Storage does not answer: {exception.Message}");
        }
    }
}
