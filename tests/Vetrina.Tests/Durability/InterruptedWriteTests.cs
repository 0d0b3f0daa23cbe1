using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Journal;
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
            settings: new Dictionary<string, string> { ["Vetrina:Checkout:ReservationSweepInterval"] = "00:00:00.100" });
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
    public async Task A_journal_batch_projected_again_after_a_lost_answer_is_counted_once()
    {
        var creator = await _api.CreateCreatorAsync();
        var ledger = _grains.GetGrain<ICreatorGrain>(creator.Id);
        var batch = new JournalPosition("w_test", 7);
        var entry = new LedgerEntry("w_test/7", "EUR", PendingDelta: 100, SettledDelta: 0, ReversedDelta: 0);

        // The projection repeats a round until it lands: the second call is the repeat of a first whose answer was lost.
        await ledger.ProjectAsync(batch, [entry]);
        await ledger.ProjectAsync(batch, [entry]);
        await ledger.ProjectAsync(new JournalPosition("w_test", 6), [entry]);
        await Eventually.ProjectedAsync((100L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));

        // Another writer's batches have their own mark; the next batch of the same writer counts.
        await ledger.ProjectAsync(new JournalPosition("w_other", 1), [entry]);
        await ledger.ProjectAsync(new JournalPosition("w_test", 8), [entry]);
        await Eventually.ProjectedAsync((300L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Fact]
    public async Task Ids_a_target_forgot_reach_storage_when_it_deactivates_so_stored_state_does_not_grow()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 10));
        var orderId = (await _api.BuyAsync(code, "forgetful-shopper")).Expect(HttpStatusCode.Created).Str("orderId");
        await Eventually.HoldsAsync(() => _api.EarningsAsync(creator.Id, "EUR"), e => e.Pending == 100, Deadline, because: "the sale is projected");
        (await _api.PostAsync($"/api/orders/{orderId}/cancel", null)).Expect(HttpStatusCode.OK);
        var storage = _server.Services.GetRequiredKeyedService<IGrainStorage>(StateStorage.Name);
        var creatorGrain = _grains.GetGrain<ICreatorGrain>(creator.Id).GetGrainId();

        // The cancellation's id is stored with the reversal; once the order has emptied its outbox the creator forgets it
        // in memory, with no write of its own, and that must reach storage when the idle creator is deactivated.
        var stored = await Eventually.HoldsAsync(async () =>
        {
            await _grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            var state = new GrainState<CreatorState>();
            await storage.ReadStateAsync("creator", creatorGrain, state);
            return state.State!;
        }, state => state.Applied.Ids.Count == 0, Deadline, because: "the forgotten id is written when the creator deactivates");
        Assert.Equal((0L, 100L), (stored.Ledger.Snapshot().Single().PendingMinor, stored.Ledger.Snapshot().Single().ReversedMinor));
    }
}
