using Vetrina.Grains.Common;

namespace Vetrina.Grains.Ads;

public enum CampaignStatus
{
    Active = 0,
    Paused = 1,
    Scheduled = 2,
    Ended = 3,
}

public enum AdSlot
{
    Feed = 0,
    Search = 1,
    Live = 2,
}

[GenerateSerializer, Immutable, Alias("vetrina.campaign-draft")]
public sealed record CampaignDraft(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<string> ProductIds,
    [property: Id(2)] long BidMinor,
    [property: Id(3)] string Currency,
    [property: Id(4)] long DailyBudgetMinor,
    [property: Id(5)] long? TotalBudgetMinor,
    [property: Id(6)] DateTimeOffset? StartsAt,
    [property: Id(7)] DateTimeOffset? EndsAt);

[GenerateSerializer, Immutable, Alias("vetrina.campaign-changes")]
public sealed record CampaignChanges(
    [property: Id(0)] CampaignStatus? Status,
    [property: Id(1)] long? BidMinor,
    [property: Id(2)] long? DailyBudgetMinor);

/// <summary>What the placement index needs of a campaign (the rest, spend, comes from the spend store).</summary>
[GenerateSerializer, Immutable, Alias("vetrina.campaign-terms")]
public sealed record CampaignTerms(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] string Name,
    [property: Id(3)] IReadOnlyList<string> ProductIds,
    [property: Id(4)] long BidMinor,
    [property: Id(5)] string Currency,
    [property: Id(6)] long DailyBudgetMinor,
    [property: Id(7)] long? TotalBudgetMinor,
    [property: Id(8)] DateTimeOffset StartsAt,
    [property: Id(9)] DateTimeOffset? EndsAt,
    [property: Id(10)] bool Paused,
    [property: Id(11)] DateTimeOffset CreatedAt)
{
    public CampaignStatus StatusAt(DateTimeOffset now) =>
        EndsAt is { } ends && now >= ends ? CampaignStatus.Ended
        : now < StartsAt ? CampaignStatus.Scheduled
        : Paused ? CampaignStatus.Paused
        : CampaignStatus.Active;
}

/// <summary>A campaign as its brand reads it: terms, status now, spend and counts.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.campaign-view")]
public sealed record CampaignView(
    [property: Id(0)] CampaignTerms Terms,
    [property: Id(1)] CampaignStatus Status,
    [property: Id(2)] long SpentMinor,
    [property: Id(3)] long SpentTodayMinor,
    [property: Id(4)] long ChargedClicks,
    [property: Id(5)] long Clicks,
    [property: Id(6)] long Impressions);

/// <summary>One ad a placement shows: <c>AdId</c> is a signed token of the campaign, product and cost per click it quoted.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ad")]
public sealed record Ad(
    [property: Id(0)] string AdId,
    [property: Id(1)] string CampaignId,
    [property: Id(2)] string ProductId,
    [property: Id(3)] string Title,
    [property: Id(4)] long PriceMinor,
    [property: Id(5)] string Currency,
    [property: Id(6)] long CostPerClickMinor);

/// <summary>Impressions and clicks one silo tallied for a campaign since its last hand-over.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.ad-tally")]
public sealed record AdTally(
    [property: Id(0)] long Impressions,
    [property: Id(1)] long Clicks);

/// <summary>
/// A brand's campaign: its terms (grain state) and the counts silos hand it. Its spend is a row of the spend store,
/// which paid clicks charge directly; the grain opens that row, changes the budgets in it and reads it.
/// </summary>
[Alias("vetrina.campaign")]
public interface ICampaignGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<Outcome<CampaignView>> CreateAsync(string brandId, CampaignDraft draft);

    /// <summary>The campaign for its brand (null caller: the platform); another brand's is not found.</summary>
    [AlwaysInterleave, Alias("get")]
    Task<Outcome<CampaignView>> GetAsync(string? actingBrandId);

    [Alias("update")]
    Task<Outcome<CampaignView>> UpdateAsync(string actingBrandId, CampaignChanges changes);

    [Alias("add-tally")]
    Task AddTallyAsync(AdTally tally);
}

/// <summary>
/// One of <see cref="Shards"/> parts of the directory of campaigns that every silo's placement index reads (a campaign
/// lives in the shard of its id's hash): the index reads a few grains per refresh, never one per campaign.
/// </summary>
[Alias("vetrina.campaign-shard")]
public interface ICampaignShardGrain : IGrainWithIntegerKey
{
    public const int Shards = 32;

    public static long ShardOf(string campaignId) => (long)(UniqueCounter.Hash(campaignId) % Shards);

    [Alias("put")]
    Task PutAsync(CampaignTerms terms);

    [AlwaysInterleave, Alias("all")]
    Task<IReadOnlyList<CampaignTerms>> AllAsync();
}
