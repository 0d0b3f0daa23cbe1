using System.ComponentModel.DataAnnotations;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Api.Endpoints;

// The attributes describe the bounds in the OpenAPI document; the handlers and grains enforce them.
public sealed record CreateCreatorRequest(
    [property: Required, StringLength(CreatorEndpoints.MaxHandleLength, MinimumLength = 1)] string? Handle,
    [property: Required] long? Followers,
    [property: StringLength(Input.MaxShopperIdLength, MinimumLength = 1)] string? ShopperId = null);

public sealed record CreatorCreatedResponse(string CreatorId, string ApiKey, string Handle, long Followers, string? ShopperId);

public sealed record CreateLinkRequest([property: Required, RegularExpression(Input.ProductIdPattern)] string? ProductId);

public sealed record LinkCreatedResponse(string Code, string ProductId, string CreatorId, string Url, bool Active);

public sealed record EarningsResponse(IReadOnlyList<CommissionBalance> Balances);

public static class CreatorEndpoints
{
    public const int MaxHandleLength = 100;

    public static IEndpointRouteBuilder MapCreatorEndpoints(this IEndpointRouteBuilder routes)
    {
        var creators = routes.MapGroup("/api/creators").WithTags("Creators").WithCallerLimits();
        creators.MapPost("/", CreateCreator).RequireAuthorization(Access.Platform)
            .WithName("createCreator").WithSummary("Register a creator; answers its key, once")
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        creators.MapPost("/{creatorId}/links", CreateLink).RequireAuthorization(Access.CreatorOwner)
            .WithName("createLink").WithSummary("A shareable link of the creator to a product")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        creators.MapGet("/{creatorId}/earnings", GetEarnings).RequireAuthorization(Access.PlatformOrCreatorOwner)
            .WithName("getCreatorEarnings").WithSummary("The creator's commission balances, per currency")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<Results<Created<CreatorCreatedResponse>, ProblemHttpResult>> CreateCreator(CreateCreatorRequest body, IGrainFactory grains)
    {
        var error = Input.TextError(body.Handle, "handle", MaxHandleLength)
            ?? Input.RequiredError(body.Followers, "followers")
            ?? Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength, required: false);
        if (error is not null)
        {
            return Problems.Malformed(error);
        }
        var creatorId = Identifiers.NewRandom(IdPrefixes.Creator);
        var apiKey = ApiKeys.Issue(creatorId);
        var outcome = await grains.GetGrain<ICreatorGrain>(creatorId)
            .RegisterAsync(new CreatorRegistration(body.Handle!, body.Followers!.Value, body.ShopperId, ApiKeys.Hash(apiKey)));
        if (outcome.Value is not { } creator)
        {
            return Problems.From(outcome.Failure!);
        }
        return TypedResults.Created($"/api/creators/{creatorId}",
            new CreatorCreatedResponse(creatorId, apiKey, creator.Handle, creator.Followers, creator.ShopperId));
    }

    private static async Task<Results<Created<LinkCreatedResponse>, ProblemHttpResult>> CreateLink(
        string creatorId, CreateLinkRequest body, HttpRequest request, IGrainFactory grains)
    {
        if (body.ProductId is null)
        {
            return Problems.Malformed("'productId' is required.");
        }
        if (!Input.IsProductId(body.ProductId))
        {
            return Problems.NotFound($"Product '{body.ProductId}'");
        }
        // Read before the grain call: a call that outlives the request timeout must not touch a finished request.
        var links = $"{request.Scheme}://{request.Host}/api/links/";
        var outcome = await grains.GetGrain<ICreatorGrain>(creatorId).CreateLinkAsync(body.ProductId);
        if (outcome.Value is not { } link)
        {
            return Problems.From(outcome.Failure!);
        }
        return TypedResults.Created($"/api/links/{link.Code}", new LinkCreatedResponse(link.Code, link.ProductId, link.CreatorId, links + link.Code, link.Active));
    }

    private static async Task<Results<Ok<EarningsResponse>, ProblemHttpResult>> GetEarnings(string creatorId, IGrainFactory grains)
    {
        // The platform key may name any id here; one that is not a creator id never reaches a grain (a blank one cannot).
        if (!Input.IsCreatorId(creatorId))
        {
            return Problems.NotFound($"Creator '{creatorId}'");
        }
        var creator = grains.GetGrain<ICreatorGrain>(creatorId);
        if (await creator.GetAsync() is null)
        {
            return Problems.NotFound($"Creator '{creatorId}'");
        }
        return TypedResults.Ok(new EarningsResponse(await creator.GetEarningsAsync()));
    }
}
