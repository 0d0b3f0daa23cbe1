namespace Vetrina.Grains.Collaborations;

/// <summary>The product's own rate before a change at <c>At</c>: what a rate lock may still pay after a lowering.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.rate-change")]
public sealed record RateChange(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int FromBps);

/// <summary>A collaboration plan as the products it covers know it.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.plan-rate")]
public sealed record PlanRate(
    [property: Id(0)] string PlanId,
    [property: Id(1)] int CommissionBps,
    [property: Id(2)] DateTimeOffset StartsAt,
    [property: Id(3)] DateTimeOffset? EndsAt,
    [property: Id(4)] DateTimeOffset? EndedAt,
    [property: Id(5)] HashSet<string>? CreatorIds)
{
    /// <summary>Open plans name no creators and cover everyone; targeted ones only the creators they name.</summary>
    public bool Covers(string creatorId) => CreatorIds is null || CreatorIds.Contains(creatorId);

    /// <summary>When the plan stops paying: its scheduled end or the moment the brand ended it, whichever came first.</summary>
    public DateTimeOffset? StopsAt => EndedAt is { } ended && (EndsAt is null || ended < EndsAt) ? ended : EndsAt;

    public bool ActiveAt(DateTimeOffset at) => StartsAt <= at && (StopsAt is null || at < StopsAt);

    /// <summary>The plan was ended by the brand before its schedule: a lowering the rate lock applies to.</summary>
    public bool EndedEarly => EndedAt is { } ended && ended > StartsAt && (EndsAt is null || ended < EndsAt);
}

/// <summary>The commission rate one line earns and why: <c>product</c>, <c>plan:{planId}</c> or <c>locked</c>.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.rate-decision")]
public sealed record RateDecision(
    [property: Id(0)] int CommissionBps,
    [property: Id(1)] string Source,
    [property: Id(2)] DateTimeOffset? LockedUntil = null)
{
    public const string ProductSource = "product";
    public const string LockedSource = "locked";

    public static string PlanSource(string planId) => "plan:" + planId;
}

/// <summary>
/// Everything a product's rate depends on, carried with its quote so that a checkout decides the rate of each line
/// without another call: the product's own rate, its recent lowerings, the plans that cover it and the brand's lock.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.commission-terms")]
public sealed record CommissionTerms(
    [property: Id(0)] int ProductBps,
    [property: Id(1)] IReadOnlyList<RateChange> ProductChanges,
    [property: Id(2)] IReadOnlyList<PlanRate> Plans,
    [property: Id(3)] int RateLockDays)
{
    /// <summary>
    /// The highest rate that applies to the creator at <paramref name="now"/>: the product's, every active open plan
    /// and every active targeted plan naming the creator. A creator that linked the product at
    /// <paramref name="linkedAt"/> also keeps, for <see cref="RateLockDays"/> after a lowering (a lower product rate or
    /// a plan ended early), the rate it had before: for such a creator the rate is the highest the product paid at any
    /// moment since it linked, within the lock. A raise applies at once; a creator that links after a lowering never
    /// had the old rate and gets the new one.
    /// </summary>
    public RateDecision For(string creatorId, DateTimeOffset? linkedAt, DateTimeOffset now)
    {
        var best = new RateDecision(ProductBps, RateDecision.ProductSource);
        foreach (var plan in Plans)
        {
            if (plan.Covers(creatorId) && plan.ActiveAt(now) && plan.CommissionBps > best.CommissionBps)
            {
                best = new RateDecision(plan.CommissionBps, RateDecision.PlanSource(plan.PlanId));
            }
        }
        if (linkedAt is not { } linked)
        {
            return best;
        }
        var lockSpan = TimeSpan.FromDays(RateLockDays);
        // The moments the lock still looks back to: since the creator linked, and no further than the lock.
        var since = linked > now - lockSpan ? linked : now - lockSpan;
        foreach (var change in ProductChanges)
        {
            if (change.At > since && change.At <= now && change.FromBps > best.CommissionBps)
            {
                best = new RateDecision(change.FromBps, RateDecision.LockedSource, change.At + lockSpan);
            }
        }
        foreach (var plan in Plans)
        {
            if (plan.EndedEarly && plan.Covers(creatorId) && plan.EndedAt!.Value > since && plan.EndedAt.Value <= now && plan.CommissionBps > best.CommissionBps)
            {
                // Kept no longer than the plan was scheduled to run anyway.
                var until = plan.EndedAt.Value + lockSpan;
                if (plan.EndsAt is { } scheduled && scheduled < until)
                {
                    until = scheduled;
                }
                if (now < until)
                {
                    best = new RateDecision(plan.CommissionBps, RateDecision.LockedSource, until);
                }
            }
        }
        return best;
    }

    /// <summary>What is worth keeping at <paramref name="now"/>: lowerings and ended plans the lock can no longer reach are dropped.</summary>
    public static bool StillMatters(RateChange change, DateTimeOffset now, int lockDays) => change.At + TimeSpan.FromDays(lockDays) > now;

    public static bool StillMatters(PlanRate plan, DateTimeOffset now, int lockDays) =>
        plan.StopsAt is not { } stops || stops + TimeSpan.FromDays(lockDays) > now;
}
