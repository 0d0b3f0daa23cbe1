using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Ads;

[GenerateSerializer, Alias("vetrina.campaign-state")]
public sealed class CampaignState
{
    [Id(0)] public CampaignTerms? Terms { get; set; }
    [Id(1)] public long Impressions { get; set; }
    [Id(2)] public long Clicks { get; set; }
}

public sealed class CampaignGrain(
    [PersistentState("campaign", StateStorage.Name)] IPersistentState<CampaignState> state,
    IAdSpendStore spend,
    CommerceClock clock) : Grain, ICampaignGrain
{
    public const int MaxProducts = 100;
    public const int MaxNameLength = 200;

    private string CampaignId => this.GetPrimaryKeyString();

    public async Task<Outcome<CampaignView>> CreateAsync(string brandId, CampaignDraft draft)
    {
        if (state.State.Terms is not null)
        {
            return Failure.Conflict($"Campaign '{CampaignId}' already exists.");
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
            return Failure.Invalid($"Product '{foreign}' is not a product of this brand.");
        }
        if (quotes.FirstOrDefault(q => q!.Currency != draft.Currency) is { } other)
        {
            return Failure.Invalid($"Product '{other.ProductId}' is priced in {other.Currency}; a campaign pays in one currency, {draft.Currency}.");
        }
        var terms = new CampaignTerms(CampaignId, brandId, draft.Name, productIds, draft.BidMinor, draft.Currency, draft.DailyBudgetMinor,
            draft.TotalBudgetMinor, draft.StartsAt ?? now, draft.EndsAt, Paused: false, CreatedAt: now);
        // The spend row first: a campaign whose terms are durable always has one.
        await spend.OpenAsync(CampaignId, new AdBudget(terms.DailyBudgetMinor, terms.TotalBudgetMinor));
        state.State.Terms = terms;
        await state.SaveAsync(this);
        await GrainFactory.GetGrain<ICampaignShardGrain>(ICampaignShardGrain.ShardOf(CampaignId)).PutAsync(terms);
        return Outcome<CampaignView>.Ok(await ViewAsync());
    }

    public async Task<Outcome<CampaignView>> GetAsync(string? actingBrandId)
    {
        if (state.State.Terms is not { } terms || (actingBrandId is not null && terms.BrandId != actingBrandId))
        {
            return Failure.NotFound($"Campaign '{CampaignId}'");
        }
        return Outcome<CampaignView>.Ok(await ViewAsync());
    }

    public async Task<Outcome<CampaignView>> UpdateAsync(string actingBrandId, CampaignChanges changes)
    {
        if (state.State.Terms is not { } terms || terms.BrandId != actingBrandId)
        {
            return Failure.NotFound($"Campaign '{CampaignId}'");
        }
        if (changes.Status is { } status && status is not (CampaignStatus.Active or CampaignStatus.Paused))
        {
            return Failure.Invalid("status must be 'active' or 'paused'.");
        }
        if (changes.BidMinor is < 1 || changes.DailyBudgetMinor is < 1)
        {
            return Failure.Invalid("bidMinor and dailyBudgetMinor must be at least 1.");
        }
        var changed = terms with
        {
            Paused = changes.Status is { } s ? s == CampaignStatus.Paused : terms.Paused,
            BidMinor = changes.BidMinor ?? terms.BidMinor,
            DailyBudgetMinor = changes.DailyBudgetMinor ?? terms.DailyBudgetMinor,
        };
        if (changed.DailyBudgetMinor != terms.DailyBudgetMinor)
        {
            await spend.SetBudgetAsync(CampaignId, new AdBudget(changed.DailyBudgetMinor, changed.TotalBudgetMinor));
        }
        state.State.Terms = changed;
        await state.SaveAsync(this);
        await GrainFactory.GetGrain<ICampaignShardGrain>(ICampaignShardGrain.ShardOf(CampaignId)).PutAsync(changed);
        return Outcome<CampaignView>.Ok(await ViewAsync());
    }

    public async Task AddTallyAsync(AdTally tally)
    {
        if (state.State.Terms is null)
        {
            return;
        }
        state.State.Impressions += tally.Impressions;
        state.State.Clicks += tally.Clicks;
        await state.SaveAsync(this);
    }

    private async Task<CampaignView> ViewAsync()
    {
        var terms = state.State.Terms!;
        var now = clock.UtcNow;
        var spent = (await spend.ReadAsync([CampaignId], now)).GetValueOrDefault(CampaignId);
        return new CampaignView(terms, terms.StatusAt(now), spent?.SpentMinor ?? 0, spent?.SpentTodayMinor ?? 0, spent?.ChargedClicks ?? 0,
            state.State.Clicks, state.State.Impressions);
    }

    public static string? DraftError(CampaignDraft draft, DateTimeOffset now) =>
        string.IsNullOrWhiteSpace(draft.Name) || draft.Name.Length > MaxNameLength ? $"name must have 1 to {MaxNameLength} characters."
        : draft.ProductIds.Count is 0 or > MaxProducts ? $"productIds must name between 1 and {MaxProducts} products."
        : draft.ProductIds.Any(string.IsNullOrWhiteSpace) ? "productIds must not contain empty ids."
        : !Currencies.IsKnown(draft.Currency) ? $"'{draft.Currency}' is not an ISO 4217 currency code."
        : draft.BidMinor is < 1 or > Catalog.CatalogRules.MaxPriceMinor ? $"bidMinor must be between 1 and {Catalog.CatalogRules.MaxPriceMinor}."
        : draft.DailyBudgetMinor < draft.BidMinor ? "dailyBudgetMinor must be at least bidMinor: the campaign must be able to pay one click."
        : draft.TotalBudgetMinor is { } total && total < draft.BidMinor ? "totalBudgetMinor must be at least bidMinor."
        : draft.EndsAt is { } ends && ends <= (draft.StartsAt ?? now) ? "endsAt must be after startsAt (and after now)."
        : null;
}

/// <summary>A shard of the campaign directory: the terms of its campaigns, written as they change.</summary>
public sealed class CampaignShardGrain(
    [PersistentState("campaign-shard", StateStorage.Name)] IPersistentState<CampaignShardState> state) : Grain, ICampaignShardGrain
{
    public async Task PutAsync(CampaignTerms terms)
    {
        if (state.State.Campaigns.TryGetValue(terms.CampaignId, out var known) && known == terms)
        {
            return;
        }
        state.State.Campaigns[terms.CampaignId] = terms;
        await state.SaveAsync(this);
    }

    public Task<IReadOnlyList<CampaignTerms>> AllAsync() => Task.FromResult<IReadOnlyList<CampaignTerms>>([.. state.State.Campaigns.Values]);
}

[GenerateSerializer, Alias("vetrina.campaign-shard-state")]
public sealed class CampaignShardState
{
    [Id(0)] public Dictionary<string, CampaignTerms> Campaigns { get; set; } = new(StringComparer.Ordinal);
}
