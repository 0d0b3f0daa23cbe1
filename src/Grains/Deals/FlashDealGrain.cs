using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Live;

namespace Vetrina.Grains.Deals;

[GenerateSerializer, Alias("vetrina.deal-state")]
public sealed class FlashDealState
{
    [Id(0)] public DealDefinition? Definition { get; set; }
    [Id(1)] public bool Carved { get; set; }
    [Id(2)] public DateTimeOffset? StartsAt { get; set; }
    [Id(3)] public DateTimeOffset? EndsAt { get; set; }
    [Id(4)] public bool Closed { get; set; }
}

/// <summary>
/// A flash deal. Its units are a stock row of the journal carved from the product's; it admits a checkout window's
/// asks in one call (units and per-buyer counts held in memory, like a product's reservations) and the window's
/// transaction writes the sale and each buyer's units, which the database refuses beyond the deal's units or the
/// limit. Time comes from the commerce clock: the deal is active from <c>startsAt</c> to <c>endsAt</c>; when it ends
/// (noticed by any call, or by its reminder after restarts and silo loss) its unsold units go back to the product
/// in one journal transaction, once.
/// </summary>
[Reentrant]
public sealed class FlashDealGrain(
    [PersistentState("deal", StateStorage.Name)] IPersistentState<FlashDealState> state,
    ISalesJournal journal,
    CommerceClock clock,
    IOptions<CheckoutOptions> checkout) : Grain, IFlashDealGrain, IRemindable
{
    private const string EndReminder = "end";
    private readonly Dictionary<string, (List<DealRequest> Asks, long At)> _reservations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _buyers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _heldByShopper = new(StringComparer.Ordinal);

    /// <summary>Checkouts holding units now.</summary>
    private readonly HashSet<string> _heldCheckouts = new(StringComparer.Ordinal);
    private int _stocked;
    private int _sold;
    private long _version;
    private int _held;
    private Task? _closing;

    private FlashDealState S => state.State;
    private string DealId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Definition is not null && await journal.ReadDealAsync(DealId, cancellationToken) is { } counts)
        {
            // Carved even if the crash came before that was written: the journal's row says so.
            S.Carved = true;
            (_stocked, _sold, _version) = (counts.Stock.Stocked, counts.Stock.Sold, counts.Stock.Version);
            foreach (var (shopperId, units) in counts.Buyers)
            {
                _buyers[shopperId] = units;
            }
        }
    }

    public async Task<Outcome<FlashDealView>> CreateAsync(string actingBrandId, DealDefinition definition)
    {
        if (S.Definition is not null && S.Definition != definition)
        {
            return Failure.Conflict($"Deal '{DealId}' exists.");
        }
        // What can be refused is refused before anything is written (the carve checks it again, atomically).
        var product = GrainFactory.GetGrain<IProductGrain>(definition.ProductId);
        if (S.Definition is null && await product.GetAsync() is { } view)
        {
            if (view.BrandId != actingBrandId)
            {
                DeactivateOnIdle();
                return Failure.Forbidden("The product belongs to another brand.");
            }
            if (view.Status != ProductStatus.Active)
            {
                DeactivateOnIdle();
                return Failure.Conflict($"Product '{definition.ProductId}' is archived and cannot be sold in a deal.");
            }
            if (view.Available < definition.Units)
            {
                DeactivateOnIdle();
                return Failure.Conflict($"Only {view.Available} units are available for the deal; {definition.Units} requested.");
            }
        }
        // The definition is written before the units are carved, so a crash in between leaves a deal that carves
        // when asked again (the carve is idempotent by deal id), never units taken without a deal.
        S.Definition = definition;
        await state.SaveAsync(this);
        var carved = await product
            .CarveDealAsync(actingBrandId, new DealRef(DealId, definition.SessionId), definition.Units, definition.PerBuyerLimit);
        if (!carved.Succeeded)
        {
            await state.ClearStateAsync();
            DeactivateOnIdle();
            return carved.Failure!;
        }
        S.Carved = true;
        (_stocked, _sold) = (definition.Units, 0);
        await state.SaveAsync(this);
        await ShowAsync();
        return Outcome<FlashDealView>.Ok(View());
    }

    public async Task<FlashDealView?> GetAsync()
    {
        if (S.Definition is null || !S.Carved)
        {
            DeactivateOnIdle();
            return null;
        }
        await CloseIfEndedAsync();
        return View();
    }

    public async Task<Outcome<FlashDealView>> StartAsync(string? actingBrandId, string? actingCreatorId)
    {
        if (S.Definition is not { } deal || !S.Carved)
        {
            DeactivateOnIdle();
            return Failure.NotFound($"Deal '{DealId}'");
        }
        if (actingBrandId is not null && actingBrandId != deal.BrandId)
        {
            return Failure.Forbidden("The deal belongs to another brand.");
        }
        if (actingCreatorId is not null)
        {
            var session = deal.SessionId is null ? null : await GrainFactory.GetGrain<ILiveSessionGrain>(deal.SessionId).GetTermsAsync();
            if (session?.CreatorId != actingCreatorId)
            {
                return Failure.Forbidden("Only the brand, or the creator of the deal's live session, starts the deal.");
            }
        }
        if (S.StartsAt is not null)
        {
            return Failure.Conflict($"Deal '{DealId}' has started already.");
        }
        var now = clock.UtcNow;
        var startsAt = now.AddSeconds(deal.CountdownSeconds);
        var endsAt = startsAt.AddSeconds(deal.DurationSeconds);
        // The reminder that returns the unsold units exists before the deal can sell (it survives restarts and silo
        // loss); the times take effect only once both it and the state are written.
        await this.RegisterOrUpdateReminder(EndReminder, Max(endsAt - now, TimeSpan.FromSeconds(1)), TimeSpan.FromMinutes(1));
        state.State.StartsAt = startsAt;
        state.State.EndsAt = endsAt;
        try
        {
            await state.SaveAsync(this);
        }
        catch
        {
            (state.State.StartsAt, state.State.EndsAt) = (null, null);
            throw;
        }
        await ShowAsync();
        return Outcome<FlashDealView>.Ok(View());
    }

    public async Task<DealReservation> ReserveAsync(string reservationId, IReadOnlyList<DealRequest> requests, DateTimeOffset placedAt)
    {
        await CloseIfEndedAsync();
        await ForgetStaleHoldsAsync();
        var deal = S.Definition!;
        // Judged at the orders' time, once the end the grain's own clock may have reached is taken into account: after
        // the end the product's own price applies, also when the deal sold out.
        var status = S.Closed || _closing is not null || placedAt >= S.EndsAt ? DealStatus.Ended : Status(placedAt);
        if (status is not (DealStatus.Active or DealStatus.SoldOut))
        {
            return new DealReservation(deal.DealPriceMinor, requests.Select(_ => DealAnswer.NotActive).ToArray());
        }
        var answers = new DealAnswer[requests.Count];
        var granted = new List<DealRequest>();
        for (var i = 0; i < requests.Count; i++)
        {
            var ask = requests[i];
            if (_heldCheckouts.Contains(ask.CheckoutId))
            {
                // The same checkout holds units in another window (its key retried on another silo): that window decides
                // it; this ask is answered "busy" (503, not journalled), and its retry gets the first window's outcome.
                answers[i] = DealAnswer.Busy;
                continue;
            }
            var has = _buyers.GetValueOrDefault(ask.ShopperId) + _heldByShopper.GetValueOrDefault(ask.ShopperId);
            if (has + ask.Quantity > deal.PerBuyerLimit)
            {
                answers[i] = DealAnswer.LimitReached;
            }
            else if (_stocked - _sold - _held < ask.Quantity)
            {
                answers[i] = DealAnswer.NoUnits;
            }
            else
            {
                answers[i] = DealAnswer.Granted;
                _held += ask.Quantity;
                _heldByShopper[ask.ShopperId] = _heldByShopper.GetValueOrDefault(ask.ShopperId) + ask.Quantity;
                _heldCheckouts.Add(ask.CheckoutId);
                granted.Add(ask);
            }
        }
        if (granted.Count > 0)
        {
            _reservations[reservationId] = (granted, Environment.TickCount64);
        }
        return new DealReservation(deal.DealPriceMinor, answers);
    }

    public async Task SettleAsync(string reservationId, IReadOnlyList<string> sold, StockCounts? counts)
    {
        var released = _reservations.Remove(reservationId, out var held);
        if (released)
        {
            Release(held.Asks);
            var committed = sold.ToHashSet(StringComparer.Ordinal);
            foreach (var ask in held.Asks.Where(a => committed.Contains(a.CheckoutId)))
            {
                _buyers[ask.ShopperId] = _buyers.GetValueOrDefault(ask.ShopperId) + ask.Quantity;
            }
        }
        if (counts is not null)
        {
            Observe(counts);
        }
        if (released && Over)
        {
            // Units this window held past the end and did not sell go back to the product now; also while the close
            // is under way, which kept them out of what it returned.
            await ReturnUnsoldAsync();
        }
        await ShowAsync();
    }

    /// <summary>
    /// Holds of windows that never settled (their silo died before or after their transaction) are dropped after the
    /// reservation timeout, and the deal reads its row and buyers again: what those windows sold is counted from the
    /// journal, and what they did not comes back on sale.
    /// </summary>
    private async Task ForgetStaleHoldsAsync()
    {
        var staleBefore = Environment.TickCount64 - (long)checkout.Value.ReservationTimeout.TotalMilliseconds;
        var stale = _reservations.Where(r => r.Value.At < staleBefore).Select(r => r.Key).ToArray();
        if (stale.Length == 0)
        {
            return;
        }
        foreach (var reservationId in stale)
        {
            Release(_reservations[reservationId].Asks);
            _reservations.Remove(reservationId);
        }
        if (await journal.ReadDealAsync(DealId) is { } counts && counts.Stock.Version >= _version)
        {
            (_stocked, _sold, _version) = (counts.Stock.Stocked, counts.Stock.Sold, counts.Stock.Version);
            _buyers.Clear();
            foreach (var (shopperId, units) in counts.Buyers)
            {
                _buyers[shopperId] = units;
            }
        }
    }

    private void Release(List<DealRequest> asks)
    {
        foreach (var ask in asks)
        {
            _heldCheckouts.Remove(ask.CheckoutId);
            _held -= ask.Quantity;
            var left = _heldByShopper[ask.ShopperId] - ask.Quantity;
            if (left == 0)
            {
                _heldByShopper.Remove(ask.ShopperId);
            }
            else
            {
                _heldByShopper[ask.ShopperId] = left;
            }
        }
    }

    public async Task RestockAsync(string operationId, int quantity)
    {
        if (await journal.RestockAsync(operationId, DealId, quantity) is { } counts)
        {
            Observe(counts);
        }
        // Once the deal is over the unit goes on to the product, as its unsold units did; also when the restock was
        // done before and this is a retry whose first attempt did not get that far (giving back is safe to repeat).
        if (Over)
        {
            await ReturnUnsoldAsync();
        }
        await ShowAsync();
    }

    /// <summary>The deal has ended (or is ending): what is not sold belongs to the product again.</summary>
    private bool Over => S.Closed || _closing is not null || (S.EndsAt is { } endsAt && clock.UtcNow >= endsAt);

    /// <summary>Counts of the deal's row, taken only when newer than what the grain has.</summary>
    private void Observe(StockCounts counts)
    {
        if (counts.Version > _version)
        {
            (_stocked, _sold, _version) = (counts.Stocked, counts.Sold, counts.Version);
        }
    }

    public Task ForgetOperationsAsync(string[] operationIds) => Task.CompletedTask;

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != EndReminder)
        {
            return;
        }
        var closedBefore = S.Closed;
        await CloseIfEndedAsync();
        if (!S.Closed)
        {
            return;
        }
        if (closedBefore)
        {
            // Each later tick gives back what is neither sold nor held now (safe to repeat): units kept out of the
            // close for holds whose windows never settled (their silo died, so the holds went stale), for holds of an
            // earlier activation, or whose return failed. The reminder stays until no hold is left.
            await ForgetStaleHoldsAsync();
            await ReturnUnsoldAsync();
        }
        if (_reservations.Count == 0)
        {
            await this.UnregisterReminder(await this.GetReminder(EndReminder) ?? throw new InvalidOperationException("The deal's reminder is gone."));
        }
    }

    /// <summary>Once the end time has passed: returns the unsold units to the product (one journal transaction) and shows the end.</summary>
    private Task CloseIfEndedAsync()
    {
        if (S.Closed || S.EndsAt is not { } endsAt || clock.UtcNow < endsAt)
        {
            return Task.CompletedTask;
        }
        return _closing ??= CloseAsync();
    }

    private async Task CloseAsync()
    {
        try
        {
            await ReturnUnsoldAsync();
            S.Closed = true;
            await state.SaveAsync(this);
            await ShowAsync();
        }
        finally
        {
            _closing = null;
        }
    }

    private async Task ReturnUnsoldAsync()
    {
        var deal = S.Definition!;
        var (returned, dealCounts, productCounts) = await journal.CloseDealAsync(DealId, deal.ProductId, keep: _held);
        Observe(dealCounts);
        await GrainFactory.GetGrain<IProductGrain>(deal.ProductId).DealEndedAsync(DealId, returned, productCounts);
    }

    /// <summary>Tells the deal's live session how it stands (the session coalesces what it sends to its streams).</summary>
    private Task ShowAsync() =>
        S.Definition?.SessionId is { } sessionId ? GrainFactory.GetGrain<ILiveSessionGrain>(sessionId).DealChangedAsync(View()) : Task.CompletedTask;

    private DealStatus Status() => Status(clock.UtcNow);

    private DealStatus Status(DateTimeOffset now)
    {
        return S.StartsAt is not { } startsAt ? DealStatus.Ready
            : _sold >= S.Definition!.Units && !S.Closed ? DealStatus.SoldOut
            : S.Closed || now >= S.EndsAt ? (_sold >= S.Definition!.Units ? DealStatus.SoldOut : DealStatus.Ended)
            : now < startsAt ? DealStatus.Counting
            : DealStatus.Active;
    }

    private FlashDealView View()
    {
        var deal = S.Definition!;
        return new FlashDealView(DealId, deal.ProductId, deal.SessionId, deal.DealPriceMinor, deal.Currency, deal.Units,
            S.Closed ? 0 : Math.Max(0, deal.Units - _sold), deal.PerBuyerLimit, Status(), S.StartsAt, S.EndsAt, _version);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
