using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Payments;

namespace Vetrina.Tests.Durability;

/// <summary>
/// The crash point between a charge and its journal transaction: the desk recorded its intent and charged, then its
/// silo died, and the shopper never retried. The charge must be voided, and a late retry of the key must then get
/// the abandoned answer instead of an order paid by a refunded payment. The dead desk's steps are made directly.
/// </summary>
public sealed class AbandonedChargeTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly TestPaymentGateway _payments = new();
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", clock: _clock,
            settings: new Dictionary<string, string> { ["Vetrina:Checkout:AbandonedChargeCheckInterval"] = "00:00:00.100" },
            services: services => services.AddSingleton<IPaymentGateway>(_payments));
        _api = _server.Api;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_charge_whose_checkout_never_reached_the_journal_is_voided_and_its_key_answers_abandoned()
    {
        var product = await _api.CreateProductAsync(await _api.CreateBrandAsync(), priceMinor: 1500, stock: 10);
        var code = await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product);
        var journal = _server.Services.GetRequiredService<ISalesJournal>();
        var lost = CheckoutIds.For("lost-shopper", "lost-key");
        await journal.RecordChargesAsync([new ChargeIntent(lost, 1500, "EUR", _clock.GetUtcNow())]);
        Assert.True((await _payments.ChargeAsync(lost, 1500, "EUR", null)).Approved);
        // A buy that completes normally: its commit clears its intent, so its charge stands.
        var kept = (await _api.BuyAsync(code, "kept-shopper", idempotencyKey: "kept-key")).Expect(HttpStatusCode.Created);

        _clock.Advance(TimeSpan.FromMinutes(3));

        await Eventually.HoldsAsync(() => Task.FromResult(_payments.Voided.ContainsKey(lost)), voided => voided,
            because: "the abandoned charge is found and voided");
        var late = await _api.BuyAsync(code, "lost-shopper", idempotencyKey: "lost-key");
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.Contains("abandoned", late.Raw, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(9, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        Assert.False(_payments.Voided.ContainsKey(CheckoutIds.For("kept-shopper", "kept-key")));
        Assert.Equal(kept.Str("orderId"), (await _api.BuyAsync(code, "kept-shopper", idempotencyKey: "kept-key")).Expect(HttpStatusCode.Created).Str("orderId"));
        Assert.Empty(await journal.UnsettledChargesAsync(_clock.GetUtcNow()));
    }
}
