using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;

namespace Vetrina.Grains.Links;

[GenerateSerializer, Immutable, Alias("vetrina.link-definition")]
public sealed record LinkDefinition(
    [property: Id(0)] string CreatorId,
    [property: Id(1)] string? CreatorShopperId,
    [property: Id(2)] string ProductId,
    [property: Id(3)] string BrandId,
    [property: Id(4)] int AttributionWindowHours,
    [property: Id(5)] DateTimeOffset? LinkedAt = null);

[GenerateSerializer, Immutable, Alias("vetrina.link-view")]
public sealed record LinkView(
    [property: Id(0)] string Code,
    [property: Id(1)] string ProductId,
    [property: Id(2)] string CreatorId,
    [property: Id(3)] bool Active);

[GenerateSerializer, Immutable, Alias("vetrina.link-stats")]
public sealed record LinkStats(
    [property: Id(0)] long Clicks,
    [property: Id(1)] long UniqueShoppers,
    [property: Id(2)] long Orders,
    [property: Id(3)] long Units,
    [property: Id(4)] long GmvMinor,
    [property: Id(5)] long CommissionMinor);

/// <summary>What a shopper's click on a link means for attribution: who gets the credit, and until when.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.click")]
public sealed record Click(
    [property: Id(0)] string Code,
    [property: Id(1)] string ProductId,
    [property: Id(2)] string CreatorId,
    [property: Id(3)] string? CreatorShopperId,
    [property: Id(4)] DateTimeOffset ClickedAt,
    [property: Id(5)] DateTimeOffset AttributedUntil,
    [property: Id(6)] DateTimeOffset? LinkedAt = null,
    [property: Id(7)] string? CampaignId = null)
{
    /// <summary>A click on a brand's ad (no link, no creator): the lines it attributes pay no commission.</summary>
    public bool IsAd => CampaignId is not null;

    /// <summary>A click pays its creator when it is still inside the window and the shopper is not the creator.</summary>
    public bool Attributes(string shopperId, DateTimeOffset at) =>
        at <= AttributedUntil && !string.Equals(CreatorShopperId, shopperId, StringComparison.Ordinal);
}

/// <summary>A change to a link's sales figures caused by one order event; applied at most once.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.link-sale-entry")]
public sealed record LinkSaleEntry(
    [property: Id(0)] string OperationId,
    [property: Id(1)] long OrdersDelta,
    [property: Id(2)] long UnitsDelta,
    [property: Id(3)] long GmvDelta,
    [property: Id(4)] long CommissionDelta);

[Alias("vetrina.link")]
public interface ILinkGrain : IEffectTarget
{
    [Alias("create")]
    Task<Outcome<LinkView>> CreateAsync(LinkDefinition definition);

    [AlwaysInterleave, Alias("get")]
    Task<LinkView?> GetAsync();

    /// <summary>Stats for the platform (null caller) or the link's own creator.</summary>
    [AlwaysInterleave, Alias("stats")]
    Task<Outcome<LinkStats>> GetStatsAsync(string? actingCreatorId);

    /// <summary>The link's terms (they never change), for the click tallies of the silos.</summary>
    [AlwaysInterleave, Alias("definition")]
    Task<LinkDefinition?> GetDefinitionAsync();

    /// <summary>Adds clicks a silo tallied (see <see cref="ClickTally"/>).</summary>
    [Alias("add-clicks")]
    Task AddClicksAsync(ClickBatch batch);

    [Alias("apply")]
    Task ApplyAsync(LinkSaleEntry entry);

    /// <summary>Adds a journal batch's sales through this link, once (see <see cref="ExactlyOnce.JournalWatermarks"/>).</summary>
    [Alias("project")]
    Task ProjectAsync(Journal.JournalPosition position, LinkSaleEntry entry);
}
