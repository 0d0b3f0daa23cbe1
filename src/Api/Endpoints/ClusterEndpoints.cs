using Orleans.Runtime;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;

namespace Vetrina.Api.Endpoints;

public sealed record SiloReport(string Address, string Status, int VetrinaActivations);

public sealed record ClusterReport(IReadOnlyList<SiloReport> Silos);

/// <summary>For operators: the silos of the cluster and how many Vetrina grains each one hosts.</summary>
public static class ClusterEndpoints
{
    private const string VetrinaGrainPrefix = "Vetrina.";

    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/cluster").WithTags("Operations").WithCallerLimits()
            .MapGet("/", GetCluster).RequireAuthorization(Access.Platform);
        return routes;
    }

    private static async Task<Ok<ClusterReport>> GetCluster(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true);
        var statistics = await management.GetSimpleGrainStatistics([.. hosts.Keys]);
        var silos = hosts
            .Select(host => new SiloReport(
                host.Key.ToString(),
                host.Value.ToString().ToLowerInvariant(),
                statistics.Where(s => s.SiloAddress.Equals(host.Key) && s.GrainType.StartsWith(VetrinaGrainPrefix, StringComparison.Ordinal))
                    .Sum(s => s.ActivationCount)))
            .OrderBy(s => s.Address, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new ClusterReport(silos));
    }
}
