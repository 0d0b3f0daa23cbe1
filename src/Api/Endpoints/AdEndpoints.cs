using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Ads;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Reports;

namespace Vetrina.Api.Endpoints;

public sealed record CreateCampaignRequest(
    [property: Required, StringLength(CampaignGrain.MaxNameLength, MinimumLength = 1)] string? Name,
    [property: Required, MinLength(1), MaxLength(CampaignGrain.MaxProducts)] string[]? ProductIds,
    [property: Required, Range(1, CatalogRules.MaxPriceMinor)] long? BidMinor,
    [property: Required, StringLength(3, MinimumLength = 3)] string? Currency,
    [property: Required, Range(1, long.MaxValue)] long? DailyBudgetMinor,
    [property: Range(1, long.MaxValue)] long? TotalBudgetMinor = null,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null);

public sealed record UpdateCampaignRequest(
    CampaignStatus? Status = null,
    [property: Range(1, CatalogRules.MaxPriceMinor)] long? BidMinor = null,
    [property: Range(1, long.MaxValue)] long? DailyBudgetMinor = null);

/// <summary>A campaign: <c>status</c> is <c>scheduled</c>, <c>active</c>, <c>paused</c> or <c>ended</c>; spend is exact (today's from UTC midnight).</summary>
public sealed record CampaignResponse(
    string CampaignId,
    string BrandId,
    string Name,
    IReadOnlyList<string> ProductIds,
    long BidMinor,
    string Currency,
    long DailyBudgetMinor,
    long? TotalBudgetMinor,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    CampaignStatus Status,
    long SpentMinor,
    long SpentTodayMinor,
    long ChargedClicks,
    long Clicks,
    long Impressions,
    DateTimeOffset CreatedAt);

public sealed record PlacementRequest(
    [property: Required] string? ShopperId,
    [property: Required] AdSlot? Slot,
    [property: StringLength(AdEndpoints.MaxQueryLength)] string? Query = null,
    [property: Range(1, AdDesk.MaxPlacement)] int? Count = null);

public sealed record AdResponse(string AdId, string CampaignId, string ProductId, string Title, long PriceMinor, string Currency, long CostPerClickMinor);

public sealed record PlacementResponse(IReadOnlyList<AdResponse> Ads);

public sealed record AdClickRequest([property: Required] string? ShopperId);

public sealed record AdClickResponse(string CampaignId, string ProductId, long ChargedMinor, DateTimeOffset AttributedUntil);

/// <summary>
/// A campaign's results: impressions, clicks, charged clicks and spend since it started; orders, units and GMV of the
/// lines its clicks attributed, placed in [from, to); <c>roas</c> = GMV / spend (0 before any spend).
/// </summary>
public sealed record CampaignReportResponse(
    string CampaignId, DateTimeOffset From, DateTimeOffset To, long Impressions, long Clicks, long ChargedClicks, long SpentMinor,
    long Orders, long Units, long GmvMinor, double Roas);

/// <summary>Brand ads: campaigns (a brand's), placements and paid clicks (the platform's, for its shoppers).</summary>
public static class AdEndpoints
{
    public const int MaxQueryLength = 200;

    /// <summary>The longest period a campaign report sums (ten years of days).</summary>
    public const int MaxReportDays = 3660;

    public static IEndpointRouteBuilder MapAdEndpoints(this IEndpointRouteBuilder routes)
    {
        var brands = routes.MapGroup("/api/brands").WithTags("Ads").WithCallerLimits();
        brands.MapPost("/{brandId}/campaigns", CreateCampaign).RequireAuthorization(Access.BrandOwner)
            .WithSummary("Create an ad campaign").WithName("createCampaign")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        var campaigns = routes.MapGroup("/api/campaigns").WithTags("Ads").WithCallerLimits();
        campaigns.MapPatch("/{campaignId}", UpdateCampaign).RequireAuthorization(Access.AnyBrand)
            .WithSummary("Pause, resume or change a campaign's bid or daily budget").WithName("updateCampaign")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        campaigns.MapGet("/{campaignId}", GetCampaign).RequireAuthorization(Access.PlatformOrAnyBrand)
            .WithSummary("A campaign with its spend").WithName("getCampaign")
            .ProducesProblem(StatusCodes.Status404NotFound);
        campaigns.MapGet("/{campaignId}/report", GetCampaignReport).RequireAuthorization(Access.AnyBrand)
            .WithSummary("A campaign's impressions, clicks, spend, orders and ROAS").WithName("getCampaignReport")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        var ads = routes.MapGroup("/api/ads").WithTags("Ads").WithCallerLimits();
        ads.MapPost("/placements", Place).RequireAuthorization(Access.Platform)
            .WithSummary("Ads for a slot: a second-price auction among eligible campaigns").WithName("placeAds")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ads.MapPost("/{adId}/clicks", Click).RequireAuthorization(Access.Platform)
            .WithSummary("A shopper's click on a placed ad: charged once per 24 h within the budgets").WithName("clickAd")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return routes;
    }

    private static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateCampaign(string brandId, CreateCampaignRequest body, IGrainFactory grains)
    {
        var missing = Input.TextError(body.Name, "name", CampaignGrain.MaxNameLength) ?? Input.RequiredError(body.BidMinor, "bidMinor")
            ?? Input.TextError(body.Currency, "currency", 3) ?? Input.RequiredError(body.DailyBudgetMinor, "dailyBudgetMinor")
            ?? (body.ProductIds is null ? "'productIds' is required." : null);
        if (missing is not null)
        {
            return Problems.Malformed(missing);
        }
        var draft = new CampaignDraft(body.Name!, body.ProductIds!, body.BidMinor!.Value, body.Currency!, body.DailyBudgetMinor!.Value, body.TotalBudgetMinor,
            body.StartsAt, body.EndsAt);
        var campaignId = Identifiers.NewRandom(IdPrefixes.Campaign);
        var outcome = await grains.GetGrain<ICampaignGrain>(campaignId).CreateAsync(brandId, draft);
        return outcome.Value is { } campaign
            ? TypedResults.Created($"/api/campaigns/{campaignId}", Response(campaign))
            : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> UpdateCampaign(string campaignId, UpdateCampaignRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsCampaignId(campaignId))
        {
            return Problems.NotFound($"Campaign '{campaignId}'");
        }
        var outcome = await grains.GetGrain<ICampaignGrain>(campaignId).UpdateAsync(user.BrandId()!, new CampaignChanges(body.Status, body.BidMinor, body.DailyBudgetMinor));
        return outcome.Value is { } campaign ? TypedResults.Ok(Response(campaign)) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetCampaign(string campaignId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Input.IsCampaignId(campaignId))
        {
            return Problems.NotFound($"Campaign '{campaignId}'");
        }
        // Another brand's campaign is not found: campaign ids say nothing about other brands.
        var outcome = await grains.GetGrain<ICampaignGrain>(campaignId).GetAsync(user.IsPlatform() ? null : user.BrandId());
        return outcome.Value is { } campaign ? TypedResults.Ok(Response(campaign)) : Problems.From(outcome.Failure!);
    }

    private static async Task<Results<Ok<CampaignReportResponse>, ProblemHttpResult>> GetCampaignReport(
        string campaignId, string? from, string? to, ClaimsPrincipal user, IGrainFactory grains, ReportReader reader, CommerceClock clock, CancellationToken cancellationToken)
    {
        if (!ReportEndpoints.TryInstant(from, out var start) || !ReportEndpoints.TryInstant(to, out var end))
        {
            return Problems.Malformed("'from' and 'to' must be ISO 8601 instants, for example 2026-12-01T00:00:00Z.");
        }
        if (!Input.IsCampaignId(campaignId) || (await grains.GetGrain<ICampaignGrain>(campaignId).GetAsync(user.BrandId())).Value is not { } campaign)
        {
            return Problems.NotFound($"Campaign '{campaignId}'");
        }
        var now = clock.UtcNow;
        var (period, error) = ReportPeriod.Of(ReportInterval.Day, start ?? campaign.Terms.CreatedAt, end ?? now, now, MaxReportDays);
        if (period is null)
        {
            return Problems.Invalid(error!);
        }
        var sales = await reader.ReadAsync(campaignId, period, campaign.Terms.Currency, new Dictionary<string, (string, int)>(), cancellationToken);
        var t = sales.Totals;
        return TypedResults.Ok(new CampaignReportResponse(campaignId, period.From, period.Until, campaign.Impressions, campaign.Clicks, campaign.ChargedClicks,
            campaign.SpentMinor, t.Orders, t.Units, t.GmvMinor, campaign.SpentMinor > 0 ? (double)t.GmvMinor / campaign.SpentMinor : 0));
    }

    private static Results<Ok<PlacementResponse>, ProblemHttpResult> Place(PlacementRequest body, AdDesk desk)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        if (body.Slot is not { } slot || !Enum.IsDefined(slot))
        {
            return Problems.Malformed("'slot' must be 'feed', 'search' or 'live'.");
        }
        if (body.Count is < 1 or > AdDesk.MaxPlacement)
        {
            return Problems.Invalid($"count must be between 1 and {AdDesk.MaxPlacement}.");
        }
        if (slot == AdSlot.Search && string.IsNullOrWhiteSpace(body.Query))
        {
            return Problems.Invalid("A search placement needs the shopper's 'query'.");
        }
        if (body.Query is { Length: > MaxQueryLength })
        {
            return Problems.Malformed($"'query' has at most {MaxQueryLength} characters.");
        }
        var ads = desk.Place(body.ShopperId!, slot, body.Query?.Trim(), body.Count ?? 1);
        return TypedResults.Ok(new PlacementResponse(ads.Select(a => new AdResponse(a.AdId, a.CampaignId, a.ProductId, a.Title, a.PriceMinor, a.Currency, a.CostPerClickMinor)).ToArray()));
    }

    private static async Task<Results<Created<AdClickResponse>, ProblemHttpResult>> Click(string adId, AdClickRequest body, AdDesk desk)
    {
        if (Input.TextError(body.ShopperId, "shopperId", Input.MaxShopperIdLength) is { } error)
        {
            return Problems.Malformed(error);
        }
        var outcome = await desk.ClickAsync(adId, body.ShopperId!);
        return outcome.Value is { } receipt
            ? TypedResults.Created($"/api/campaigns/{receipt.CampaignId}", new AdClickResponse(receipt.CampaignId, receipt.ProductId, receipt.ChargedMinor, receipt.AttributedUntil))
            : Problems.From(outcome.Failure!);
    }

    private static CampaignResponse Response(CampaignView c)
    {
        var t = c.Terms;
        return new CampaignResponse(t.CampaignId, t.BrandId, t.Name, t.ProductIds, t.BidMinor, t.Currency, t.DailyBudgetMinor, t.TotalBudgetMinor,
            t.StartsAt, t.EndsAt, c.Status, c.SpentMinor, c.SpentTodayMinor, c.ChargedClicks, c.Clicks, c.Impressions, t.CreatedAt);
    }
}
