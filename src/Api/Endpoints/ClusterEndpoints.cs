using Orleans.Runtime;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;

namespace Vetrina.Api.Endpoints;

/// <summary>A silo: its address, status, and the Vetrina grains it hosts, in all and by grain class (e.g. <c>FlashDealGrain</c>).</summary>
public sealed record SiloReport(string Address, string Status, int VetrinaActivations, IReadOnlyDictionary<string, int> ActivationsByGrain);

public sealed record ClusterReport(IReadOnlyList<SiloReport> Silos);

/// <summary>For operators: the silos of the cluster and how many Vetrina grains each one hosts.</summary>
public static class ClusterEndpoints
{
    private const string VetrinaGrainPrefix = "Vetrina.";

    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/cluster").WithTags("Operations").WithCallerLimits()
            .MapGet("/", GetCluster).RequireAuthorization(Access.Platform)
            .WithName("getCluster").WithSummary("The silos of the cluster and the Vetrina grains each hosts");
        return routes;
    }

    private static async Task<Ok<ClusterReport>> GetCluster(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true);
        var statistics = await management.GetSimpleGrainStatistics([.. hosts.Keys]);
        var silos = hosts
            .Select(host =>
            {
                var hosted = statistics.Where(s => s.SiloAddress.Equals(host.Key) && s.GrainType.StartsWith(VetrinaGrainPrefix, StringComparison.Ordinal)).ToList();
                return new SiloReport(
                    host.Key.ToString(),
                    host.Value.ToString().ToLowerInvariant(),
                    hosted.Sum(s => s.ActivationCount),
                    hosted.GroupBy(s => GrainClass(s.GrainType), StringComparer.Ordinal)
                        .ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount), StringComparer.Ordinal));
            })
            .OrderBy(s => s.Address, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new ClusterReport(silos));
    }

    /// <summary>The class name of a statistics grain type ("Vetrina.Grains.Deals.FlashDealGrain,Vetrina.Grains" → "FlashDealGrain").</summary>
    private static string GrainClass(string grainType)
    {
        var name = grainType.Split(',')[0];
        return name[(name.LastIndexOf('.') + 1)..];
    }
}
