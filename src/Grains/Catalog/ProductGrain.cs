using Vetrina.Grains.Deals;
using Orleans.Serialization;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Collaborations;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;

namespace Vetrina.Grains.Catalog;

/// <summary>
/// One sellable item: its terms (grain state) and the admission to its stock. The stock counts themselves are a row
/// of the sales journal, where a conditional update keeps sold within stocked; this grain mirrors them and, for
/// each desk's commit window, reserves units in memory in one turn, so that desks ask the database only for what
/// there is. A hot product thus takes one call per window from each silo, and no write.
/// The mirror stays exact without re-reading: each settlement carries the row version its transaction left, and a
/// version the grain has already read is not counted again. Units of a window that never settles (its silo died)
/// are held back as unknown until the row is read again.
/// </summary>
[Reentrant]
public sealed class ProductGrain(
    [PersistentState("product", StateStorage.Name)] IPersistentState<ProductState> state,
    ISalesJournal journal,
    CommerceClock clock,
    IOptions<CheckoutOptions> options,
    IOptions<GroupCommitOptions> groupCommit,
    DeepCopier copier) : Grain, IProductGrain
{
    private readonly Dictionary<string, Reservation> _reservations = new(StringComparer.Ordinal);
    private Published _published = new();
    private GroupCommit? _commit;
    private ProductState? _live;
    private IGrainTimer? _sweepTimer;

    // The mirror of the journal row: counts as of the last read (at _readVersion) plus every change reported since.
    private int _stocked;
    private int _sold;
    private long _readVersion;
    private int _reserved;
    private int _unknown;
    private List<(long Version, int SoldDelta, int StockedDelta)>? _changesDuringRead;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var published = Terms(S);
        return () => _published = published;
    });

    /// <summary>The live state every call changes; storage gets copies of it (see <see cref="DurableState.GroupCommit{T}"/>).</summary>
    private ProductState S => _live ??= state.State;
    private string ProductId => this.GetPrimaryKeyString();
    private int Available => Math.Max(0, _stocked - _sold - _reserved - _unknown);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _published = Terms(S);
        if (S.Definition is not null && await journal.ReadStockAsync(ProductId, cancellationToken) is { } counts)
        {
            (_stocked, _sold, _readVersion) = (counts.Stocked, counts.Sold, counts.Version);
        }
    }

    public async Task<Outcome<ProductView>> CreateAsync(ProductDefinition definition)
    {
        if (S.Definition is not null)
        {
            // Every repeat is a conflict, an identical one too: api-v1 has no idempotent product creation.
            return Failure.Conflict($"SKU '{definition.Sku}' already exists for this brand.");
        }
        // The stock row first: a product whose terms are durable always has one.
        var counts = await journal.OpenStockAsync(ProductId, definition.Stock);
        if (S.Definition is not null)
        {
            return Failure.Conflict($"SKU '{definition.Sku}' already exists for this brand.");
        }
        (_stocked, _sold, _readVersion) = (counts.Stocked, counts.Sold, counts.Version);
        S.Definition = definition;
        S.Title = definition.Title;
        S.PriceMinor = definition.PriceMinor;
        S.CommissionBps = definition.CommissionBps;
        S.Status = ProductStatus.Active;
        await Commit.DurableAsync();
        return Outcome<ProductView>.Ok(View()!);
    }

    public Task<ProductView?> GetAsync()
    {
        if (_published.Definition is null)
        {
            // A made-up id: leave memory at once, so that a flood of them cannot fill the silo.
            this.DeactivateOnIdle();
        }
        return Task.FromResult(View());
    }

    public Task<ProductQuote?> QuoteAsync()
    {
        if (_published.Definition is null)
        {
            this.DeactivateOnIdle();
            return Task.FromResult<ProductQuote?>(null);
        }
        return Task.FromResult<ProductQuote?>(Quote());
    }

    public async Task<Outcome<ProductView>> UpdateAsync(string actingBrandId, ProductChanges changes)
    {
        if (OwnershipFailure(actingBrandId) is { } failure)
        {
            return failure;
        }
        if (CatalogRules.ChangesError(changes) is { } error)
        {
            return Failure.Invalid(error);
        }
        S.Title = changes.Title ?? S.Title;
        S.PriceMinor = changes.PriceMinor ?? S.PriceMinor;
        if (changes.CommissionBps is { } bps && bps != S.CommissionBps)
        {
            var now = clock.UtcNow;
            var lockDays = S.Definition!.Terms.LockDays;
            S.RateChanges.RemoveAll(c => !CommissionTerms.StillMatters(c, now, lockDays));
            S.RateChanges.Add(new RateChange(now, S.CommissionBps));
            S.CommissionBps = bps;
        }
        S.Status = changes.Status ?? S.Status;
        await Commit.DurableAsync();
        return Outcome<ProductView>.Ok(View()!);
    }

    public async Task<Outcome<ProductView>> AdjustStockAsync(string actingBrandId, int delta)
    {
        if (OwnershipFailure(actingBrandId) is { } failure)
        {
            return failure;
        }
        if (CatalogRules.StockDeltaError(delta) is { } error)
        {
            return Failure.Invalid(error);
        }
        if ((long)Available + delta < 0)
        {
            return Failure.Conflict($"Only {Available} units are available; the stock cannot go below zero.");
        }
        if ((long)_stocked + delta > int.MaxValue)
        {
            return Failure.Invalid("The stock would exceed the largest supported quantity.");
        }
        // Units reserved for windows in flight stay on sale: the journal keeps them above what it removes.
        var counts = await journal.AdjustStockAsync(ProductId, delta, keepFree: delta < 0 ? _reserved + _unknown : 0);
        if (counts is null)
        {
            return Failure.Conflict($"Only {Available} units are available; the stock cannot go below zero.");
        }
        Changed(counts.Version, soldDelta: 0, stockedDelta: delta);
        return Outcome<ProductView>.Ok(View()!);
    }

    public async Task<Outcome<ProductView>> CarveDealAsync(string actingBrandId, DealRef deal, int units, int perBuyerLimit)
    {
        if (OwnershipFailure(actingBrandId) is { } failure)
        {
            return failure;
        }
        if (S.Status != ProductStatus.Active)
        {
            return Failure.Conflict($"Product '{ProductId}' is archived and cannot be sold in a deal.");
        }
        if (S.Deals.All(d => d.DealId != deal.DealId))
        {
            if (units > Available)
            {
                return Failure.Conflict($"Only {Available} units are available for the deal; {units} requested.");
            }
            // Units reserved for windows in flight stay on sale: the journal keeps them above what it carves.
            if (await journal.CarveDealAsync(deal.DealId, ProductId, units, perBuyerLimit, keepFree: _reserved + _unknown) is not { } counts)
            {
                return Failure.Conflict($"Only {Available} units are available for the deal; {units} requested.");
            }
            Changed(counts.Version, soldDelta: 0, stockedDelta: -units);
            S.Deals.Add(deal);
            await Commit.DurableAsync();
        }
        return Outcome<ProductView>.Ok(View()!);
    }

    public async Task DealEndedAsync(string dealId, int returned, StockCounts counts)
    {
        // Read again rather than add: a close retried after a lost answer gives back 0, yet its units are in the row.
        await ReadAgainAsync(CancellationToken.None);
        if (S.Deals.RemoveAll(d => d.DealId == dealId) > 0)
        {
            await Commit.DurableAsync();
        }
    }

    public Task<StockReservation> ReserveAsync(string reservationId, IReadOnlyList<StockRequest> requests)
    {
        var refusals = new Failure?[requests.Count];
        if (_published.Definition is null)
        {
            this.DeactivateOnIdle();
            Array.Fill(refusals, Failure.NotFound($"Product '{ProductId}'"));
            return Task.FromResult(new StockReservation(null, refusals));
        }
        var quote = Quote();
        var units = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            refusals[i] = quote.Status != ProductStatus.Active ? Failure.Conflict($"Product '{ProductId}' is archived and cannot be bought.")
                : request.ExpectedUnitPriceMinor is { } expected && expected != quote.UnitPriceMinor
                    ? Failure.Conflict($"The price of product '{ProductId}' changed to {quote.UnitPriceMinor} since it was put in the cart; put it in the cart again.")
                : Available - units < request.Quantity
                    ? Failure.NotEnoughStock($"Product '{ProductId}' has {Available - units} units available; {request.Quantity} requested.")
                : null;
            if (refusals[i] is null)
            {
                units += request.Quantity;
            }
        }
        if (units > 0)
        {
            _reservations[reservationId] = new Reservation(units, clock.UtcNow);
            _reserved += units;
            _sweepTimer ??= this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(options.Value.ReservationSweepInterval, options.Value.ReservationSweepInterval) { Interleave = true });
        }
        return Task.FromResult(new StockReservation(quote, refusals));
    }

    public Task SettleAsync(string reservationId, int soldUnits, long version)
    {
        if (_reservations.Remove(reservationId, out var reservation))
        {
            _reserved -= reservation.Units;
        }
        if (soldUnits > 0)
        {
            Changed(version, soldUnits);
        }
        return Task.CompletedTask;
    }

    public async Task RestockAsync(string operationId, int quantity)
    {
        if (await journal.RestockAsync(operationId, ProductId, quantity) is { } counts)
        {
            Changed(counts.Version, -quantity);
        }
    }

    public Task ForgetOperationsAsync(string[] operationIds) => Task.CompletedTask;

    public async Task PutPlanAsync(PlanRate plan)
    {
        if (S.Definition is null)
        {
            return;
        }
        var now = clock.UtcNow;
        var lockDays = S.Definition.Terms.LockDays;
        S.Plans.RemoveAll(p => p.PlanId == plan.PlanId || !CommissionTerms.StillMatters(p, now, lockDays));
        if (CommissionTerms.StillMatters(plan, now, lockDays))
        {
            S.Plans.Add(plan);
        }
        await Commit.DurableAsync();
    }

    public Task<RateDecision?> OfferAsync(string creatorId, DateTimeOffset? linkedAt) =>
        Task.FromResult(_published.Definition is null || _published.Status != ProductStatus.Active
            ? null
            : _published.Commission!.For(creatorId, linkedAt, clock.UtcNow));

    /// <summary>Counts a change of the journal row once: unless the last read already saw it.</summary>
    private void Changed(long version, int soldDelta, int stockedDelta = 0)
    {
        if (version > _readVersion)
        {
            _sold += soldDelta;
            _stocked += stockedDelta;
            _changesDuringRead?.Add((version, soldDelta, stockedDelta));
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var staleBefore = clock.UtcNow - options.Value.ReservationTimeout;
        foreach (var (id, reservation) in _reservations)
        {
            if (reservation.At < staleBefore)
            {
                // Its window may or may not have sold these units: only the journal knows.
                _reservations.Remove(id);
                _reserved -= reservation.Units;
                _unknown += reservation.Units;
            }
        }
        if (_unknown > 0 && _changesDuringRead is null)
        {
            await ReadAgainAsync(cancellationToken);
        }
        if (_reservations.Count == 0 && _unknown == 0)
        {
            _sweepTimer?.Dispose();
            _sweepTimer = null;
        }
    }

    private async Task ReadAgainAsync(CancellationToken cancellationToken)
    {
        var unknown = _unknown;
        _changesDuringRead = [];
        try
        {
            if (await journal.ReadStockAsync(ProductId, cancellationToken) is not { } counts)
            {
                return;
            }
            // Changes reported while the read ran are in the row only if their version is not above the read's.
            var later = _changesDuringRead.Where(c => c.Version > counts.Version).ToList();
            _sold = counts.Sold + later.Sum(c => c.SoldDelta);
            _stocked = counts.Stocked + later.Sum(c => c.StockedDelta);
            _readVersion = Math.Max(_readVersion, counts.Version);
            _unknown -= unknown;
        }
        finally
        {
            _changesDuringRead = null;
        }
    }

    private Failure? OwnershipFailure(string actingBrandId)
    {
        if (S.Definition is null)
        {
            return Failure.NotFound($"Product '{ProductId}'");
        }
        return S.Definition.BrandId == actingBrandId ? null : Failure.Forbidden("The product belongs to another brand.");
    }

    /// <summary>What reads and quotes show: the last durable terms, with the commission terms a quote carries made once.</summary>
    private static Published Terms(ProductState s) => new()
    {
        Definition = s.Definition, Title = s.Title, PriceMinor = s.PriceMinor, CommissionBps = s.CommissionBps, Status = s.Status, Deals = [.. s.Deals],
        Commission = new CommissionTerms(s.CommissionBps, [.. s.RateChanges], [.. s.Plans], s.Definition?.Terms.LockDays ?? BrandTerms.DefaultRateLockDays),
    };

    private ProductQuote Quote() =>
        new(ProductId, _published.Definition!.BrandId, _published.PriceMinor, _published.Definition.Currency, _published.CommissionBps, _published.Definition.Terms, _published.Status, _published.Deals, _published.Commission);

    private sealed class Published
    {
        public ProductDefinition? Definition { get; init; }
        public string Title { get; init; } = "";
        public long PriceMinor { get; init; }
        public int CommissionBps { get; init; }
        public ProductStatus Status { get; init; }
        public List<DealRef> Deals { get; init; } = [];
        public CommissionTerms? Commission { get; init; }
    }

    private ProductView? View() =>
        _published.Definition is not { } definition
            ? null
            : new ProductView(ProductId, definition.BrandId, definition.Sku, _published.Title, _published.PriceMinor, definition.Currency,
                Available, _published.CommissionBps, _published.Status, _reserved + _unknown, _sold, _stocked);

    private sealed record Reservation(int Units, DateTimeOffset At);
}
