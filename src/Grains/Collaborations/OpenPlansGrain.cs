using Vetrina.Grains.Common;

namespace Vetrina.Grains.Collaborations;

[GenerateSerializer, Alias("vetrina.open-plans-state")]
public sealed class OpenPlansState
{
    [Id(0)] public List<PlanOffer> Offers { get; set; } = [];
}

/// <summary>The open plans that have not ended, for every creator's offers; ended ones leave at the next change.</summary>
public sealed class OpenPlansGrain(
    [PersistentState("open-plans", StateStorage.Name)] IPersistentState<OpenPlansState> state,
    CommerceClock clock) : Grain, IOpenPlansGrain
{
    public async Task PutAsync(PlanOffer offer)
    {
        var now = clock.UtcNow;
        var offers = state.State.Offers;
        var known = offers.FindIndex(o => o.PlanId == offer.PlanId);
        if (known >= 0 && offers[known] == offer)
        {
            return;
        }
        offers.RemoveAll(o => o.PlanId == offer.PlanId || o.StopsAt <= now);
        if (offer.StopsAt is not { } stops || stops > now)
        {
            offers.Add(offer);
        }
        await state.SaveAsync(this);
    }

    public Task<IReadOnlyList<PlanOffer>> ActiveAsync()
    {
        var now = clock.UtcNow;
        return Task.FromResult<IReadOnlyList<PlanOffer>>(state.State.Offers.Where(o => o.ActiveAt(now)).ToArray());
    }
}
