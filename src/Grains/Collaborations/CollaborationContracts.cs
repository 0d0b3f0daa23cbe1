using Vetrina.Grains.Common;

namespace Vetrina.Grains.Collaborations;

public enum PlanKind
{
    /// <summary>Every creator earns the plan's rate on its products.</summary>
    Open = 0,

    /// <summary>Only the creators the plan names.</summary>
    Targeted = 1,
}

public enum PlanStatus
{
    Scheduled = 0,
    Active = 1,
    Ended = 2,
}

/// <summary>A brand's collaboration plan as it asks for it.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.plan-draft")]
public sealed record PlanDraft(
    [property: Id(0)] PlanKind Kind,
    [property: Id(1)] IReadOnlyList<string> ProductIds,
    [property: Id(2)] int CommissionBps,
    [property: Id(3)] IReadOnlyList<string>? CreatorIds,
    [property: Id(4)] DateTimeOffset? StartsAt,
    [property: Id(5)] DateTimeOffset? EndsAt);

[GenerateSerializer, Immutable, Alias("vetrina.plan-view")]
public sealed record PlanView(
    [property: Id(0)] string PlanId,
    [property: Id(1)] string BrandId,
    [property: Id(2)] PlanKind Kind,
    [property: Id(3)] IReadOnlyList<string> ProductIds,
    [property: Id(4)] int CommissionBps,
    [property: Id(5)] IReadOnlyList<string>? CreatorIds,
    [property: Id(6)] DateTimeOffset StartsAt,
    [property: Id(7)] DateTimeOffset? EndsAt,
    [property: Id(8)] DateTimeOffset? EndedAt,
    [property: Id(9)] DateTimeOffset CreatedAt,
    [property: Id(10)] PlanStatus Status = PlanStatus.Scheduled)
{
    public PlanRate Rate() => new(PlanId, CommissionBps, StartsAt, EndsAt, EndedAt, Kind == PlanKind.Targeted ? new HashSet<string>(CreatorIds ?? [], StringComparer.Ordinal) : null);

    public PlanOffer Offer() => new(PlanId, ProductIds, Rate().StopsAt, StartsAt);

    /// <summary>The view with its status at <paramref name="now"/>.</summary>
    public PlanView At(DateTimeOffset now) => this with
    {
        Status = now < StartsAt ? PlanStatus.Scheduled : Rate().ActiveAt(now) ? PlanStatus.Active : PlanStatus.Ended,
    };
}

/// <summary>Which products a plan offers to a creator, and until when: what a creator's offers start from.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.plan-offer")]
public sealed record PlanOffer(
    [property: Id(0)] string PlanId,
    [property: Id(1)] IReadOnlyList<string> ProductIds,
    [property: Id(2)] DateTimeOffset? StopsAt,
    [property: Id(3)] DateTimeOffset StartsAt)
{
    public bool ActiveAt(DateTimeOffset at) => StartsAt <= at && (StopsAt is null || at < StopsAt);
}

/// <summary>What a creator would earn on a product now (<c>GET /api/creators/{id}/offers</c>).</summary>
[GenerateSerializer, Immutable, Alias("vetrina.offer")]
public sealed record Offer(
    [property: Id(0)] string ProductId,
    [property: Id(1)] int CommissionBps,
    [property: Id(2)] string Source,
    [property: Id(3)] DateTimeOffset? LockedUntil);

/// <summary>
/// One collaboration plan. It is the plan's authority and hands it to whoever decides by it: the products it covers
/// (which carry it in their quotes, so a checkout needs no further call), its brand's list, and for offers the named
/// creators (targeted) or the directory of open plans. A reminder armed before the plan is written hands it over
/// again until every hand-over has landed, so a silo dying in between loses nothing.
/// </summary>
[Alias("vetrina.collaboration-plan")]
public interface ICollaborationPlanGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<Outcome<PlanView>> CreateAsync(string brandId, PlanDraft draft);

    /// <summary>The plan, for its own brand only (another brand's plan is not found).</summary>
    [AlwaysInterleave, Alias("get")]
    Task<Outcome<PlanView>> GetAsync(string actingBrandId);

    /// <summary>Ends the plan now (a plan already over answers as it is).</summary>
    [Alias("end")]
    Task<Outcome<PlanView>> EndAsync(string actingBrandId);
}

/// <summary>The open plans of every brand, for creators' offers (one grain; plans are few and small).</summary>
[Alias("vetrina.open-plans")]
public interface IOpenPlansGrain : IGrainWithStringKey
{
    public const string Key = "all";

    /// <summary>Adds or replaces the plan's offer.</summary>
    [Alias("put")]
    Task PutAsync(PlanOffer offer);

    [AlwaysInterleave, Alias("active")]
    Task<IReadOnlyList<PlanOffer>> ActiveAsync();
}
