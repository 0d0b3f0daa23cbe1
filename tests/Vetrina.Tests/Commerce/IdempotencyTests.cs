namespace Vetrina.Tests.Commerce;

/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class IdempotencyTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    [Fact]
    public async Task The_same_key_sent_concurrently_and_then_again_yields_one_order()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await _api.CreateProductAsync(brand, priceMinor: 1000, stock: 100);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var key = "idem-" + Guid.NewGuid();

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => _api.BuyAsync(code, "idem-shopper", 2, key)));
        var sequential = new List<Reply>();
        for (var i = 0; i < 5; i++)
        {
            sequential.Add(await _api.BuyAsync(code, "idem-shopper", 2, key));
        }

        var all = concurrent.Concat(sequential).ToArray();
        Assert.All(all, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Single(all.Select(r => r.Str("orderId")).Distinct());
        Assert.Equal(98, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        await Eventually.ProjectedAsync(200L, async () => (await _api.EarningsAsync(creator.Id, "EUR")).Pending);
        // Clicks reach link stats from each silo's tally within a flush interval; the one tap counted once.
        var stats = await Eventually.HoldsAsync(() => _api.GetAsync($"/api/links/{code}/stats"), r => r.Number("clicks") > 0 && r.Number("orders") > 0,
            because: "the tallied click reaches the link");
        Assert.Equal(1, stats.Number("orders"));
        Assert.Equal(1, stats.Number("clicks"));
    }

    [Fact]
    public async Task A_repeated_checkout_returns_the_first_answer_even_when_it_was_a_refusal()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 5);
        var shopper = "idem-cart-" + Guid.NewGuid();
        await _api.PutInCartAsync(shopper, product, 1);

        var declined = await _api.CheckoutAsync(shopper, "k1", paymentToken: "tok_decline");
        var again = await _api.CheckoutAsync(shopper, "k1", paymentToken: "tok_ok");
        Assert.Equal(HttpStatusCode.PaymentRequired, declined.Status);
        Assert.Equal(HttpStatusCode.PaymentRequired, again.Status);
        Assert.Equal(5, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());

        var paid = (await _api.CheckoutAsync(shopper, "k2")).Expect(HttpStatusCode.Created);
        var paidAgain = (await _api.CheckoutAsync(shopper, "k2")).Expect(HttpStatusCode.Created);
        Assert.Equal(paid.Str("checkoutId"), paidAgain.Str("checkoutId"));
        Assert.Equal(4, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        Assert.Empty((await _api.GetAsync($"/api/carts/{shopper}")).Body.GetProperty("lines").EnumerateArray());
    }

    [Fact]
    public async Task The_same_key_from_another_shopper_is_another_checkout()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 5);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);

        var first = (await _api.BuyAsync(code, "shopper-a", 1, "shared-key")).Expect(HttpStatusCode.Created);
        var second = (await _api.BuyAsync(code, "shopper-b", 1, "shared-key")).Expect(HttpStatusCode.Created);

        Assert.NotEqual(first.Str("orderId"), second.Str("orderId"));
        Assert.Equal(3, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task Replays_of_an_answered_key_never_take_the_last_unit_from_a_new_buyer()
    {
        var brand = await _api.CreateBrandAsync();
        var creator = await _api.CreateCreatorAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        // Per product: one buyer takes the first of two units, then retries that key many times at the very moment
        // another shopper buys the last unit. The retries answer the first order; the new buyer always gets the unit.
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async p =>
        {
            var code = await _api.CreateLinkAsync(creator, await _api.CreateProductAsync(brand, stock: 2));
            var first = (await _api.BuyAsync(code, $"first-{run}-{p}", 1, $"first-key-{p}")).Expect(HttpStatusCode.Created);
            using var start = new SemaphoreSlim(0);
            var replays = Enumerable.Range(0, 8).Select(async _ =>
            {
                await start.WaitAsync();
                return await _api.BuyAsync(code, $"first-{run}-{p}", 1, $"first-key-{p}");
            }).ToArray();
            var fresh = Task.Run(async () =>
            {
                await start.WaitAsync();
                return await _api.BuyAsync(code, $"second-{run}-{p}", 1, $"second-key-{p}");
            });
            start.Release(replays.Length + 1);
            return (First: first.Str("orderId"), Replays: await Task.WhenAll(replays), Fresh: await fresh);
        }));

        Assert.All(results, r =>
        {
            Assert.All(r.Replays, replay => Assert.Equal(r.First, replay.Expect(HttpStatusCode.Created).Str("orderId")));
            r.Fresh.Expect(HttpStatusCode.Created);
        });
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : IdempotencyTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : IdempotencyTests(fixture);
}
