using Orleans.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Catalog;

/// <summary>
/// One sellable item: its terms and its stock. Stock moves only through holds that a checkout confirms or
/// releases, so units sold can never exceed units stocked. A timer (while active) and a reminder (across
/// restarts) ask the coordinator of any hold left unfinished to resolve it.
/// A viral product takes every buy of a video, so it is reentrant: each call checks and changes the stock in one
/// turn (no await in between, so no call sees another's half-done change) and is answered once a group-committed
/// write holding its change is durable. Reads return the last durable view.
/// </summary>
[Reentrant]
public sealed class ProductGrain(
    [PersistentState("product", StateStorage.Name)] IPersistentState<ProductState> state,
    CommerceClock clock,
    IOptions<CheckoutOptions> options,
    IOptions<GroupCommitOptions> groupCommit,
    DeepCopier copier,
    ILogger<ProductGrain> logger) : Grain, IProductGrain, IRemindable
{
    private const string RecoveryReminder = "holds";
    private ProductView? _published;
    private IGrainTimer? _sweepTimer;
    private Task? _reminderRegistration;
    private GroupCommit? _commit;

    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var view = View();
        return () => _published = view;
    });

    private ProductState? _live;

    /// <summary>The live state every call changes; storage gets copies of it (see <see cref="DurableState.GroupCommit{T}"/>).</summary>
    private ProductState S => _live ??= state.State;
    private string ProductId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _published = View();
        if (S.Holds.Count > 0)
        {
            await EnsureSweepingAsync();
        }
    }

    public async Task<Outcome<ProductView>> CreateAsync(ProductDefinition definition)
    {
        if (S.Definition is not null)
        {
            // Every repeat is a conflict, an identical one too: api-v1 has no idempotent product creation.
            return Failure.Conflict($"SKU '{definition.Sku}' already exists for this brand.");
        }
        S.Definition = definition;
        S.Title = definition.Title;
        S.PriceMinor = definition.PriceMinor;
        S.CommissionBps = definition.CommissionBps;
        S.Status = ProductStatus.Active;
        S.Stocked = definition.Stock;
        S.Available = definition.Stock;
        await Commit.DurableAsync();
        return Outcome<ProductView>.Ok(_published!);
    }

    public Task<ProductView?> GetAsync() => Task.FromResult(_published);

    public Task<ProductQuote?> QuoteAsync() => Task.FromResult(S.Definition is null ? null : Quote());

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
        S.CommissionBps = changes.CommissionBps ?? S.CommissionBps;
        S.Status = changes.Status ?? S.Status;
        await Commit.DurableAsync();
        return Outcome<ProductView>.Ok(_published!);
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
        if ((long)S.Available + delta < 0)
        {
            return Failure.Conflict($"Only {S.Available} units are available; the stock cannot go below zero.");
        }
        if ((long)S.Stocked + delta > int.MaxValue)
        {
            return Failure.Invalid("The stock would exceed the largest supported quantity.");
        }
        S.Available += delta;
        S.Stocked += delta;
        await Commit.DurableAsync();
        return Outcome<ProductView>.Ok(_published!);
    }

    public async Task<Outcome<ProductQuote>> HoldAsync(string checkoutId, int quantity, DateTimeOffset expiresAt)
    {
        // Armed before the write: a hold that became durable just before a crash must still be swept. If the write
        // fails instead, the reminder finds no hold and unregisters itself. Armed before the checks too, because
        // they and the change must happen in one turn.
        await EnsureSweepingAsync();
        if (S.Definition is null)
        {
            return Failure.NotFound($"Product '{ProductId}'");
        }
        S.Holds.TryGetValue(checkoutId, out var earlier);
        if (earlier is { Confirmed: true })
        {
            // Sold to this checkout already; only the same quantity is a replay of it.
            if (earlier.Quantity != quantity)
            {
                return Failure.Conflict($"Product '{ProductId}' already sold {earlier.Quantity} units to this checkout; {quantity} requested.");
            }
            await Commit.SettledAsync();
            return Outcome<ProductQuote>.Ok(Quote());
        }
        if (S.Status != ProductStatus.Active)
        {
            return Failure.Conflict($"Product '{ProductId}' is archived and cannot be bought.");
        }
        if (quantity <= 0)
        {
            return Failure.Invalid("Quantity must be positive.");
        }
        // An unconfirmed hold met here is left by an attempt of this checkout that never reached Paying (a checkout
        // holds only before it; a completed one whose confirmation was lost answers retries from its receipt and never
        // holds again), so nothing was charged for it: a retry, perhaps with another cart, takes it over at the
        // quantity it asks for now, and the confirmation sells exactly what the order says. If the stock does not
        // allow that, the retry is refused like any checkout and releases the hold.
        var free = S.Available + (earlier?.Quantity ?? 0);
        if (free < quantity)
        {
            VetrinaMetrics.StockRefused();
            return new Failure(FailureKind.Conflict, "Not enough stock", $"Product '{ProductId}' has {free} units available; {quantity} requested.");
        }
        S.Available = free - quantity;
        S.Reserved += quantity - (earlier?.Quantity ?? 0);
        S.Holds[checkoutId] = new StockHold { Quantity = quantity, ExpiresAt = expiresAt };
        await Commit.DurableAsync();
        return Outcome<ProductQuote>.Ok(Quote());
    }

    public async Task ConfirmAsync(string checkoutId)
    {
        if (!S.Holds.TryGetValue(checkoutId, out var hold) || hold.Confirmed)
        {
            // Confirmed (or gone) in memory, perhaps not yet durable: answer only once it is.
            await Commit.SettledAsync();
            return;
        }
        Sell(hold);
        await Commit.DurableAsync();
    }

    public async Task ReleaseAsync(string checkoutId)
    {
        if (!S.Holds.TryGetValue(checkoutId, out var hold))
        {
            await Commit.SettledAsync();
            return;
        }
        if (hold.Confirmed)
        {
            logger.ReleaseOfConfirmedHold(checkoutId, ProductId);
            return;
        }
        S.Holds.Remove(checkoutId);
        S.Reserved -= hold.Quantity;
        S.Available += hold.Quantity;
        await Commit.DurableAsync();
    }

    public Task ForgetAsync(string checkoutId)
    {
        // Not written on its own: if this removal is lost in a crash, the sweep asks the checkout again and it
        // answers with another Forget.
        if (S.Holds.TryGetValue(checkoutId, out var hold) && hold.Confirmed)
        {
            S.Holds.Remove(checkoutId);
            Commit.ChangedLazily();
        }
        return Task.CompletedTask;
    }

    public async Task RestockAsync(string operationId, int quantity, string checkoutId)
    {
        if (S.Restocks.Contains(operationId))
        {
            await Commit.SettledAsync();
            return;
        }
        if (S.Holds.TryGetValue(checkoutId, out var hold) && !hold.Confirmed)
        {
            // The order exists, so its checkout was charged for these units; only the confirmation was lost (it runs
            // beside the checkout's Completed write). Sell them first, so the restock takes them back from sold.
            Sell(hold);
        }
        S.Restocks.Record(operationId, clock.UtcNow);
        S.Restocks.AskSendersOfOverdue(GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow);
        S.Sold -= quantity;
        S.Available += quantity;
        await Commit.DurableAsync();
    }

    public Task ForgetOperationsAsync(string[] operationIds)
    {
        if (S.Restocks.Forget(operationIds))
        {
            Commit.ChangedLazily();
        }
        return Task.CompletedTask;
    }

    /// <summary>Forgotten ids that no write carried yet are written now, so stored state does not keep growing.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Commit.WriteLazyChangesAsync(reason);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != RecoveryReminder)
        {
            return;
        }
        if (S.Holds.Count == 0)
        {
            _reminderRegistration = null;
            var reminder = await this.GetReminder(RecoveryReminder);
            if (reminder is not null && S.Holds.Count == 0)
            {
                await this.UnregisterReminder(reminder);
            }
            // A hold taken while this ran may have registered the reminder before the removal above landed.
            if (S.Holds.Count > 0)
            {
                _reminderRegistration = null;
                await EnsureSweepingAsync();
            }
            return;
        }
        Sweep();
    }

    private Task EnsureSweepingAsync()
    {
        _sweepTimer ??= this.RegisterGrainTimer(SweepTick, new GrainTimerCreationOptions(options.Value.HoldSweepInterval, options.Value.HoldSweepInterval) { KeepAlive = true });
        // The reminder brings the product back after a crash so that no hold is left unresolved. Concurrent holds
        // share one registration; a failed one is tried again by the next hold.
        if (_reminderRegistration is not { IsCompletedSuccessfully: true } and not { IsCompleted: false })
        {
            _reminderRegistration = this.RegisterOrUpdateReminder(RecoveryReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
        return _reminderRegistration;
    }

    private Task SweepTick(CancellationToken cancellationToken)
    {
        if (S.Holds.Count == 0)
        {
            _sweepTimer?.Dispose();
            _sweepTimer = null;
            return Task.CompletedTask;
        }
        Sweep();
        S.Restocks.AskSendersOfOverdue(GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow);
        return Task.CompletedTask;
    }

    private void Sweep()
    {
        var now = clock.UtcNow;
        foreach (var (checkoutId, hold) in S.Holds)
        {
            var stale = hold.Confirmed ? hold.ConfirmedAt + options.Value.ConfirmedHoldGrace < now : hold.ExpiresAt < now;
            if (stale)
            {
                // Not awaited: the checkout calls back into this grain, which must not be waiting on it.
                GrainFactory.GetGrain<ICheckoutGrain>(checkoutId).ResolveAsync(ProductId).Ignore();
            }
        }
    }

    private void Sell(StockHold hold)
    {
        hold.Confirmed = true;
        hold.ConfirmedAt = clock.UtcNow;
        S.Reserved -= hold.Quantity;
        S.Sold += hold.Quantity;
    }

    private Failure? OwnershipFailure(string actingBrandId)
    {
        if (S.Definition is null)
        {
            return Failure.NotFound($"Product '{ProductId}'");
        }
        return S.Definition.BrandId == actingBrandId ? null : Failure.Forbidden("The product belongs to another brand.");
    }

    private ProductQuote Quote() =>
        new(ProductId, S.Definition!.BrandId, S.PriceMinor, S.Definition.Currency, S.CommissionBps, S.Definition.Terms, S.Status);

    private ProductView? View() =>
        S.Definition is null
            ? null
            : new ProductView(ProductId, S.Definition.BrandId, S.Definition.Sku, S.Title, S.PriceMinor, S.Definition.Currency,
                S.Available, S.CommissionBps, S.Status, S.Reserved, S.Sold, S.Stocked);
}
