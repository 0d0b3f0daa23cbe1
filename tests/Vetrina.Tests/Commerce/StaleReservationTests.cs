using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Orders;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// A desk can reserve stock for a window and die before it settles, before or after the window's journal
/// transaction. The product must then learn from the journal what was sold: the units come back on sale when
/// nothing was, and count as sold exactly once when they were. The dead desk's calls are made directly on the
/// product grain and the journal, as that desk would have left them.
/// </summary>
public sealed class StaleReservationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;
    private IGrainFactory _grains = null!;
    private ISalesJournal _journal = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", clock: _clock,
            settings: new Dictionary<string, string> { ["Vetrina:Checkout:ReservationSweepInterval"] = "00:00:00.100" });
        _api = _server.Api;
        _grains = _server.Services.GetRequiredService<IGrainFactory>();
        _journal = _server.Services.GetRequiredService<ISalesJournal>();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Units_of_a_window_that_never_reached_the_journal_come_back_on_sale()
    {
        var product = await _api.CreateProductAsync(await _api.CreateBrandAsync(), stock: 10);
        var reservation = await _grains.GetGrain<IProductGrain>(product).ReserveAsync("dead-desk/1", [new StockRequest("k_dead", 4, null)]);
        Assert.Null(reservation.Refusals[0]);
        await AssertStockAsync(product, available: 6, reserved: 4, sold: 0);

        _clock.Advance(TimeSpan.FromMinutes(1));

        await Eventually.HoldsAsync(() => _api.ProductAsync(product), p => p.GetProperty("reserved").GetInt32() == 0,
            because: "the sweep reads the journal again for the stale reservation");
        await AssertStockAsync(product, available: 10, reserved: 0, sold: 0);
    }

    [Fact]
    public async Task Units_of_a_window_the_journal_committed_count_as_sold_once()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 10);
        var reservation = await _grains.GetGrain<IProductGrain>(product).ReserveAsync("dead-desk/2", [new StockRequest("k_dead2", 3, null)]);
        Assert.Null(reservation.Refusals[0]);
        var order = new OrderDraft("o_dead2", "k_dead2", "shopper", brand.Id, "EUR", "pay_k_dead2", _clock.GetUtcNow(), 14,
            [new OrderLine(product, 3, reservation.Quote!.UnitPriceMinor, null, null, null)]);
        await _journal.CommitAsync(new JournalBatch(new JournalPosition("dead-desk", 2), [new CheckoutRecord("k_dead2", [order], null)]));
        // A live buy meanwhile settles normally; the stale window must not be counted twice after the sweep.
        (await _api.BuyAsync(await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product), "live-shopper", 1)).Expect(HttpStatusCode.Created);

        _clock.Advance(TimeSpan.FromMinutes(1));

        await Eventually.HoldsAsync(() => _api.ProductAsync(product), p => p.GetProperty("reserved").GetInt32() == 0,
            because: "the sweep reads the journal again for the stale reservation");
        await AssertStockAsync(product, available: 6, reserved: 0, sold: 4);
        var stock = await _journal.ReadStockAsync(product);
        Assert.Equal((10, 4), (stock!.Stocked, stock.Sold));
    }

    private async Task AssertStockAsync(string productId, int available, int reserved, int sold)
    {
        var view = await _api.ProductAsync(productId);
        Assert.Equal((available, reserved, sold),
            (view.GetProperty("available").GetInt32(), view.GetProperty("reserved").GetInt32(), view.GetProperty("sold").GetInt32()));
    }
}
