using System.Globalization;
using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// Creator money over real HTTP on one silo with a fake clock: chargebacks, freezes, payouts and statements, and
/// generated sequences of all of them after each step of which every ledger equals the formula over its lines.
/// </summary>
public sealed class CreatorMoneyTests : IAsyncLifetime
{
    private const string Currency = "EUR";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock,
        settings: new Dictionary<string, string> { ["Vetrina:Payouts:PageSize"] = "64" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task A_chargeback_after_payout_becomes_carry_that_the_next_payout_nets_first()
    {
        var (brand, code, creator) = await SellerAsync(priceMinor: 10_000, commissionBps: 1000);
        var first = await PaidOrderAsync(code, "carry-1", 2);    // 2,000 commission
        var second = await PaidOrderAsync(code, "carry-2", 1);   // 1,000 commission
        await CompleteAsync(brand, first);
        var run = await PayoutRunAsync(minimumMinor: 0);
        Assert.Equal(2000, PaidTo(run, creator.Id));
        await Eventually.ProjectedAsync((1000L, 0L, 2000L, 0L, 0L), () => BalanceAsync(creator.Id));

        // The paid order is charged back: its 2,000 was paid, so the creator now owes it back.
        var chargedBack = (await Api.PostAsync($"/api/orders/{first}/chargeback", new { reason = "bank dispute" })).Expect(HttpStatusCode.OK);
        Assert.Equal("chargedBack", chargedBack.Str("status"));
        Assert.Equal(0, chargedBack.Body.GetProperty("lines")[0].GetProperty("commissionMinor").GetInt64());
        await Eventually.ProjectedAsync((1000L, 0L, 2000L, 0L, 2000L), () => BalanceAsync(creator.Id));

        // The next settled commission (1,000) is less than the carry: nothing is paid; a later 3,000 pays 2,000 net.
        await CompleteAsync(brand, second);
        Assert.Equal(0, PaidTo(await PayoutRunAsync(minimumMinor: 0), creator.Id));
        var third = await PaidOrderAsync(code, "carry-3", 3);
        await CompleteAsync(brand, third);
        await Eventually.ProjectedAsync((0L, 4000L, 2000L, 0L, 2000L), () => BalanceAsync(creator.Id));
        Assert.Equal(2000, PaidTo(await PayoutRunAsync(minimumMinor: 0), creator.Id));
        await Eventually.ProjectedAsync((0L, 0L, 4000L, 0L, 0L), () => BalanceAsync(creator.Id));

        var statement = await StatementAsync(creator, null, null);
        Assert.Equal((0L, 6000L, 2000L, 4000L, 0L), (statement.Opening, statement.Earned, statement.Reversed, statement.Paid, statement.Closing));
        Assert.Contains(statement.Entries, e => e.Kind == "reversed" && e.OrderId == first && e.Amount == 2000);
        var payouts = (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", creator.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal([2000L, 2000L], payouts.EnumerateArray().Select(p => p.GetProperty("amountMinor").GetInt64()).Order());
    }

    [Fact]
    public async Task Frozen_commission_neither_settles_nor_pays_until_unfrozen()
    {
        var (brand, code, creator) = await SellerAsync(priceMinor: 5000, commissionBps: 2000);
        var order = await PaidOrderAsync(code, "frozen-1", 2);   // 2,000 commission
        _clock.Advance(TimeSpan.FromMinutes(1));
        var frozen = (await Api.PostAsync($"/api/orders/{order}/freeze", new { reason = "review" })).Expect(HttpStatusCode.OK);
        Assert.True(frozen.Body.GetProperty("commissionFrozen").GetBoolean());
        await Eventually.ProjectedAsync((0L, 0L, 0L, 2000L, 0L), () => BalanceAsync(creator.Id));

        await CompleteAsync(brand, order);
        Assert.Equal(0, PaidTo(await PayoutRunAsync(minimumMinor: 0), creator.Id));
        await Eventually.ProjectedAsync((0L, 0L, 0L, 2000L, 0L), () => BalanceAsync(creator.Id));

        (await Api.PostAsync($"/api/orders/{order}/unfreeze", new { reason = "cleared" })).Expect(HttpStatusCode.OK);
        await Eventually.ProjectedAsync((0L, 2000L, 0L, 0L, 0L), () => BalanceAsync(creator.Id));
        Assert.Equal(2000, PaidTo(await PayoutRunAsync(minimumMinor: 0), creator.Id));
        var statement = await StatementAsync(creator, null, null);
        Assert.Equal(["earned", "frozen", "unfrozen", "paid"], statement.Entries.Select(e => e.Kind));
        Assert.Equal(0, statement.Closing);
    }

    [Fact]
    public async Task A_payout_run_retried_concurrently_pays_each_creator_once_and_answers_the_same_run()
    {
        var creators = new List<Party>();
        for (var i = 0; i < 150; i++)
        {
            var (brand, code, creator) = await SellerAsync(priceMinor: 10_000 + 10 * i, commissionBps: 1000);
            await CompleteAsync(brand, await PaidOrderAsync(code, $"run-{i}", 1));
            creators.Add(creator);
        }
        foreach (var creator in creators)
        {
            await Eventually.HoldsAsync(() => BalanceAsync(creator.Id), b => b.Settled > 0);
        }

        // Eight sends of one key and four of another, all at once, with the default minimum of 1,000: each creator's
        // 1,000 + i is paid once, by whichever run reaches it first, and every send of a key answers the same run.
        var key = Guid.NewGuid().ToString("N");
        var other = Guid.NewGuid().ToString("N");
        var replies = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            Api.PostAsync("/api/payouts/runs", new { currency = Currency }, idempotencyKey: i < 8 ? key : other)));
        var runs = replies.Select(r => r.Expect(HttpStatusCode.Created)).ToArray();
        Assert.Single(runs.Take(8).Select(r => r.Raw).Distinct());
        Assert.Single(runs.Skip(8).Select(r => r.Raw).Distinct());
        var again = (await Api.PostAsync("/api/payouts/runs", new { currency = Currency }, idempotencyKey: key)).Expect(HttpStatusCode.Created);
        Assert.Equal(runs[0].Raw, again.Raw);
        for (var i = 0; i < creators.Count; i++)
        {
            var creator = creators[i];
            Assert.Equal(1000 + i, PaidTo(runs[0], creator.Id) + PaidTo(runs[^1], creator.Id));
            var balance = await BalanceAsync(creator.Id);
            Assert.Equal((0L, 1000L + i), (balance.Settled, balance.Paid));
            var payouts = (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", creator.Key)).Expect(HttpStatusCode.OK).Body;
            Assert.Equal(1, payouts.GetArrayLength());
            Assert.Equal(1000 + i, payouts[0].GetProperty("amountMinor").GetInt64());
        }
        // The same key with other terms is a conflict, and changes nothing.
        (await Api.PostAsync("/api/payouts/runs", new { currency = "USD" }, idempotencyKey: key)).Expect(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Statements_chain_period_to_period_and_close_on_the_earnings()
    {
        var (brand, code, creator) = await SellerAsync(priceMinor: 3000, commissionBps: 1500);
        var cuts = new List<DateTimeOffset> { _clock.GetUtcNow() };
        var orders = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            orders.Add(await PaidOrderAsync(code, $"chain-{i}", i + 1));
            _clock.Advance(TimeSpan.FromHours(1));
            cuts.Add(_clock.GetUtcNow());
        }
        (await Api.PostAsync($"/api/orders/{orders[1]}/cancel", null)).Expect(HttpStatusCode.OK);
        await CompleteAsync(brand, orders[0]);
        await PayoutRunAsync(minimumMinor: 0);
        _clock.Advance(TimeSpan.FromHours(1));
        cuts.Add(_clock.GetUtcNow());
        var balance = await Eventually.HoldsAsync(() => BalanceAsync(creator.Id), b => b.Paid == 450);

        long? previousClosing = null;
        for (var i = 1; i < cuts.Count; i++)
        {
            var period = await StatementAsync(creator, cuts[i - 1], cuts[i]);
            Assert.Equal(period.Opening + period.Earned - period.Reversed - period.Paid, period.Closing);
            if (previousClosing is { } closing)
            {
                Assert.Equal(closing, period.Opening);
            }
            previousClosing = period.Closing;
        }
        Assert.Equal(balance.Pending + balance.Settled + balance.Frozen - balance.Carry, previousClosing);
        (await Api.GetAsync($"/api/creators/{creator.Id}/statement?currency=EUR&from=yesterday", creator.Key)).Expect(HttpStatusCode.BadRequest);
        (await Api.GetAsync($"/api/creators/{creator.Id}/statement?currency=EURO", creator.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.GetAsync($"/api/creators/{creator.Id}/statement?currency=EUR&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", creator.Key))
            .Expect(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Money_routes_refuse_the_wrong_key_and_bad_input_and_change_nothing()
    {
        var (brand, code, creator) = await SellerAsync(priceMinor: 2000, commissionBps: 1000);
        var stranger = await Api.CreateCreatorAsync();
        var order = await PaidOrderAsync(code, "refusals", 1);

        (await Api.GetAsync($"/api/creators/{creator.Id}/statement?currency=EUR", stranger.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", stranger.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", brand.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", "not-a-key")).Expect(HttpStatusCode.Unauthorized);
        (await Api.PostAsync("/api/payouts/runs", new { currency = Currency }, creator.Key, idempotencyKey: "x")).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync("/api/payouts/runs", new { currency = Currency }, brand.Key, idempotencyKey: "x")).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync($"/api/orders/{order}/chargeback", new { reason = "x" }, brand.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync($"/api/orders/{order}/freeze", new { reason = "x" }, creator.Key)).Expect(HttpStatusCode.Forbidden);

        (await Api.PostAsync("/api/payouts/runs", new { currency = Currency })).Expect(HttpStatusCode.BadRequest);    // no Idempotency-Key
        (await Api.PostAsync("/api/payouts/runs", new { currency = "XXX" }, idempotencyKey: "bad-currency")).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync("/api/payouts/runs", new { currency = Currency, minimumMinor = -1 }, idempotencyKey: "bad-minimum")).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync($"/api/orders/{order}/chargeback", new { reason = "" })).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync($"/api/orders/{order}/freeze", new { })).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync("/api/orders/o_0000000000000000000000/chargeback", new { reason = "x" })).Expect(HttpStatusCode.NotFound);
        (await Api.GetAsync("/api/payouts/runs/r_0000000000000000000000")).Expect(HttpStatusCode.NotFound);

        var view = await Api.OrderAsync(order);
        Assert.Equal("paid", view.GetProperty("status").GetString());
        Assert.False(view.GetProperty("commissionFrozen").GetBoolean());
        (await Api.PostAsync($"/api/orders/{order}/cancel", null)).Expect(HttpStatusCode.OK);
        (await Api.PostAsync($"/api/orders/{order}/chargeback", new { reason = "late" })).Expect(HttpStatusCode.Conflict);
        (await Api.PostAsync($"/api/orders/{order}/freeze", new { reason = "late" })).Expect(HttpStatusCode.Conflict);
    }

    /// <summary>
    /// 1,000 generated sequences of buys, cancels, partial refunds, deliveries with the clock moved past the return
    /// window, freezes, chargebacks (before and after payout) and payout runs (some sent twice at once), 40 at a time.
    /// After each step the creator's ledger equals the formula over its order lines (as the orders read back), its
    /// statements chain at a random cut and close on its balance, and its payouts sum to what it was paid.
    /// </summary>
    [Fact]
    public async Task Generated_sequences_keep_every_ledger_equal_to_the_formula_over_its_lines()
    {
        const int Sequences = 1000;
        var seed = Environment.TickCount;
        var failures = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Sequences), new ParallelOptions { MaxDegreeOfParallelism = 40 }, async (n, _) =>
        {
            var random = new Random(seed + n);
            var steps = new List<string>();
            try
            {
                await RunSequenceAsync(random, n, steps);
            }
            catch (Exception exception)
            {
                lock (failures)
                {
                    failures.Add($"sequence {n} (seed {seed + n}) after [{string.Join(", ", steps)}]: {exception.Message}");
                }
            }
        });
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
    }

    private async Task RunSequenceAsync(Random random, int n, List<string> steps)
    {
        var (brand, code, creator) = await SellerAsync(priceMinor: random.Next(100, 20_000), commissionBps: random.Next(0, 3000));
        var orders = new List<string>();
        var length = random.Next(4, 10);
        for (var step = 0; step < length; step++)
        {
            var order = orders.Count == 0 ? null : orders[random.Next(orders.Count)];
            var action = orders.Count == 0 ? 0 : random.Next(9);
            switch (action)
            {
                case 0 or 1:
                    orders.Add(await PaidOrderAsync(code, $"seq-{n}-{step}", random.Next(1, 4)));
                    steps.Add("buy");
                    break;
                case 2:
                    steps.Add("cancel");
                    await Api.PostAsync($"/api/orders/{order}/cancel", null);
                    break;
                case 3:
                    steps.Add("deliver");
                    await Api.PostAsync($"/api/orders/{order}/ship", null, brand.Key);
                    await Api.PostAsync($"/api/orders/{order}/deliver", null, brand.Key);
                    break;
                case 4:
                    steps.Add("refund");
                    var view = await Api.OrderAsync(order!);
                    var line = view.GetProperty("lines")[0];
                    var kept = line.GetProperty("quantity").GetInt32() - line.GetProperty("refundedQuantity").GetInt32();
                    if (kept > 0)
                    {
                        await Api.PostAsync($"/api/orders/{order}/refunds",
                            new { lines = new[] { new { productId = line.GetProperty("productId").GetString(), quantity = random.Next(1, kept + 1) } } });
                    }
                    break;
                case 5:
                    steps.Add("past-return-window");
                    lock (_clock)
                    {
                        _clock.Advance(TimeSpan.FromDays(2));
                    }
                    break;
                case 6:
                    var freeze = random.Next(2) == 0;
                    steps.Add(freeze ? "freeze" : "unfreeze");
                    await Api.PostAsync($"/api/orders/{order}/{(freeze ? "freeze" : "unfreeze")}", new { reason = "review" });
                    break;
                case 7:
                    steps.Add("chargeback");
                    await Api.PostAsync($"/api/orders/{order}/chargeback", new { reason = "dispute" });
                    break;
                case 8:
                    // A payout run over every creator; a third of them are sent twice at once with the same key.
                    var twice = random.Next(3) == 0;
                    steps.Add(twice ? "payout-run-twice" : "payout-run");
                    var key = Guid.NewGuid().ToString("N");
                    var minimum = random.Next(2) == 0 ? 0 : 1000;
                    var sends = Enumerable.Range(0, twice ? 2 : 1)
                        .Select(_ => Api.PostAsync("/api/payouts/runs", new { currency = Currency, minimumMinor = minimum }, idempotencyKey: key));
                    var runs = await Task.WhenAll(sends);
                    Assert.All(runs, r => r.Expect(HttpStatusCode.Created));
                    Assert.Single(runs.Select(r => r.Raw).Distinct());
                    break;
            }
            await LedgerMatchesFormulaAsync(creator, orders, random);
        }
    }

    /// <summary>Reads the orders and the creator's money until they agree (projections lag), or fails with the last difference.</summary>
    private async Task LedgerMatchesFormulaAsync(Party creator, IReadOnlyList<string> orders, Random random)
    {
        string? difference = null;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do
        {
            difference = await DifferenceAsync(creator, orders, random);
            if (difference is null)
            {
                return;
            }
            await Task.Delay(25);
        }
        while (DateTime.UtcNow < until);
        throw new Xunit.Sdk.XunitException(difference);
    }

    private async Task<string?> DifferenceAsync(Party creator, IReadOnlyList<string> orders, Random random)
    {
        long pending = 0, settledOrPaid = 0, frozen = 0, reversed = 0;
        foreach (var orderId in orders)
        {
            var order = await Api.OrderAsync(orderId);
            var line = order.GetProperty("lines")[0];
            // A line without a rate is not attributed and earns nothing (the formula's answer for it is 0).
            var bps = line.TryGetProperty("commissionBps", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetInt32() : 0;
            var price = line.GetProperty("unitPriceMinor").GetInt64();
            var quantity = line.GetProperty("quantity").GetInt32();
            var status = order.GetProperty("status").GetString();
            var keptQuantity = status is "cancelled" or "chargedBack" ? 0 : quantity - line.GetProperty("refundedQuantity").GetInt32();
            var commission = price * keptQuantity * bps / 10_000;
            Assert.Equal(commission, line.GetProperty("commissionMinor").GetInt64());
            reversed += price * quantity * bps / 10_000 - commission;
            if (order.GetProperty("commissionFrozen").GetBoolean())
            {
                frozen += commission;
            }
            else if (status == "completed")
            {
                settledOrPaid += commission;
            }
            else
            {
                pending += commission;
            }
        }
        var balance = await FullBalanceAsync(creator.Id);
        if ((balance.Pending, balance.Frozen, balance.Reversed, balance.Settled + balance.Paid - balance.Carry) != (pending, frozen, reversed, settledOrPaid))
        {
            return $"ledger {balance} != formula (pending {pending}, frozen {frozen}, reversed {reversed}, settled + paid - carry {settledOrPaid})";
        }
        var payouts = (await Api.GetAsync($"/api/creators/{creator.Id}/payouts", creator.Key)).Expect(HttpStatusCode.OK).Body;
        var paidOut = payouts.EnumerateArray().Sum(p => p.GetProperty("amountMinor").GetInt64());
        if (paidOut != balance.Paid)
        {
            return $"payouts sum to {paidOut}, paid balance is {balance.Paid}";
        }
        var whole = await StatementAsync(creator, null, null);
        var cut = DateTimeOffset.FromUnixTimeMilliseconds(whole.Entries.Count == 0 ? 0
            : whole.Entries[random.Next(whole.Entries.Count)].At.ToUnixTimeMilliseconds() + random.Next(0, 2));
        var early = await StatementAsync(creator, null, cut);
        var late = await StatementAsync(creator, cut, null);
        var owed = balance.Pending + balance.Settled + balance.Frozen - balance.Carry;
        if (early.Closing != late.Opening || late.Closing != whole.Closing || whole.Closing != owed || whole.Paid != balance.Paid)
        {
            return $"statements: whole {whole.Closing} (paid {whole.Paid}), early closing {early.Closing}, late opening {late.Opening} closing {late.Closing}; owed {owed}, paid {balance.Paid}";
        }
        return null;
    }

    private async Task<(Party Brand, string Code, Party Creator)> SellerAsync(long priceMinor, int commissionBps)
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: commissionBps, returnWindowDays: 1);
        var product = await Api.CreateProductAsync(brand, priceMinor: priceMinor, currency: Currency, stock: 1000);
        var creator = await Api.CreateCreatorAsync();
        return (brand, await Api.CreateLinkAsync(creator, product), creator);
    }

    private async Task<string> PaidOrderAsync(string code, string shopperId, int quantity) =>
        (await Api.BuyAsync(code, shopperId, quantity)).Expect(HttpStatusCode.Created).Str("orderId");

    /// <summary>Ships and delivers the order, moves the clock past its return window and waits until it completes.</summary>
    private async Task CompleteAsync(Party brand, string orderId)
    {
        (await Api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);
        (await Api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
        lock (_clock)
        {
            _clock.Advance(TimeSpan.FromDays(2));
        }
        await Eventually.HoldsAsync(() => Api.OrderAsync(orderId), o => o.GetProperty("status").GetString() == "completed");
    }

    private sealed record Run(string Key, Reply Reply);

    private async Task<Run> PayoutRunAsync(long minimumMinor)
    {
        var key = Guid.NewGuid().ToString("N");
        var reply = (await Api.PostAsync("/api/payouts/runs", new { currency = Currency, minimumMinor }, idempotencyKey: key)).Expect(HttpStatusCode.Created);
        Assert.Equal("completed", reply.Str("status"));
        Assert.Equal(reply.Body.GetProperty("payouts").EnumerateArray().Sum(p => p.GetProperty("amountMinor").GetInt64()), reply.Number("totalMinor"));
        return new Run(key, reply);
    }

    private static long PaidTo(Run run, string creatorId) => PaidTo(run.Reply, creatorId);

    private static long PaidTo(Reply run, string creatorId) => run.Body.GetProperty("payouts").EnumerateArray()
        .Where(p => p.GetProperty("creatorId").GetString() == creatorId).Sum(p => p.GetProperty("amountMinor").GetInt64());

    private async Task<(long Pending, long Settled, long Paid, long Frozen, long Carry)> BalanceAsync(string creatorId)
    {
        var full = await FullBalanceAsync(creatorId);
        return (full.Pending, full.Settled, full.Paid, full.Frozen, full.Carry);
    }

    private async Task<(long Pending, long Settled, long Paid, long Frozen, long Carry, long Reversed)> FullBalanceAsync(string creatorId)
    {
        var balances = (await Api.GetAsync($"/api/creators/{creatorId}/earnings")).Expect(HttpStatusCode.OK).Body.GetProperty("balances");
        foreach (var b in balances.EnumerateArray().Where(b => b.GetProperty("currency").GetString() == Currency))
        {
            return (b.GetProperty("pendingMinor").GetInt64(), b.GetProperty("settledMinor").GetInt64(), b.GetProperty("paidMinor").GetInt64(),
                b.GetProperty("frozenMinor").GetInt64(), b.GetProperty("carryMinor").GetInt64(), b.GetProperty("reversedMinor").GetInt64());
        }
        return default;
    }

    private sealed record Entry(string Kind, string? OrderId, long Amount, DateTimeOffset At);

    private sealed record StatementRead(long Opening, long Earned, long Reversed, long Paid, long Closing, IReadOnlyList<Entry> Entries);

    private async Task<StatementRead> StatementAsync(Party creator, DateTimeOffset? from, DateTimeOffset? to)
    {
        var query = "currency=EUR" + (from is { } f ? "&from=" + Uri.EscapeDataString(f.ToString("O", CultureInfo.InvariantCulture)) : "")
            + (to is { } t ? "&to=" + Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture)) : "");
        var body = (await Api.GetAsync($"/api/creators/{creator.Id}/statement?{query}", creator.Key)).Expect(HttpStatusCode.OK).Body;
        var entries = body.GetProperty("entries").EnumerateArray().Select(e => new Entry(e.GetProperty("kind").GetString()!,
            e.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
            e.GetProperty("amountMinor").GetInt64(), e.GetProperty("at").GetDateTimeOffset())).ToArray();
        return new StatementRead(body.GetProperty("openingMinor").GetInt64(), body.GetProperty("earnedMinor").GetInt64(),
            body.GetProperty("reversedMinor").GetInt64(), body.GetProperty("paidMinor").GetInt64(), body.GetProperty("closingMinor").GetInt64(), entries);
    }
}
