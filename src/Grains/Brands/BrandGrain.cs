using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Brands;

[GenerateSerializer, Alias("vetrina.brand-state")]
public sealed class BrandState
{
    [Id(0)] public BrandView? Brand { get; set; }
    [Id(1)] public string? ApiKeyHash { get; set; }
    [Id(2)] public List<string> PlanIds { get; set; } = [];

    /// <summary>The brand's products, in the order they were added (for its console).</summary>
    [Id(3)] public List<string> ProductIds { get; set; } = [];
}

/// <summary>A seller: its settings and the hash of its key. Products live in their own grains.</summary>
public sealed class BrandGrain(
    [PersistentState("brand", StateStorage.Name)] IPersistentState<BrandState> state,
    CommerceClock clock) : Grain, IBrandGrain
{
    public async Task<Outcome<BrandView>> RegisterAsync(BrandRegistration registration)
    {
        if (state.State.Brand is not null)
        {
            return Failure.Conflict("The brand already exists.");
        }
        var error = CatalogRules.BrandError(registration);
        if (error is not null)
        {
            return Failure.Invalid(error);
        }
        state.State.Brand = new BrandView(this.GetPrimaryKeyString(), registration.Name, registration.DefaultCommissionBps,
            registration.AttributionWindowHours, registration.ReturnWindowDays, clock.UtcNow, registration.RateLockDays);
        state.State.ApiKeyHash = registration.ApiKeyHash;
        await state.SaveAsync(this);
        return Outcome<BrandView>.Ok(state.State.Brand);
    }

    public Task<BrandView?> GetAsync() => Task.FromResult(state.State.Brand);

    public Task<bool> HasKeyAsync(string apiKeyHash)
    {
        if (state.State.ApiKeyHash is null)
        {
            // Nobody registered under this id: a guessed key. Leave memory at once, so that a flood of made-up ids
            // cannot fill the silo with empty activations.
            this.DeactivateOnIdle();
            return Task.FromResult(false);
        }
        return Task.FromResult(ApiKeys.HashMatches(state.State.ApiKeyHash, apiKeyHash));
    }

    public async Task<Outcome<ProductView>> AddProductAsync(ProductDraft draft)
    {
        var brand = state.State.Brand;
        if (brand is null)
        {
            return Failure.NotFound($"Brand '{this.GetPrimaryKeyString()}'");
        }
        var error = CatalogRules.ProductError(draft);
        if (error is not null)
        {
            return Failure.Invalid(error);
        }
        var productId = Identifiers.Derived(IdPrefixes.Product, brand.BrandId, draft.Sku);
        var definition = new ProductDefinition(brand.BrandId, draft.Sku, draft.Title, draft.PriceMinor, draft.Currency, draft.Stock,
            draft.CommissionBps ?? brand.DefaultCommissionBps, new BrandTerms(brand.AttributionWindowHours, brand.ReturnWindowDays, brand.RateLockDays));
        var created = await GrainFactory.GetGrain<IProductGrain>(productId).CreateAsync(definition);
        if (created.Value is not null && !state.State.ProductIds.Contains(productId, StringComparer.Ordinal))
        {
            state.State.ProductIds.Add(productId);
            await state.SaveAsync(this);
        }
        return created;
    }

    public Task<IReadOnlyList<string>> ProductIdsAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.ProductIds]);

    public async Task ListPlanAsync(string planId)
    {
        if (state.State.Brand is null || state.State.PlanIds.Contains(planId, StringComparer.Ordinal))
        {
            return;
        }
        state.State.PlanIds.Add(planId);
        await state.SaveAsync(this);
    }

    public Task<IReadOnlyList<string>> PlanIdsAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.PlanIds]);
}
