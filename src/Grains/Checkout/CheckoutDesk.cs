using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Carts;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Deals;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Payments;
using Vetrina.Grains.Projections;

namespace Vetrina.Grains.Checkout;

/// <summary>
/// Each silo's checkout desk: the API hands it one-tap buys and cart checkouts in-process, and it decides them in
/// commit windows. All checkouts waiting while one window is decided form the next one, which makes one reservation
/// call per product, charges each checkout (idempotently by its id), writes every outcome in one journal transaction,
/// answers, settles the reservations with one call per product, and hands the orders to the projection. No grain is
/// activated for a checkout or an order.
/// </summary>
public sealed class CheckoutDesk(
    IGrainFactory grains,
    ISalesJournal journal,
    IPaymentGateway payments,
    ClickTally clicks,
    SalesProjector projector,
    CommerceClock clock,
    IOptions<CheckoutOptions> options,
    ILogger<CheckoutDesk> logger)
{
    private const int MaxCachedReferences = 10_000;

    /// <summary>Names this desk's reservations: unique per run of the silo.</summary>
    private readonly string _deskId = "d_" + Identifiers.RandomBase62(16);
    private readonly Lock _lock = new();
    private readonly List<Pending> _queue = [];
    private readonly Dictionary<string, Pending> _undecided = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IProductGrain> _products = new(StringComparer.Ordinal);
    private long _windows;
    private bool _running;

    /// <summary>The last window's transaction stage: the next one starts when it has finished. Touched only by <see cref="RunAsync"/>.</summary>
    private Task _lastCommit = Task.CompletedTask;

    /// <summary>A one-tap buy of a link's product; its first decision also counts as a click on the link.</summary>
    public async Task<Outcome<CheckoutReceipt>> BuyAsync(string shopperId, string idempotencyKey, string linkCode, int quantity, string? paymentToken)
    {
        var click = await clicks.ClickAsync(linkCode);
        if (click.Value is not { } clicked)
        {
            return click.Failure!;
        }
        var decision = await DecideAsync(CheckoutIds.For(shopperId, idempotencyKey), shopperId, [new CheckoutItem(clicked.ProductId, quantity, clicked)], paymentToken, "buy");
        if (decision.FirstTime)
        {
            clicks.Count(linkCode, shopperId);
        }
        return decision.Outcome;
    }

    /// <summary>A one-tap buy in a live session: a product of its showcase, attributed to the session's creator without a click.</summary>
    public async Task<Outcome<CheckoutReceipt>> BuyLiveAsync(string shopperId, string idempotencyKey, string sessionId, string productId, int quantity, string? paymentToken) =>
        (await DecideAsync(CheckoutIds.For(shopperId, idempotencyKey), shopperId, [new CheckoutItem(productId, quantity, null, LiveSessionId: sessionId)], paymentToken, "live")).Outcome;

    /// <summary>Checks out the shopper's cart at the prices it shows; the lines it bought leave the cart once the orders are journalled.</summary>
    public async Task<Outcome<CheckoutReceipt>> CheckoutCartAsync(string shopperId, string idempotencyKey, string? paymentToken)
    {
        var cart = grains.GetGrain<ICartGrain>(shopperId);
        var items = await WithLinkDatesAsync(await cart.GetCheckoutItemsAsync());
        var decision = await DecideAsync(CheckoutIds.For(shopperId, idempotencyKey), shopperId, items, paymentToken, "cart");
        if (decision.FirstTime && decision.Outcome.Succeeded)
        {
            // Only the first decision touches the cart: a replay of the key answers its outcome and changes nothing.
            await cart.RemoveBoughtAsync(items);
        }
        return decision.Outcome;
    }

    /// <summary>
    /// The cart's clicks as the click journal keeps them lack when their creator linked the product, which the rate
    /// lock needs: the link's terms (cached per silo) have it. The cart itself keeps the items unchanged.
    /// </summary>
    private async Task<IReadOnlyList<CheckoutItem>> WithLinkDatesAsync(IReadOnlyList<CheckoutItem> items)
    {
        var dated = items.ToArray();
        for (var i = 0; i < dated.Length; i++)
        {
            if (dated[i].Click is { LinkedAt: null, CampaignId: null } click && await clicks.DefinitionAsync(click.Code) is { LinkedAt: { } linkedAt })
            {
                dated[i] = dated[i] with { Click = click with { LinkedAt = linkedAt } };
            }
        }
        return dated;
    }

    private async Task<Decision> DecideAsync(string checkoutId, string shopperId, IReadOnlyList<CheckoutItem> items, string? paymentToken, string kind)
    {
        if (CheckoutIds.ItemsError(items) is { } invalid)
        {
            // A replay after the cart was emptied has nothing to buy: it answers what the key decided before.
            return await journal.FindCheckoutAsync(checkoutId) is { } earlier
                ? new Decision(Answer(earlier), FirstTime: false)
                : new Decision(Failure.Invalid(invalid), FirstTime: false);
        }
        Task<Decision> decided;
        var replay = false;
        lock (_lock)
        {
            if (_undecided.TryGetValue(checkoutId, out var same))
            {
                // The same key again while its first request waits: one decision, and this one is not its first.
                decided = same.Decided.Task;
                replay = true;
            }
            else if (_queue.Count >= options.Value.MaxWaiting)
            {
                return new Decision(new Failure(FailureKind.Unavailable, "Checkout busy",
                    "Too many checkouts are waiting on this silo; retry with the same Idempotency-Key."), FirstTime: false);
            }
            else
            {
                var pending = new Pending(checkoutId, shopperId, items, paymentToken, kind);
                _undecided[checkoutId] = pending;
                _queue.Add(pending);
                decided = pending.Decided.Task;
                if (!_running)
                {
                    _running = true;
                    // Windows serve many requests: none of them is the ambient trace of the loop (see WindowActivity).
                    using (ExecutionContext.SuppressFlow())
                    {
                        _ = Task.Run(RunAsync);
                    }
                }
            }
        }
        var decision = await decided;
        return replay ? decision with { FirstTime = false } : decision;
    }

    /// <summary>
    /// Decides windows one after another in two overlapping stages: while one window's transaction is written (and
    /// then its reservations settled and its requests answered), the next one reserves and charges. Transactions
    /// are written one at a time, in the order of their journal positions, which the projection needs.
    /// </summary>
    private async Task RunAsync()
    {
        while (true)
        {
            // Let the requests already read from their sockets reach the queue before the window closes: one
            // turn of the thread pool's queue, which gathers a window of many buys when they arrive together.
            await Task.Yield();
            List<Pending> window;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _running = false;
                    return;
                }
                var count = Math.Min(_queue.Count, options.Value.MaxBatch);
                window = _queue.GetRange(0, count);
                _queue.RemoveRange(0, count);
            }
            var activity = WindowActivity(window);
            Prepared? prepared = null;
            try
            {
                prepared = await PrepareWindowAsync(window);
            }
            catch (Exception exception)
            {
                Fail(window, exception, activity);
            }
            if (prepared is null)
            {
                continue;
            }
            // Only this loop reads and sets the chain (one loop runs at a time, see _running), so it takes no lock: a
            // window that finishes without waiting (memory mode) must not hold up the requests arriving meanwhile.
            var previous = _lastCommit;
            _lastCommit = CommitWindowAsync(window, prepared, previous, activity);
            // Prepare no further ahead than one window: the next one gathers the buys that arrive meanwhile.
            await previous;
        }
    }

    private async Task CommitWindowAsync(List<Pending> window, Prepared prepared, Task previous, Activity? activity)
    {
        await previous;
        try
        {
            await FinishWindowAsync(window, prepared);
            activity?.Dispose();
        }
        catch (Exception exception)
        {
            Fail(window, exception, activity);
        }
        finally
        {
            Forget(window);
        }
    }

    private void Fail(List<Pending> window, Exception exception, Activity? activity)
    {
        logger.WindowFailed(exception, window.Count);
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.Dispose();
        var unavailable = new Failure(FailureKind.Unavailable, "Checkout unavailable", "The checkout could not be recorded; retry with the same Idempotency-Key.");
        foreach (var pending in window)
        {
            pending.Decided.TrySetResult(new Decision(unavailable, FirstTime: false));
        }
        Forget(window);
    }

    private void Forget(List<Pending> window)
    {
        lock (_lock)
        {
            foreach (var pending in window)
            {
                if (_undecided.TryGetValue(pending.CheckoutId, out var current) && current == pending)
                {
                    _undecided.Remove(pending.CheckoutId);
                }
            }
        }
    }

    /// <summary>
    /// A span for a window with traced requests in it: a child of the first one's trace, linked to the others', so
    /// that each traced checkout leads to the window that decided it. None when no request is traced.
    /// </summary>
    private static Activity? WindowActivity(List<Pending> window)
    {
        ActivityContext parent = default;
        List<ActivityLink>? links = null;
        foreach (var pending in window)
        {
            if (pending.Trace == default)
            {
                continue;
            }
            if (parent == default)
            {
                parent = pending.Trace;
            }
            else
            {
                (links ??= []).Add(new ActivityLink(pending.Trace));
            }
        }
        if (parent == default)
        {
            return null;
        }
        var activity = VetrinaMetrics.Tracing.StartActivity("checkout window", ActivityKind.Internal, parent, links: links);
        activity?.SetTag("vetrina.checkouts", window.Count);
        return activity;
    }

    /// <summary>Reserves the window's stock (one call per product), records the charges it is about to make and makes them.</summary>
    private async Task<Prepared> PrepareWindowAsync(List<Pending> window)
    {
        var reservationId = $"{_deskId}/{Interlocked.Increment(ref _windows)}";
        // Keys decided before (a replay after its window) answer their first outcome: no stock, no charge. The lookup
        // runs beside the live sessions' admission, and before the reservations: a replay must not hold units that
        // a new buy of the same window would then be refused for.
        var lookup = journal.FindCheckoutsAsync(window.Select(p => p.CheckoutId).ToArray());
        try
        {
            await AdmitLiveAsync(window);
        }
        catch
        {
            _ = lookup.ContinueWith(failed => failed.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
        var known = await lookup;
        foreach (var pending in window)
        {
            pending.Known = known.GetValueOrDefault(pending.CheckoutId);
        }
        // The window's orders are placed at this moment: a deal grants its price only if it is active now, so no
        // order at a deal price is dated after the deal's end, however late its transaction commits.
        var placedAt = clock.UtcNow;
        var deals = await ReserveDealsAsync(window.Where(p => p.Known is null && p.Refusal is null).ToList(), reservationId, placedAt);
        var products = await ReserveAsync(window.Where(p => p.Known is null && p.Refusal is null).ToList(), reservationId, placedAt);
        var accepted = window.Where(p => p.Known is null && p.Refusal is null).ToArray();
        if (accepted.Length > 0)
        {
            // Before any money moves: a charge whose checkout never reaches the journal is found and voided.
            var now = clock.UtcNow;
            await journal.RecordChargesAsync(accepted.Select(p => new ChargeIntent(p.CheckoutId, p.Drafts!.Sum(o => o.TotalMinor), p.Drafts![0].Currency, now)).ToArray());
            VetrinaMetrics.ChargesRecorded();
        }
        await Task.WhenAll(accepted.Select(ChargeAsync));
        return new Prepared(reservationId, products, deals, window.Where(p => p.Known is null).Select(p => p.Record).OfType<CheckoutRecord>().ToList());
    }

    /// <summary>
    /// Writes the window's transaction (its orders go to the projection as soon as it commits), settles its
    /// reservations and answers. What follows the commit cannot fail the window: a settlement that does not land
    /// leaves the reservation to go stale, a refund that does not land leaves its charge intent to the reconciler.
    /// </summary>
    private async Task FinishWindowAsync(List<Pending> window, Prepared prepared)
    {
        var (reservationId, products, deals, records) = prepared;
        var segments = await CommitAsync(records);
        var firstRecords = new Dictionary<string, CheckoutRecord>(StringComparer.Ordinal);
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, commit, written) in segments)
        {
            foreach (var record in written)
            {
                if (commit.AlreadyJournalled.TryGetValue(record.CheckoutId, out var earlier))
                {
                    firstRecords[record.CheckoutId] = earlier;
                }
                else
                {
                    firstRecords[record.CheckoutId] = record;
                    fresh.Add(record.CheckoutId);
                }
            }
        }
        await Task.WhenAll(SettleAsync(reservationId, products, segments, fresh).Concat(SettleDealsAsync(reservationId, deals, segments, fresh))
            .Concat(window.Where(p => p.Record is not null && !fresh.Contains(p.CheckoutId)).Select(p => SettleReplayedChargeAsync(p, firstRecords))));
        foreach (var pending in window)
        {
            if (pending.Known is { } known)
            {
                pending.Decided.TrySetResult(new Decision(Answer(known), FirstTime: false));
                continue;
            }
            if (pending.Record is null)
            {
                pending.Decided.TrySetResult(new Decision(pending.Refusal!, FirstTime: false));
                continue;
            }
            var first = firstRecords[pending.CheckoutId];
            var firstTime = fresh.Contains(pending.CheckoutId);
            if (firstTime)
            {
                VetrinaMetrics.CheckoutDecided(pending.Kind, first.Failure);
                if (first.Failure is { IsStockShortage: true })
                {
                    VetrinaMetrics.StockRefused();
                }
            }
            pending.Decided.TrySetResult(new Decision(Answer(first), firstTime));
        }
    }

    /// <summary>
    /// The crash point between a charge and its journal transaction: charges recorded before <paramref name="before"/>
    /// whose checkouts are still not journalled are journalled as abandoned, so that a late retry of the key gets that
    /// answer and cannot sell against a refunded payment, and then voided. One whose checkout was journalled after all
    /// (a retry got there first) keeps its order. Answers how many were voided.
    /// </summary>
    public async Task<int> VoidAbandonedChargesAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var intents = await journal.UnsettledChargesAsync(before, cancellationToken);
        var voided = 0;
        foreach (var chunk in intents.Chunk(options.Value.MaxBatch))
        {
            var abandoned = new Failure(FailureKind.Conflict, "Checkout abandoned",
                "The checkout was not recorded in time after its payment was taken, so the payment was refunded; check out again with a new Idempotency-Key.");
            var (_, commit, _) = await CommitOnceAsync(chunk.Select(i => new CheckoutRecord(i.CheckoutId, [], abandoned)).ToList());
            foreach (var intent in chunk)
            {
                if (commit.AlreadyJournalled.GetValueOrDefault(intent.CheckoutId) is not { Failure: null })
                {
                    await payments.VoidAsync(intent.CheckoutId, intent.AmountMinor, intent.Currency, cancellationToken);
                    voided++;
                }
                await journal.ForgetChargeAsync(intent.CheckoutId, cancellationToken);
            }
        }
        return voided;
    }

    /// <summary>
    /// One call per live session for the whole window: a live buy sells only a product of the showcase of a session
    /// that is live at that moment. A refusal is a decision of its key (journalled); a made-up session is a 404.
    /// </summary>
    private async Task AdmitLiveAsync(List<Pending> window)
    {
        var sessions = window.SelectMany(p => p.Items).Select(i => i.LiveSessionId).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        if (sessions.Length == 0)
        {
            return;
        }
        var terms = new Dictionary<string, LiveTerms?>(StringComparer.Ordinal);
        var unavailable = new HashSet<string>(StringComparer.Ordinal);
        await Task.WhenAll(sessions.Select(async sessionId =>
        {
            try
            {
                var found = await grains.GetGrain<ILiveSessionGrain>(sessionId).GetTermsAsync();
                lock (terms)
                {
                    terms[sessionId] = found;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.CheckoutStepDeferred(exception, "admit live", 1);
                lock (terms)
                {
                    unavailable.Add(sessionId);
                }
            }
        }));
        foreach (var pending in window)
        {
            foreach (var item in pending.Items)
            {
                if (item.LiveSessionId is not { } sessionId)
                {
                    continue;
                }
                var refusal = unavailable.Contains(sessionId)
                    ? new Failure(FailureKind.Unavailable, "Checkout unavailable", "The live session could not be reached; retry with the same Idempotency-Key.")
                    : terms[sessionId] is not { } session ? Failure.NotFound($"Live session '{sessionId}'")
                    : session.Status != LiveStatus.Live ? Failure.Conflict($"Live session '{sessionId}' is not live; it sells nothing now.")
                    : !session.Showcase.Contains(item.ProductId, StringComparer.Ordinal) ? Failure.Conflict($"Product '{item.ProductId}' is not in the showcase of live session '{sessionId}'.")
                    : null;
                if (refusal is not null)
                {
                    pending.Refusal ??= refusal;
                    if (refusal.Kind == FailureKind.Conflict)
                    {
                        pending.Record = new CheckoutRecord(pending.CheckoutId, [], refusal);
                    }
                }
                else
                {
                    pending.Live = terms[sessionId];
                }
            }
        }
    }

    /// <summary>
    /// One call per flash deal for the whole window: a live buy of a product with a deal for its session (or for every
    /// session) that is active is sold from the deal's units at the deal's price, within its per-buyer limit; a deal
    /// not active leaves the buy to the next deal of the product, and then to the product at its own price. Answers
    /// the deals that granted units.
    /// </summary>
    private async Task<IReadOnlyCollection<string>> ReserveDealsAsync(List<Pending> window, string reservationId, DateTimeOffset placedAt)
    {
        var live = window.Where(p => p.Live is not null).ToList();
        if (live.Count == 0)
        {
            return [];
        }
        var quotes = new Dictionary<string, ProductQuote?>(StringComparer.Ordinal);
        var unreachable = new HashSet<string>(StringComparer.Ordinal);
        await Task.WhenAll(live.SelectMany(p => p.Items).Select(i => i.ProductId).Distinct(StringComparer.Ordinal).Select(async productId =>
        {
            try
            {
                var quote = await Product(productId).QuoteAsync();
                lock (quotes)
                {
                    quotes[productId] = quote;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.CheckoutStepDeferred(exception, "quote for deals", 1);
                lock (quotes)
                {
                    unreachable.Add(productId);
                }
            }
        }));
        // Each live item's candidate deals: the session's own first, then the product's deals for every session.
        var candidates = new List<(Pending Pending, int Item, Queue<string> Deals)>();
        foreach (var pending in live)
        {
            for (var i = 0; i < pending.Items.Count; i++)
            {
                var productId = pending.Items[i].ProductId;
                if (unreachable.Contains(productId))
                {
                    pending.Refusal ??= new Failure(FailureKind.Unavailable, "Checkout unavailable", "A product could not be reached; retry with the same Idempotency-Key.");
                    continue;
                }
                var deals = quotes[productId]?.Deals ?? [];
                var ordered = deals.Where(d => d.SessionId == pending.Live!.SessionId).Concat(deals.Where(d => d.SessionId is null)).Select(d => d.DealId);
                candidates.Add((pending, i, new Queue<string>(ordered)));
            }
        }
        var granting = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            candidates.RemoveAll(c => c.Deals.Count == 0 || c.Pending.Refusal is not null);
            if (candidates.Count == 0)
            {
                break;
            }
            var round = candidates.GroupBy(c => c.Deals.Dequeue(), StringComparer.Ordinal).ToList();
            var asked = await Task.WhenAll(round.Select(async deal =>
            {
                var asks = deal.ToList();
                try
                {
                    return (Deal: deal.Key, Asks: asks, Reservation: (DealReservation?)await grains.GetGrain<IFlashDealGrain>(deal.Key).ReserveAsync(reservationId,
                        asks.Select(a => new DealRequest(a.Pending.CheckoutId, a.Pending.ShopperId, a.Pending.Items[a.Item].Quantity)).ToArray(), placedAt));
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.CheckoutStepDeferred(exception, "reserve deal", asks.Count);
                    return (Deal: deal.Key, Asks: asks, Reservation: (DealReservation?)null);
                }
            }));
            foreach (var (dealId, asks, reservation) in asked)
            {
                for (var j = 0; j < asks.Count; j++)
                {
                    var (pending, item, rest) = asks[j];
                    var answer = reservation?.Answers[j];
                    var quote = quotes[pending.Items[item].ProductId]!;
                    switch (answer)
                    {
                        case null:
                            pending.Refusal ??= new Failure(FailureKind.Unavailable, "Checkout unavailable", "A flash deal could not be reached; retry with the same Idempotency-Key.");
                            break;
                        case DealAnswer.NotActive:
                            continue;
                        case DealAnswer.Granted when quote.Status != ProductStatus.Active:
                            // Granted, but the product was archived meanwhile: it cannot be bought (the hold is released at settlement).
                            Refuse(pending, Failure.Conflict($"Product '{quote.ProductId}' is archived and cannot be bought."));
                            break;
                        case DealAnswer.Granted:
                            granting.Add(dealId);
                            pending.DealIds[item] = dealId;
                            pending.Quotes[item] = quote with { UnitPriceMinor = reservation!.PriceMinor };
                            break;
                        case DealAnswer.Busy:
                            pending.Refusal ??= new Failure(FailureKind.Unavailable, "Checkout busy", "This checkout is being decided on another silo; retry with the same Idempotency-Key.");
                            break;
                        case DealAnswer.LimitReached:
                            Refuse(pending, Failure.Conflict($"deal-limit: deal '{dealId}' sells at most its per-buyer limit to one shopper."));
                            break;
                        default:
                            Refuse(pending, Failure.Conflict($"Deal '{dealId}' has no units left."));
                            break;
                    }
                    rest.Clear();
                }
            }
        }
        return granting;

        static void Refuse(Pending pending, Failure refusal)
        {
            if (pending.Refusal is null)
            {
                pending.Refusal = refusal;
                pending.Record = new CheckoutRecord(pending.CheckoutId, [], refusal);
            }
        }
    }

    /// <summary>One call per product for the whole window; a checkout is refused if any of its products refuses it.</summary>
    private async Task<IReadOnlyCollection<string>> ReserveAsync(List<Pending> window, string reservationId, DateTimeOffset placedAt)
    {
        var byProduct = new Dictionary<string, List<(Pending Pending, int Item)>>(StringComparer.Ordinal);
        foreach (var pending in window)
        {
            for (var i = 0; i < pending.Items.Count; i++)
            {
                if (pending.DealIds[i] is not null)
                {
                    // Sold from a flash deal's units: not the product's.
                    continue;
                }
                var productId = pending.Items[i].ProductId;
                if (!byProduct.TryGetValue(productId, out var asks))
                {
                    byProduct[productId] = asks = [];
                }
                asks.Add((pending, i));
            }
        }
        var reservations = await Task.WhenAll(byProduct.Select(async product =>
        {
            var asks = product.Value;
            var requests = asks.Select(a => new StockRequest(a.Pending.CheckoutId, a.Pending.Items[a.Item].Quantity, a.Pending.Items[a.Item].ExpectedUnitPriceMinor)).ToArray();
            try
            {
                return (Asks: asks, Reservation: (StockReservation?)await Product(product.Key).ReserveAsync(reservationId, requests));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Only the checkouts of this product fail (503, retry with the key); the rest of the window goes on.
                logger.CheckoutStepDeferred(exception, "reserve", asks.Count);
                return (Asks: asks, Reservation: (StockReservation?)null);
            }
        }));
        var unavailable = new Failure(FailureKind.Unavailable, "Checkout unavailable", "A product could not be reached; retry with the same Idempotency-Key.");
        foreach (var (asks, reservation) in reservations)
        {
            for (var j = 0; j < asks.Count; j++)
            {
                var (pending, item) = asks[j];
                pending.Quotes[item] = reservation?.Quote;
                pending.Refusal ??= reservation is null ? unavailable : reservation.Refusals[j];
            }
        }
        foreach (var pending in window)
        {
            if (pending.Refusal is { Kind: FailureKind.Conflict } conflict)
            {
                // Stock, price and status refusals are decisions of this key: journalled, so a replay gets them too.
                pending.Record = new CheckoutRecord(pending.CheckoutId, [], conflict);
            }
            else if (pending.Refusal is null && pending.Quotes.Select(q => q!.Currency).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                pending.Refusal = Failure.Invalid("All products of one checkout must be priced in the same currency.");
            }
            else if (pending.Refusal is null)
            {
                pending.Drafts = Drafts(pending, placedAt);
            }
        }
        return byProduct.Keys;
    }

    private async Task ChargeAsync(Pending pending)
    {
        var drafts = pending.Drafts!;
        PaymentResult payment;
        try
        {
            payment = await payments.ChargeAsync(pending.CheckoutId, drafts.Sum(o => o.TotalMinor), drafts[0].Currency, pending.PaymentToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Not journalled: a retry with the key charges again (idempotently); if the charge did happen and nobody
            // retries, its intent is voided as abandoned.
            logger.CheckoutStepDeferred(exception, "charge", 1);
            pending.Refusal = new Failure(FailureKind.Unavailable, "Payment unavailable", "The payment provider did not answer; retry with the same Idempotency-Key.");
            return;
        }
        pending.Record = payment.Approved
            ? new CheckoutRecord(pending.CheckoutId, drafts.Select(o => o with { PaymentId = payment.PaymentId! }).ToArray(), null)
            : new CheckoutRecord(pending.CheckoutId, [], new Failure(FailureKind.PaymentDeclined, "Payment declined", payment.DeclineReason ?? "The payment was declined."));
    }

    /// <summary>
    /// The window in one transaction. Should the journal refuse it as an oversell (a product's mirror was behind),
    /// each checkout is written alone instead, and one that would oversell is refused, its charge refunded.
    /// </summary>
    private async Task<List<(JournalPosition Position, JournalCommit Commit, IReadOnlyList<CheckoutRecord> Records)>> CommitAsync(List<CheckoutRecord> records)
    {
        if (records.Count == 0)
        {
            return [];
        }
        try
        {
            return [await CommitOnceAsync(records)];
        }
        catch (StockExhaustedException exhausted)
        {
            logger.WindowOversold(records.Count, exhausted.ProductId ?? "(not named)");
        }
        catch (DealLimitExceededException exceeded)
        {
            logger.WindowOversold(records.Count, exceeded.DealId ?? "(a deal's per-buyer limit)");
        }
        var segments = new List<(JournalPosition, JournalCommit, IReadOnlyList<CheckoutRecord>)>();
        foreach (var record in records)
        {
            try
            {
                segments.Add(await CommitOnceAsync([record]));
            }
            catch (Exception refusedByJournal) when (refusedByJournal is StockExhaustedException or DealLimitExceededException)
            {
                var refusal = refusedByJournal is StockExhaustedException exhausted
                    ? Failure.NotEnoughStock(exhausted.ProductId is { } id && id.StartsWith(IdPrefixes.FlashDeal, StringComparison.Ordinal)
                        ? $"Deal '{id}' has no units left."
                        : $"{(exhausted.ProductId is { } productId ? $"Product '{productId}' has" : "The products of this checkout have")} not enough units left.")
                    : Failure.Conflict("deal-limit: a flash deal sells at most its per-buyer limit to one shopper.");
                var refused = new CheckoutRecord(record.CheckoutId, [], refusal);
                var segment = await CommitOnceAsync([refused]);
                segments.Add(segment);
                var commit = segment.Commit;
                if (!commit.AlreadyJournalled.ContainsKey(record.CheckoutId))
                {
                    await RefundChargeAsync(record);
                }
            }
        }
        return segments;
    }

    /// <summary>One journal transaction, at the next position of this silo's writer (a new writer if the last was closed).</summary>
    private async Task<(JournalPosition Position, JournalCommit Commit, IReadOnlyList<CheckoutRecord> Records)> CommitOnceAsync(List<CheckoutRecord> records)
    {
        var position = await projector.NextPositionAsync();
        JournalCommit commit;
        try
        {
            commit = await journal.CommitAsync(new JournalBatch(position, records));
        }
        catch (WriterClosedException closed)
        {
            await projector.ReplaceWriterAsync(closed.WriterId);
            position = await projector.NextPositionAsync();
            commit = await journal.CommitAsync(new JournalBatch(position, records));
        }
        VetrinaMetrics.JournalCommitted(records.Count);
        // Handed to the projection before anything else can fail: batches reach it in the order they committed.
        var orders = records.Where(r => r.Failure is null && !commit.AlreadyJournalled.ContainsKey(r.CheckoutId)).SelectMany(r => r.Orders).ToArray();
        if (orders.Length > 0)
        {
            projector.Committed(position, orders);
        }
        return (position, commit, records);
    }

    /// <summary>One settlement per product and journal transaction (the first one also releases the reservation).</summary>
    private IEnumerable<Task> SettleAsync(string reservationId, IReadOnlyCollection<string> products, List<(JournalPosition Position, JournalCommit Commit, IReadOnlyList<CheckoutRecord> Records)> segments, HashSet<string> fresh)
    {
        var settlements = new List<(string ProductId, int Units, long Version)>();
        foreach (var (_, commit, written) in segments)
        {
            foreach (var product in written.Where(r => fresh.Contains(r.CheckoutId)).SelectMany(r => r.UnitsSold()).Where(u => products.Contains(u.ProductId)).GroupBy(u => u.ProductId, StringComparer.Ordinal))
            {
                settlements.Add((product.Key, product.Sum(u => u.Units), commit.Stock[product.Key].Version));
            }
        }
        settlements.AddRange(products.Where(p => settlements.All(s => s.ProductId != p)).Select(p => (p, 0, 0L)));
        return settlements.Select(async settlement =>
        {
            try
            {
                await Product(settlement.ProductId).SettleAsync(reservationId, settlement.Units, settlement.Version);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The reservation goes stale and the product reads its journal row again.
                logger.CheckoutStepDeferred(exception, "settle", 0);
            }
        });
    }

    /// <summary>One settlement per deal of the window: the checkouts the journal sold it to, and its row's counts after.</summary>
    private IEnumerable<Task> SettleDealsAsync(string reservationId, IReadOnlyCollection<string> deals, List<(JournalPosition Position, JournalCommit Commit, IReadOnlyList<CheckoutRecord> Records)> segments, HashSet<string> fresh) =>
        deals.Select(async dealId =>
        {
            var sold = new List<string>();
            StockCounts? counts = null;
            foreach (var (_, commit, written) in segments)
            {
                foreach (var record in written.Where(r => fresh.Contains(r.CheckoutId) && r.DealUnits().Any(u => u.DealId == dealId)))
                {
                    sold.Add(record.CheckoutId);
                }
                if (commit.Stock.TryGetValue(dealId, out var after) && (counts is null || after.Version > counts.Version))
                {
                    counts = after;
                }
            }
            try
            {
                await grains.GetGrain<IFlashDealGrain>(dealId).SettleAsync(reservationId, sold, counts);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The deal's hold goes stale and the deal reads its journal row again.
                logger.CheckoutStepDeferred(exception, "settle deal", 0);
            }
        });

    /// <summary>
    /// A replay that was charged in its window: when the key's first decision was a refusal its money goes back; either
    /// way its intent is done with (the charge is the first decision's own payment, or refunded).
    /// </summary>
    private async Task SettleReplayedChargeAsync(Pending pending, Dictionary<string, CheckoutRecord> firstRecords)
    {
        if (pending.Record is not { Failure: null } own)
        {
            return;
        }
        if (firstRecords.TryGetValue(pending.CheckoutId, out var first) && first.Failure is not null)
        {
            await RefundChargeAsync(own);
            return;
        }
        await ForgetChargeAsync(pending.CheckoutId);
    }

    /// <summary>Refunds a charge whose checkout did not sell; its intent stays for the reconciler if the refund fails.</summary>
    private async Task RefundChargeAsync(CheckoutRecord charged)
    {
        try
        {
            await payments.RefundAsync($"{charged.CheckoutId}/void", charged.Orders[0].PaymentId, charged.Orders.Sum(o => o.TotalMinor), charged.Orders[0].Currency);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.CheckoutStepDeferred(exception, "refund", 1);
            return;
        }
        await ForgetChargeAsync(charged.CheckoutId);
    }

    private async Task ForgetChargeAsync(string checkoutId)
    {
        try
        {
            await journal.ForgetChargeAsync(checkoutId);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The reconciler will find the intent, see the journalled outcome and settle it.
            logger.CheckoutStepDeferred(exception, "forget charge intent", 1);
        }
    }

    private IProductGrain Product(string productId)
    {
        if (_products.TryGetValue(productId, out var product))
        {
            return product;
        }
        if (_products.Count >= MaxCachedReferences)
        {
            _products.Clear();
        }
        return _products[productId] = grains.GetGrain<IProductGrain>(productId);
    }

    private static OrderDraft[] Drafts(Pending pending, DateTimeOffset now)
    {
        var quotes = pending.Quotes.Select(q => q!).ToArray();
        return pending.Items.Select((item, i) => (Item: item, Quote: quotes[i], DealId: pending.DealIds[i]))
            .GroupBy(line => line.Quote.BrandId, StringComparer.Ordinal)
            .Select(brand => new OrderDraft(
                Identifiers.Derived(IdPrefixes.Order, pending.CheckoutId, brand.Key), pending.CheckoutId, pending.ShopperId, brand.Key,
                quotes[0].Currency, PaymentId: "", now, brand.First().Quote.Terms.ReturnWindowDays,
                brand.Select(line => Line(line.Item, line.Quote, pending.ShopperId, pending.Live, line.DealId, now)).ToArray()))
            .ToArray();
    }

    /// <summary>
    /// A line as sold. An attributed line freezes the highest rate that applies to its creator now (the product's, a
    /// plan's, or a locked one; see <see cref="Collaborations.CommissionTerms.For"/>) with where it came from.
    /// </summary>
    private static OrderLine Line(CheckoutItem item, ProductQuote quote, string shopperId, LiveTerms? live, string? dealId, DateTimeOffset now)
    {
        if (item.LiveSessionId is { } sessionId && live is not null)
        {
            // Bought in a live session: its creator earns (on the price paid), unless the creator is the shopper.
            if (string.Equals(live.CreatorShopperId, shopperId, StringComparison.Ordinal))
            {
                return new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, null, null, null, sessionId, dealId);
            }
            var liveRate = quote.RateFor(live.CreatorId, linkedAt: null, now);
            return new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, null, live.CreatorId, liveRate.CommissionBps, sessionId, dealId, liveRate.Source);
        }
        // Direct attribution only: the click must be on a link for this very product, inside its window, by someone else.
        var click = item.Click;
        if (click is null || click.ProductId != item.ProductId || !click.Attributes(shopperId, now))
        {
            return new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, null, null, null);
        }
        if (click.CampaignId is { } campaignId)
        {
            // The latest click was on the brand's ad: the campaign gets the sale, no creator earns.
            return new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, null, null, null, CampaignId: campaignId);
        }
        var rate = quote.RateFor(click.CreatorId, click.LinkedAt, now);
        return new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, click.Code, click.CreatorId, rate.CommissionBps, RateSource: rate.Source);
    }

    private static Outcome<CheckoutReceipt> Answer(CheckoutRecord record) =>
        record.Failure is { } failure
            ? failure
            : Outcome<CheckoutReceipt>.Ok(new CheckoutReceipt(record.CheckoutId, record.Orders.Select(o => OrderState.Placed(o).View()).ToArray()));

    private readonly record struct Decision(Outcome<CheckoutReceipt> Outcome, bool FirstTime);

    private sealed record Prepared(string ReservationId, IReadOnlyCollection<string> Products, IReadOnlyCollection<string> Deals, List<CheckoutRecord> Records);

    private sealed class Pending(string checkoutId, string shopperId, IReadOnlyList<CheckoutItem> items, string? paymentToken, string kind)
    {
        public string CheckoutId { get; } = checkoutId;
        public string ShopperId { get; } = shopperId;
        public IReadOnlyList<CheckoutItem> Items { get; } = items;
        public string? PaymentToken { get; } = paymentToken;
        public string Kind { get; } = kind;
        public ProductQuote?[] Quotes { get; } = new ProductQuote?[items.Count];

        /// <summary>Per item, the flash deal that granted its units (at the deal's price), if any.</summary>
        public string?[] DealIds { get; } = new string?[items.Count];
        public Failure? Refusal { get; set; }

        /// <summary>The key's first outcome, when the journal had it before this window.</summary>
        public CheckoutRecord? Known { get; set; }
        public OrderDraft[]? Drafts { get; set; }

        /// <summary>The live session a live buy sells in, as the window found it.</summary>
        public LiveTerms? Live { get; set; }

        /// <summary>What this request would journal: its orders, or a refusal that is a decision of its key.</summary>
        public CheckoutRecord? Record { get; set; }

        public TaskCompletionSource<Decision> Decided { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The request's trace, when it is recorded.</summary>
        public ActivityContext Trace { get; } = Activity.Current is { Recorded: true } current ? current.Context : default;
    }
}
