using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using Vetrina.Silo.Hosting;
using Vetrina.Silo.Storage;

namespace Vetrina.Silo.Defaults;

/// <summary>One check's verdict and why.</summary>
public sealed record HealthCheckAnswer(string Status, string? Reason);

/// <summary>The answer of the health routes: <c>healthy</c> or <c>unhealthy</c>, with each check's reason.</summary>
public sealed record HealthAnswer(string Status, IReadOnlyDictionary<string, HealthCheckAnswer> Checks);

/// <summary><c>/health/live</c> answers while the process runs; <c>/health/ready</c> once the silo is an active member and storage answers.</summary>
public static class Health
{
    private const string ReadyTag = "ready";

    /// <summary>A check that does not answer within this is unhealthy: a hung database must not hang the probe.</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddVetrinaHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ClusterMembershipCheck>("cluster", tags: [ReadyTag], timeout: CheckTimeout)
            .AddCheck<StorageCheck>("storage", tags: [ReadyTag], timeout: CheckTimeout);
        return services;
    }

    public static IEndpointRouteBuilder MapVetrinaHealth(this IEndpointRouteBuilder routes)
    {
        var health = routes.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", Live)
            .WithName("checkLive").WithSummary("Liveness").WithDescription("Answers 200 while the process runs.");
        health.MapGet("/ready", ReadyAsync)
            .WithName("checkReady").WithSummary("Readiness")
            .WithDescription("200 once the silo is an active cluster member and storage answers; otherwise 503 with the reason of each check.")
            .Produces<HealthAnswer>(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static Ok<HealthAnswer> Live() =>
        TypedResults.Ok(new HealthAnswer("healthy", new Dictionary<string, HealthCheckAnswer>()));

    private static async Task<Results<Ok<HealthAnswer>, JsonHttpResult<HealthAnswer>>> ReadyAsync(HealthCheckService checks, CancellationToken cancellationToken)
    {
        var report = await checks.CheckHealthAsync(c => c.Tags.Contains(ReadyTag), cancellationToken);
        var answer = new HealthAnswer(
            Describe(report.Status),
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckAnswer(Describe(e.Value.Status), e.Value.Description)));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(answer)
            : TypedResults.Json(answer, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static string Describe(HealthStatus status) => status.ToString().ToLowerInvariant();
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

internal sealed partial class StorageCheck(VetrinaSettings settings, ILogger<StorageCheck> logger) : IHealthCheck
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "The storage health check failed.")]
    private static partial void StorageCheckFailed(ILogger logger, Exception exception);

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
            // The probe is anonymous: it names what went wrong, never where (connection errors carry hosts, ports
            // and roles); the whole exception goes to the log.
            StorageCheckFailed(logger, exception);
            var what = exception is Npgsql.PostgresException postgres ? $"{postgres.SqlState}: {postgres.MessageText}" : exception.GetType().Name;
            return HealthCheckResult.Unhealthy($"Storage does not answer: {what}");
        }
    }
}
