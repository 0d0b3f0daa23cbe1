using Microsoft.Extensions.Logging;
using Vetrina.Grains.Brands;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Grains.Collaborations;

[GenerateSerializer, Alias("vetrina.plan-state")]
public sealed class PlanState
{
    [Id(0)] public PlanView? Plan { get; set; }

    /// <summary>Every hand-over of the plan as it is now has landed.</summary>
    [Id(1)] public bool HandedOver { get; set; }
}

public sealed class CollaborationPlanGrain(
    [PersistentState("plan", StateStorage.Name)] IPersistentState<PlanState> state,
    CommerceClock clock,
    ILogger<CollaborationPlanGrain> logger) : Grain, ICollaborationPlanGrain, IRemindable
{
    public const int MaxProducts = 100;
    public const int MaxCreators = 1_000;
    private const string HandOverReminder = "hand-over";
    private static readonly TimeSpan HandOverRetry = TimeSpan.FromMinutes(1);

    private string PlanId => this.GetPrimaryKeyString();

    public async Task<Outcome<PlanView>> CreateAsync(string brandId, PlanDraft draft)
    {
        if (state.State.Plan is not null)
        {
            return Failure.Conflict($"Plan '{PlanId}' already exists.");
        }
        var now = clock.UtcNow;
        if (DraftError(draft, now) is { } error)
        {
            return Failure.Invalid(error);
        }
        var productIds = draft.ProductIds.Distinct(StringComparer.Ordinal).ToArray();
        var quotes = await Task.WhenAll(productIds.Select(id => GrainFactory.GetGrain<IProductGrain>(id).QuoteAsync()));
        if (productIds.Where((_, i) => quotes[i]?.BrandId != brandId).FirstOrDefault() is { } foreign)
        {
            // Unknown and another brand's product answer alike: a plan says nothing about other brands' catalogs.
            return Failure.Invalid($"Product '{foreign}' is not a product of this brand.");
        }
        var creatorIds = draft.Kind == PlanKind.Targeted ? draft.CreatorIds!.Distinct(StringComparer.Ordinal).ToArray() : null;
        if (creatorIds is not null)
        {
            var creators = await Task.WhenAll(creatorIds.Select(id => GrainFactory.GetGrain<ICreatorGrain>(id).GetAsync()));
            if (creatorIds.Where((_, i) => creators[i] is null).FirstOrDefault() is { } unknown)
            {
                return Failure.Invalid($"Creator '{unknown}' does not exist.");
            }
        }
        state.State.Plan = new PlanView(PlanId, brandId, draft.Kind, productIds, draft.CommissionBps, creatorIds,
            draft.StartsAt ?? now, draft.EndsAt, EndedAt: null, CreatedAt: now);
        state.State.HandedOver = false;
        await state.SaveAsync(this, () => this.RegisterOrUpdateReminder(HandOverReminder, HandOverRetry, HandOverRetry));
        await HandOverAsync();
        return Outcome<PlanView>.Ok(state.State.Plan.At(now));
    }

    public Task<Outcome<PlanView>> GetAsync(string actingBrandId) =>
        Task.FromResult(state.State.Plan is { } plan && plan.BrandId == actingBrandId
            ? Outcome<PlanView>.Ok(plan.At(clock.UtcNow))
            : (Outcome<PlanView>)Failure.NotFound($"Plan '{PlanId}'"));

    public async Task<Outcome<PlanView>> EndAsync(string actingBrandId)
    {
        if (state.State.Plan is not { } plan || plan.BrandId != actingBrandId)
        {
            return Failure.NotFound($"Plan '{PlanId}'");
        }
        var now = clock.UtcNow;
        if (plan.At(now).Status != PlanStatus.Ended)
        {
            state.State.Plan = plan with { EndedAt = now };
            state.State.HandedOver = false;
            await state.SaveAsync(this, () => this.RegisterOrUpdateReminder(HandOverReminder, HandOverRetry, HandOverRetry));
        }
        if (!state.State.HandedOver)
        {
            await HandOverAsync();
        }
        return Outcome<PlanView>.Ok(state.State.Plan.At(now));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == HandOverReminder)
        {
            await HandOverAsync();
        }
    }

    /// <summary>
    /// Gives the plan as it is now to the products, the brand and the offers' owners; each takes it idempotently
    /// (by plan id, the latest version wins). On failure the reminder tries again; the request is answered anyway,
    /// since the plan itself is durable.
    /// </summary>
    private async Task HandOverAsync()
    {
        var plan = state.State.Plan!;
        try
        {
            var rate = plan.Rate();
            var offer = plan.Offer();
            var handOvers = plan.ProductIds.Select(id => GrainFactory.GetGrain<IProductGrain>(id).PutPlanAsync(rate))
                .Append(GrainFactory.GetGrain<IBrandGrain>(plan.BrandId).ListPlanAsync(PlanId))
                .Concat(plan.Kind == PlanKind.Open
                    ? [GrainFactory.GetGrain<IOpenPlansGrain>(IOpenPlansGrain.Key).PutAsync(offer)]
                    : plan.CreatorIds!.Select(id => GrainFactory.GetGrain<ICreatorGrain>(id).PutPlanOfferAsync(offer)));
            await Task.WhenAll(handOvers);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.PlanHandOverDeferred(exception, PlanId);
            return;
        }
        state.State.HandedOver = true;
        await state.SaveAsync(this);
        if (await this.GetReminder(HandOverReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public static string? DraftError(PlanDraft draft, DateTimeOffset now) =>
        !Enum.IsDefined(draft.Kind) ? "kind must be 'open' or 'targeted'."
        : draft.ProductIds.Count is 0 or > MaxProducts ? $"productIds must name between 1 and {MaxProducts} products."
        : draft.ProductIds.Any(string.IsNullOrWhiteSpace) ? "productIds must not contain empty ids."
        : draft.CommissionBps is < 0 or > Money.MaxBps ? $"commissionBps must be between 0 and {Money.MaxBps}."
        : draft.Kind == PlanKind.Open && draft.CreatorIds is { Count: > 0 } ? "An open plan covers every creator: creatorIds is only for targeted plans."
        : draft.Kind == PlanKind.Targeted && draft.CreatorIds is not { Count: > 0 and <= MaxCreators } ? $"A targeted plan names between 1 and {MaxCreators} creators in creatorIds."
        : draft.CreatorIds?.Any(string.IsNullOrWhiteSpace) == true ? "creatorIds must not contain empty ids."
        : draft.EndsAt is { } ends && ends <= (draft.StartsAt ?? now) ? "endsAt must be after startsAt (and after now)."
        : null;
}

internal static partial class CollaborationLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Plan {PlanId} could not be handed over to every product and creator yet; its reminder tries again")]
    public static partial void PlanHandOverDeferred(this ILogger logger, Exception exception, string planId);
}
