using System.ComponentModel.DataAnnotations;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Collaborations;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Api.Endpoints;

public sealed record CreatePlanRequest(
    [property: Required] PlanKind? Kind,
    [property: Required, MinLength(1), MaxLength(CollaborationPlanGrain.MaxProducts)] string[]? ProductIds,
    [property: Required, Range(0, Money.MaxBps)] int? CommissionBps,
    [property: MaxLength(CollaborationPlanGrain.MaxCreators)] string[]? CreatorIds = null,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null);

/// <summary>A plan: <c>status</c> is <c>scheduled</c> before <c>startsAt</c>, <c>active</c>, then <c>ended</c> at <c>endsAt</c> or when the brand ended it (<c>endedAt</c>).</summary>
public sealed record PlanResponse(
    string PlanId,
    string BrandId,
    PlanKind Kind,
    IReadOnlyList<string> ProductIds,
    int CommissionBps,
    IReadOnlyList<string>? CreatorIds,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    DateTimeOffset? EndedAt,
    DateTimeOffset CreatedAt,
    PlanStatus Status);

/// <summary>What the creator would earn on a product now; <c>source</c> is <c>product</c>, <c>plan:{planId}</c> or <c>locked</c> (then until <c>lockedUntil</c>).</summary>
public sealed record OfferResponse(string ProductId, int CommissionBps, string Source, DateTimeOffset? LockedUntil);

/// <summary>Collaboration plans (a brand's) and offers (a creator's).</summary>
public static class CollaborationEndpoints
{
    /// <summary>Offers listed at most: the best-paid first.</summary>
    public const int MaxOffers = 1_000;

    public static IEndpointRouteBuilder MapCollaborationEndpoints(this IEndpointRouteBuilder routes)
    {
        var brands = routes.MapGroup("/api/brands").WithTags("Collaborations").WithCallerLimits();
        brands.MapPost("/{brandId}/collaborations", CreatePlan).RequireAuthorization(Access.BrandOwner)
            .WithSummary("Create a collaboration plan").WithName("createCollaborationPlan")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        brands.MapGet("/{brandId}/collaborations", ListPlans).RequireAuthorization(Access.BrandOwner)
            .WithSummary("List the brand's collaboration plans").WithName("listCollaborationPlans");

        var plans = routes.MapGroup("/api/collaborations").WithTags("Collaborations").WithCallerLimits();
        plans.MapDelete("/{planId}", EndPlan).RequireAuthorization(Access.AnyBrand)
            .WithSummary("End a collaboration plan now").WithName("endCollaborationPlan")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        var creators = routes.MapGroup("/api/creators").WithTags("Collaborations").WithCallerLimits();
        creators.MapGet("/{creatorId}/offers", GetOffers).RequireAuthorization(Access.CreatorOwner)
            .WithSummary("What the creator would earn on each product it may promote, now").WithName("getCreatorOffers");
        return routes;
    }

    private static async Task<Results<Created<PlanResponse>, ProblemHttpResult>> CreatePlan(string brandId, CreatePlanRequest body, IGrainFactory grains)
    {
        var missing = Input.RequiredError(body.Kind, "kind") ?? Input.RequiredError(body.CommissionBps, "commissionBps")
            ?? (body.ProductIds is null ? "'productIds' is required." : null);
        if (missing is not null)
        {
            return Problems.Malformed(missing);
        }
        var draft = new PlanDraft(body.Kind!.Value, body.ProductIds!, body.CommissionBps!.Value, body.CreatorIds, body.StartsAt, body.EndsAt);
        var planId = Identifiers.NewRandom(IdPrefixes.CollaborationPlan);
        var outcome = await grains.GetGrain<ICollaborationPlanGrain>(planId).CreateAsync(brandId, draft);
        return outcome.Value is { } plan
            ? TypedResults.Created($"/api/brands/{brandId}/collaborations", Response(plan))
            : Problems.From(outcome.Failure!);
    }

    private static async Task<Ok<PlanResponse[]>> ListPlans(string brandId, IGrainFactory grains)
    {
        var ids = await grains.GetGrain<Grains.Brands.IBrandGrain>(brandId).PlanIdsAsync();
        var plans = await Task.WhenAll(ids.Select(id => grains.GetGrain<ICollaborationPlanGrain>(id).GetAsync(brandId)));
        return TypedResults.Ok(plans.Select(p => p.Value).OfType<PlanView>().OrderByDescending(p => p.CreatedAt).Select(Response).ToArray());
    }

    private static async Task<Results<Ok<PlanResponse>, ProblemHttpResult>> EndPlan(string planId, HttpContext http, IGrainFactory grains)
    {
        // Another brand's plan is not found: plan ids say nothing about other brands.
        if (!Input.IsPlanId(planId))
        {
            return Problems.NotFound($"Plan '{planId}'");
        }
        var outcome = await grains.GetGrain<ICollaborationPlanGrain>(planId).EndAsync(http.User.BrandId()!);
        return outcome.Value is { } plan ? TypedResults.Ok(Response(plan)) : Problems.From(outcome.Failure!);
    }

    private static async Task<Ok<OfferResponse[]>> GetOffers(string creatorId, IGrainFactory grains)
    {
        var offers = await grains.GetGrain<ICreatorGrain>(creatorId).GetOffersAsync(MaxOffers);
        return TypedResults.Ok(offers.Select(o => new OfferResponse(o.ProductId, o.CommissionBps, o.Source, o.LockedUntil)).ToArray());
    }

    private static PlanResponse Response(PlanView p) =>
        new(p.PlanId, p.BrandId, p.Kind, p.ProductIds, p.CommissionBps, p.CreatorIds, p.StartsAt, p.EndsAt, p.EndedAt, p.CreatedAt, p.Status);
}
