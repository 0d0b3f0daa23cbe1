using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Payments;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Orders;

/// <summary>
/// One brand's part of a checkout, through fulfilment, refunds and settlement. Each change is written together
/// with the effects it has on ledgers, stats and stock (an outbox), then the effects are delivered; a crash in
/// between only delays them. A reminder ends the return window without any request, also after restarts.
/// Each reminder is registered before the write that needs it, so that no interruption leaves work without one.
/// </summary>
public sealed class OrderGrain(
    [PersistentState("order", StateStorage.Name)] IPersistentState<OrderState> state,
    CommerceClock clock,
    IPaymentGateway payments,
    ISalesJournal journal,
    Reports.IReportBook reports,
    IFulfilmentBook fulfilment,
    IOptions<FulfilmentOptions> options,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain, IRemindable
{
    private const string ReturnWindowReminder = "return-window";
    private const string EffectsReminder = "effects";

    private bool _settlementScheduled;
    private IGrainTimer? _settlementTimer;

    /// <summary>How long after the return window's end the settling timer fires, so that the window has surely ended.</summary>
    private static readonly TimeSpan SettlementTimerSlack = TimeSpan.FromMilliseconds(50);
    private bool _effectsRetryScheduled;

    private OrderState S => state.State;
    private string OrderId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Draft is null && await journal.FindOrderAsync(OrderId, cancellationToken) is { } placed)
        {
            // Never changed since its checkout journalled it: the journal row is the whole order. Its placement's
            // effects on ledgers and stats came from the journal's projection, so its first change starts from them.
            state.State = OrderState.Placed(placed);
        }
        if (S.Status == OrderStatus.Delivered)
        {
            // Also repairs an order delivered before its reminder was registered first.
            await EnsureSettlementScheduledAsync();
        }
        if (S.Outbox.Count > 0)
        {
            await DeliverOutboxAsync();
        }
    }

    public Task<Outcome<OrderView>> GetAsync(OrderActor actor)
    {
        if (S.Draft is null)
        {
            // A made-up id: leave memory at once, so that a flood of them cannot fill the silo.
            this.DeactivateOnIdle();
        }
        return Task.FromResult(AccessFailure(actor) is { } failure ? failure : Outcome<OrderView>.Ok(View()));
    }

    public async Task<Outcome<OrderView>> CancelAsync(OrderActor actor)
    {
        if (AccessFailure(actor) is { } failure)
        {
            return failure;
        }
        if (S.Status == OrderStatus.Cancelled)
        {
            return Outcome<OrderView>.Ok(View());
        }
        if (S.Status != OrderStatus.Paid)
        {
            return Failure.Conflict($"An order that is {Describe(S.Status)} cannot be cancelled.");
        }
        await ChangeAsync(() =>
        {
            var refund = Enumerable.Range(0, S.Draft!.Lines.Count).Sum(i => Money.LineTotal(S.Draft.Lines[i].UnitPriceMinor, S.KeptQuantity(i)));
            S.Cancelled = true;
            S.Status = OrderStatus.Cancelled;
            S.RefundedMinor += refund;
            return S.Draft.Lines.Select(l => OrderEffect.Restock(EffectPrefix, l, l.Quantity))
                .Append(OrderEffect.RefundPayment(EffectPrefix, S.Draft.PaymentId, refund));
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task<Outcome<OrderView>> ShipAsync(OrderActor actor)
    {
        if (AccessFailure(actor) is { } failure)
        {
            return failure;
        }
        if (S.Status == OrderStatus.Shipped)
        {
            return Outcome<OrderView>.Ok(View());
        }
        if (S.Status != OrderStatus.Paid)
        {
            return Failure.Conflict($"An order that is {Describe(S.Status)} cannot be shipped.");
        }
        await ChangeAsync(() =>
        {
            S.Status = OrderStatus.Shipped;
            S.ShippedAt = clock.UtcNow;
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task<Outcome<OrderView>> DeliverAsync(OrderActor actor)
    {
        if (AccessFailure(actor) is { } failure)
        {
            return failure;
        }
        if (S.Status == OrderStatus.Delivered)
        {
            await EnsureSettlementScheduledAsync();
            return Outcome<OrderView>.Ok(View());
        }
        if (S.Status != OrderStatus.Shipped)
        {
            return Failure.Conflict($"An order that is {Describe(S.Status)} cannot be delivered; ship it first.");
        }
        var now = clock.UtcNow;
        var returnWindowEndsAt = now.AddDays(S.Draft!.ReturnWindowDays);
        // Before the write: once Delivered is durable nothing else registers it. Should the write fail, the reminder
        // finds the order not delivered and unregisters itself.
        await ScheduleSettlementAsync(returnWindowEndsAt);
        await ChangeAsync(() =>
        {
            S.Status = OrderStatus.Delivered;
            S.DeliveredAt = now;
            S.ReturnWindowEndsAt = returnWindowEndsAt;
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task<Outcome<OrderView>> RefundAsync(OrderActor actor, IReadOnlyList<RefundLine> lines, bool restock)
    {
        if (AccessFailure(actor) is { } failure)
        {
            return failure;
        }
        if (S.Status != OrderStatus.Delivered)
        {
            return Failure.Conflict($"Only a delivered order can be refunded; this one is {Describe(S.Status)}.");
        }
        if (clock.UtcNow >= S.ReturnWindowEndsAt)
        {
            return Failure.Conflict("The return window of this order has ended.");
        }
        var requested = new int[S.Draft!.Lines.Count];
        foreach (var group in lines.GroupBy(l => l.ProductId, StringComparer.Ordinal))
        {
            var index = S.Draft.Lines.ToList().FindIndex(l => l.ProductId == group.Key);
            if (index < 0)
            {
                return Failure.Invalid($"Product '{group.Key}' is not in this order.");
            }
            var quantity = group.Sum(l => (long)l.Quantity);
            if (group.Any(l => l.Quantity <= 0) || quantity > S.KeptQuantity(index))
            {
                return Failure.Invalid($"Refund quantity for '{group.Key}' must be positive and at most {S.KeptQuantity(index)}.");
            }
            requested[index] = (int)quantity;
        }
        if (requested.All(q => q == 0))
        {
            return Failure.Invalid("A refund needs at least one line.");
        }
        await ChangeAsync(() =>
        {
            long amount = 0;
            var effects = new List<OrderEffect>();
            for (var i = 0; i < requested.Length; i++)
            {
                if (requested[i] == 0)
                {
                    continue;
                }
                var line = S.Draft.Lines[i];
                S.RefundedQuantities[i] += requested[i];
                amount += Money.LineTotal(line.UnitPriceMinor, requested[i]);
                if (restock)
                {
                    effects.Add(OrderEffect.Restock(EffectPrefix, line, requested[i]));
                }
            }
            S.RefundedMinor += amount;
            if (Enumerable.Range(0, requested.Length).All(i => S.KeptQuantity(i) == 0))
            {
                S.Status = OrderStatus.Refunded;
            }
            effects.Add(OrderEffect.RefundPayment(EffectPrefix, S.Draft.PaymentId, amount));
            return effects;
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task<Outcome<OrderView>> ChargeBackAsync(string reason)
    {
        if (S.Draft is null)
        {
            this.DeactivateOnIdle();
            return Failure.NotFound($"Order '{OrderId}'");
        }
        if (S.Status == OrderStatus.ChargedBack)
        {
            return Outcome<OrderView>.Ok(View());
        }
        if (S.Status is OrderStatus.Cancelled or OrderStatus.Refunded)
        {
            return Failure.Conflict($"An order that is {Describe(S.Status)} has no payment left to charge back.");
        }
        // No restock (the goods left) and no refund (the bank took the money back): only the order's contribution
        // goes, so every ledger, link and sales figure loses it, and paid-out commission becomes carry.
        await ChangeAsync(() =>
        {
            S.ChargedBackAt = clock.UtcNow;
            S.Status = OrderStatus.ChargedBack;
            S.Reason = reason;
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task<Outcome<OrderView>> FreezeAsync(bool frozen, string reason)
    {
        if (S.Draft is null)
        {
            this.DeactivateOnIdle();
            return Failure.NotFound($"Order '{OrderId}'");
        }
        if (S.CommissionFrozen == frozen)
        {
            return Outcome<OrderView>.Ok(View());
        }
        if (frozen && S.Status is OrderStatus.Cancelled or OrderStatus.ChargedBack)
        {
            return Failure.Conflict($"An order that is {Describe(S.Status)} has no commission left to freeze.");
        }
        await ChangeAsync(() =>
        {
            S.CommissionFrozen = frozen;
            S.Reason = reason;
        });
        return Outcome<OrderView>.Ok(View());
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        switch (reminderName)
        {
            case ReturnWindowReminder:
                await SettleIfDueAsync();
                break;
            case EffectsReminder:
                await DeliverOutboxAsync();
                if (S.Outbox.Count == 0)
                {
                    _effectsRetryScheduled = false;
                    await UnregisterAsync(EffectsReminder);
                }
                break;
        }
    }

    private async Task SettleIfDueAsync()
    {
        if (S.Status == OrderStatus.Delivered && clock.UtcNow < S.ReturnWindowEndsAt)
        {
            return;
        }
        if (S.Status == OrderStatus.Delivered)
        {
            await ChangeAsync(() =>
            {
                S.Status = OrderStatus.Completed;
                S.CompletedAt = clock.UtcNow;
            });
        }
        _settlementScheduled = false;
        await UnregisterAsync(ReturnWindowReminder);
    }

    private async Task ScheduleSettlementAsync(DateTimeOffset returnWindowEndsAt)
    {
        var interval = options.Value.SettlementCheckInterval;
        var remaining = returnWindowEndsAt - clock.UtcNow;
        var due = remaining < interval ? remaining : interval;
        await this.RegisterOrUpdateReminder(ReturnWindowReminder, due < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : due, interval);
        _settlementScheduled = true;
        if (remaining < interval)
        {
            // A reminder due within moments of its registration may skip its first tick and wait a whole period; a
            // timer settles this activation on time, and the reminder stays the durable fallback.
            _settlementTimer?.Dispose();
            _settlementTimer = this.RegisterGrainTimer(_ => SettleIfDueAsync(), (object?)null,
                new GrainTimerCreationOptions(remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining + SettlementTimerSlack, Timeout.InfiniteTimeSpan));
        }
    }

    private async Task EnsureSettlementScheduledAsync()
    {
        if (!_settlementScheduled && await this.GetReminder(ReturnWindowReminder) is null)
        {
            await ScheduleSettlementAsync(S.ReturnWindowEndsAt!.Value);
        }
        _settlementScheduled = true;
    }

    /// <summary>
    /// The reminder that retries the outbox. It stays until a tick finds the outbox empty, which keeps its removal
    /// off the request that delivered the effects.
    /// </summary>
    private async Task EnsureEffectsRetryAsync()
    {
        if (_effectsRetryScheduled)
        {
            return;
        }
        var retry = options.Value.EffectRetryInterval;
        await this.RegisterOrUpdateReminder(EffectsReminder, retry, retry);
        _effectsRetryScheduled = true;
    }

    private string EffectPrefix => $"{OrderId}/{S.Revision}";

    private Task ChangeAsync(Action change) => ChangeAsync(() =>
    {
        change();
        return [];
    });

    /// <summary>Applies a change, writes it with its effects in one state write, then delivers the effects.</summary>
    private async Task ChangeAsync(Func<IEnumerable<OrderEffect>> change)
    {
        var before = OrderAccounting.Of(S);
        var extra = change().ToList();
        var after = OrderAccounting.Of(S);
        S.Outbox.AddRange(OrderAccounting.Difference(before, after, EffectPrefix, S.Draft!.BrandId, S.Draft.Currency,
            new OrderChange(OrderId, EffectPrefix, clock.UtcNow)));
        S.Outbox.AddRange(extra);
        S.Revision++;
        // The retry reminder exists before the effects are durable: if this grain stops right after the write,
        // the reminder brings it back to deliver them even when no request ever calls this order again.
        await state.SaveAsync(this, S.Outbox.Count > 0 ? EnsureEffectsRetryAsync : null);
        await DeliverOutboxAsync();
    }

    private async Task DeliverOutboxAsync()
    {
        if (await DeliverPendingAsync() is { } delivered)
        {
            await ClearAsync(delivered);
        }
    }

    /// <summary>Delivers every effect in the outbox; on failure arms the retry reminder and answers null.</summary>
    private async Task<OrderEffect[]?> DeliverPendingAsync()
    {
        if (S.Outbox.Count == 0)
        {
            return null;
        }
        var effects = S.Outbox.ToArray();
        try
        {
            await Task.WhenAll(effects.Select(DeliverAsync));
        }
        catch (Exception exception)
        {
            logger.EffectsDeferred(exception, OrderId);
            await EnsureEffectsRetryAsync();
            return null;
        }
        return effects;
    }

    private async Task ClearAsync(OrderEffect[] delivered)
    {
        S.Outbox.RemoveAll(e => delivered.Contains(e));
        await state.SaveAsync(this);
        // Only now, with the outbox durably empty, may the targets drop what they remember of these operations.
        foreach (var target in delivered.GroupBy(e => (e.Kind, e.TargetId)))
        {
            Target(target.Key.Kind, target.Key.TargetId)?.ForgetOperationsAsync(target.Select(e => e.OperationId).ToArray()).Ignore();
        }
    }

    public async Task ReconcileAsync(IEffectTarget target, string[] operationIds)
    {
        if (S.Outbox.Any(e => operationIds.Contains(e.OperationId, StringComparer.Ordinal)))
        {
            // Still in the outbox: deliver (the target skips what it applied) and empty it, which sends the forget.
            await DeliverOutboxAsync();
            return;
        }
        // Emptied long ago: only the forget was lost.
        target.ForgetOperationsAsync(operationIds).Ignore();
    }

    private IEffectTarget? Target(OrderEffectKind kind, string targetId) => kind switch
    {
        OrderEffectKind.CreatorLedger => GrainFactory.GetGrain<ICreatorGrain>(targetId),
        OrderEffectKind.LinkSales => GrainFactory.GetGrain<ILinkGrain>(targetId),
        OrderEffectKind.BrandSales => GrainFactory.GetGrain<IBrandSalesGrain>(targetId),
        OrderEffectKind.LiveSales => GrainFactory.GetGrain<ILiveSessionGrain>(targetId),
        OrderEffectKind.DealRestock => GrainFactory.GetGrain<Deals.IFlashDealGrain>(targetId),
        OrderEffectKind.Restock => GrainFactory.GetGrain<IProductGrain>(targetId),
        _ => null,
    };

    private Task DeliverAsync(OrderEffect effect) => effect.Kind switch
    {
        OrderEffectKind.CreatorLedger => GrainFactory.GetGrain<ICreatorGrain>(effect.TargetId).ApplyAsync(effect.Ledger!),
        OrderEffectKind.LinkSales => GrainFactory.GetGrain<ILinkGrain>(effect.TargetId).ApplyAsync(effect.LinkSale!),
        OrderEffectKind.BrandSales => GrainFactory.GetGrain<IBrandSalesGrain>(effect.TargetId).ApplyAsync(effect.Sales!),
        OrderEffectKind.LiveSales => GrainFactory.GetGrain<ILiveSessionGrain>(effect.TargetId).ApplyAsync(effect.LiveSale!),
        OrderEffectKind.DealRestock => GrainFactory.GetGrain<Deals.IFlashDealGrain>(effect.TargetId).RestockAsync(effect.OperationId, (int)effect.Amount),
        OrderEffectKind.Restock => GrainFactory.GetGrain<IProductGrain>(effect.TargetId).RestockAsync(effect.OperationId, (int)effect.Amount),
        OrderEffectKind.PaymentRefund => payments.RefundAsync(effect.OperationId, effect.TargetId, effect.Amount, S.Draft!.Currency),
        OrderEffectKind.Report => reports.ApplyAsync(effect.OperationId, effect.Report!),
        OrderEffectKind.Fulfilment => fulfilment.AdvanceAsync(effect.TargetId, (FulfilmentStage)effect.Amount),
        _ => throw new InvalidOperationException($"Unknown effect kind {effect.Kind}."),
    };

    private async Task UnregisterAsync(string reminderName)
    {
        var reminder = await this.GetReminder(reminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private Failure? AccessFailure(OrderActor actor) =>
        S.Draft is null || !actor.May(S.Draft.BrandId) ? Failure.NotFound($"Order '{OrderId}'") : null;

    private static string Describe(OrderStatus status) => status == OrderStatus.ChargedBack ? "charged back" : status.ToString().ToLowerInvariant();

    private OrderView View() => S.View();
}
