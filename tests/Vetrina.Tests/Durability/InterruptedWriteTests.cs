using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Orders;

namespace Vetrina.Tests.Durability;

/// <summary>
/// A grain interrupted right after a state write (its silo dies, or the next step throws) must not strand the
/// work that write promised: the reminder that finishes it has to exist before the write, not after it.
/// </summary>
public sealed class InterruptedWriteTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly StorageFaults _faults = new();
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;
    private IGrainFactory _grains = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", clock: _clock, faults: _faults,
            settings: new Dictionary<string, string> { ["Vetrina:Checkout:HoldSweepInterval"] = "00:00:00.100" });
        _api = _server.Api;
        _grains = _server.Services.GetRequiredService<IGrainFactory>();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_delivery_interrupted_after_its_write_still_settles_when_the_return_window_ends()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000, returnWindowDays: 14);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, await _api.CreateProductAsync(brand, priceMinor: 3000));
        var orderId = (await _api.BuyAsync(code, "interrupted-delivery")).Expect(HttpStatusCode.Created).Str("orderId");
        (await _api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK);

        _faults.InterruptAfterNextWrite(_grains.GetGrain<IOrderGrain>(orderId).GetGrainId());
        Assert.NotEqual(HttpStatusCode.OK, (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Status);
        Assert.Equal("delivered", (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK).Str("status"));
        _clock.Advance(TimeSpan.FromDays(14) + TimeSpan.FromSeconds(1));

        await Eventually.HoldsAsync(() => _api.OrderAsync(orderId), o => o.GetProperty("status").GetString() == "completed", Deadline,
            because: "the settlement reminder exists although the delivery was interrupted right after its write");
        await Eventually.HoldsAsync(() => _api.EarningsAsync(creator.Id, "EUR"), e => e == (0L, 300L, 0L, 0L), Deadline,
            because: "the settlement's effect on the ledger follows the order's write");
    }

    [Fact]
    public async Task The_effects_of_a_cancellation_interrupted_after_its_write_are_delivered_without_another_request_to_the_order()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 10);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var orderId = (await _api.BuyAsync(code, "interrupted-cancel", 3)).Expect(HttpStatusCode.Created).Str("orderId");

        _faults.InterruptAfterNextWrite(_grains.GetGrain<IOrderGrain>(orderId).GetGrainId());
        Assert.NotEqual(HttpStatusCode.OK, (await _api.PostAsync($"/api/orders/{orderId}/cancel", null)).Status);

        await Eventually.HoldsAsync(() => _api.ProductAsync(product), p => p.GetProperty("available").GetInt32() == 10, Deadline,
            because: "the outbox of the written cancellation is delivered by its reminder");
        Assert.Equal((0L, 0L, 0L, 300L), await Eventually.HoldsAsync(() => _api.EarningsAsync(creator.Id, "EUR"), e => e.Reversed == 300, Deadline));
    }

    [Fact]
    public async Task An_order_whose_outbox_was_never_emptied_does_not_pay_commission_twice_when_it_wakes_days_later()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 10));
        var orderId = Identifiers.Derived(IdPrefixes.Order, CheckoutIds.For("late-waker", "late-1"), brand.Id);
        var order = _grains.GetGrain<IOrderGrain>(orderId).GetGrainId();

        // The placement is stored and its effects delivered; the write that empties the outbox is lost, as in a
        // crash just after the answer. Storage keeps an outbox of effects that were applied.
        _faults.LoseWrite(order, writesLetThrough: 1);
        Assert.Equal(orderId, (await _api.BuyAsync(code, "late-waker", idempotencyKey: "late-1")).Expect(HttpStatusCode.Created).Str("orderId"));
        await Eventually.HoldsAsync(() => Task.FromResult(_faults.WasLost(order)), lost => lost, Deadline, because: "the outbox clear follows the answer");
        Assert.Equal((100L, 0L, 0L, 0L), await _api.EarningsAsync(creator.Id, "EUR"));

        // Days later the creator earns again, which is when it looks at what it still remembers: it asks the old
        // order, which wakes with its stored outbox still naming the first commission, and empties it.
        _clock.Advance(TimeSpan.FromDays(3));
        (await _api.BuyAsync(code, "another-shopper")).Expect(HttpStatusCode.Created);
        await Eventually.HoldsAsync(() => Task.FromResult(_faults.StoredWrites(order)), writes => writes == 2, Deadline,
            because: "the targets' question wakes the order and its outbox is written empty");
        (await _api.GetAsync($"/api/orders/{orderId}", brand.Key)).Expect(HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromDays(3));
        (await _api.BuyAsync(code, "a-third-shopper")).Expect(HttpStatusCode.Created);

        Assert.Equal((300L, 0L, 0L, 0L), await _api.EarningsAsync(creator.Id, "EUR"));
        var stats = (await _api.GetAsync($"/api/links/{code}/stats", creator.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal((3L, 300L), (stats.Number("orders"), stats.Number("commissionMinor")));
    }

    [Fact]
    public async Task Ids_a_target_forgot_reach_storage_when_it_deactivates_so_stored_state_does_not_grow()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 10));
        (await _api.BuyAsync(code, "forgetful-shopper")).Expect(HttpStatusCode.Created);
        var storage = _server.Services.GetRequiredKeyedService<IGrainStorage>(StateStorage.Name);
        var creatorGrain = _grains.GetGrain<ICreatorGrain>(creator.Id).GetGrainId();

        // The sale's id is stored with the commission; once the order has emptied its outbox the creator forgets it
        // in memory, with no write of its own, and that must reach storage when the idle creator is deactivated.
        var stored = await Eventually.HoldsAsync(async () =>
        {
            await _grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            var state = new GrainState<CreatorState>();
            await storage.ReadStateAsync("creator", creatorGrain, state);
            return state.State!;
        }, state => state.Applied.Ids.Count == 0, Deadline, because: "the forgotten id is written when the creator deactivates");
        Assert.Equal(100, stored.Ledger.Snapshot().Single().PendingMinor);
    }

    [Fact]
    public async Task A_cancelled_order_whose_hold_confirmation_was_lost_returns_its_units_from_sold_not_from_reserved()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 10);
        var code = await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product);

        // The product's writes: its creation (done), the hold; the confirmation, beside the checkout's Completed
        // write, is lost. The buy fails; its retry answers from the completed checkout.
        _faults.LoseWrite(_grains.GetGrain<IProductGrain>(product).GetGrainId(), writesLetThrough: 1);
        Assert.NotEqual(HttpStatusCode.Created, (await _api.BuyAsync(code, "unconfirmed", 3, idempotencyKey: "lost-confirm")).Status);
        var orderId = (await _api.BuyAsync(code, "unconfirmed", 3, idempotencyKey: "lost-confirm")).Expect(HttpStatusCode.Created).Str("orderId");
        var held = await _api.ProductAsync(product);
        Assert.Equal((7, 3, 0), (held.GetProperty("available").GetInt32(), held.GetProperty("reserved").GetInt32(), held.GetProperty("sold").GetInt32()));

        // Cancelled before the sweep confirms the hold: the restock sells the held units first, then takes them back.
        (await _api.PostAsync($"/api/orders/{orderId}/cancel", null)).Expect(HttpStatusCode.OK);
        var view = await Eventually.HoldsAsync(() => _api.ProductAsync(product), p => p.GetProperty("available").GetInt32() == 10, Deadline,
            because: "the cancellation's restock reaches the product");
        Assert.Equal((0, 0, 10), (view.GetProperty("reserved").GetInt32(), view.GetProperty("sold").GetInt32(), view.GetProperty("stocked").GetInt32()));
    }

    [Fact]
    public async Task A_hold_interrupted_after_its_write_is_swept_and_returned_to_stock()
    {
        var product = await _api.CreateProductAsync(await _api.CreateBrandAsync(), stock: 5);
        var code = await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product);

        var grain = _grains.GetGrain<IProductGrain>(product).GetGrainId();

        _faults.InterruptAfterNextWrite(grain);
        Assert.NotEqual(HttpStatusCode.Created, (await _api.BuyAsync(code, "interrupted-hold", 2)).Status);

        // Nothing has called the product since its write: after a crash only this reminder would bring it back.
        Assert.NotNull(await _server.Services.GetRequiredService<IReminderTable>().ReadRow(grain, "holds"));
        Assert.Equal(2, (await _api.ProductAsync(product)).GetProperty("reserved").GetInt32());
        _clock.Advance(TimeSpan.FromMinutes(5));

        var view = await Eventually.HoldsAsync(() => _api.ProductAsync(product), p => p.GetProperty("reserved").GetInt32() == 0, Deadline,
            because: "the hold's sweep exists although the hold was interrupted right after its write");
        Assert.Equal((5, 0), (view.GetProperty("available").GetInt32(), view.GetProperty("sold").GetInt32()));
    }
}
