using Microsoft.Extensions.Time.Testing;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// Collaboration plans and the rate rules over real HTTP on one silo with a fake clock: the highest rate that applies
/// wins and the line says where it came from; targeted plans pay only the creators they name; a lowered rate reaches a
/// creator who already links the product only after the brand's lock, a raise at once; offers show it all.
/// </summary>
public sealed class CollaborationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private VetrinaServer _server = null!;

    public async Task InitializeAsync() => _server = await VetrinaServer.StartAsync("memory", clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VetrinaClient Api => _server.Api;

    [Fact]
    public async Task The_highest_plan_wins_targeted_plans_pay_only_named_creators_and_lines_say_why()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 1000);
        var product = await Api.CreateProductAsync(brand, priceMinor: 10_000);
        var named = await Api.CreateCreatorAsync();
        var other = await Api.CreateCreatorAsync();
        var namedLink = await Api.CreateLinkAsync(named, product);
        var otherLink = await Api.CreateLinkAsync(other, product);

        Assert.Equal((1000, "product"), Rate(await BuyAsync(namedLink)));

        var open = await PlanAsync(brand, new { kind = "open", productIds = new[] { product }, commissionBps = 1200 });
        var targeted = await PlanAsync(brand, new { kind = "targeted", productIds = new[] { product }, commissionBps = 1500, creatorIds = new[] { named.Id } });
        var lower = await PlanAsync(brand, new { kind = "open", productIds = new[] { product }, commissionBps = 1100 });
        Assert.Equal("active", lower.Str("status"));

        var namedLine = await BuyAsync(namedLink);
        Assert.Equal((1500, $"plan:{targeted.Str("planId")}"), Rate(namedLine));
        Assert.Equal(1500, namedLine.GetProperty("commissionMinor").GetInt64());
        Assert.Equal((1200, $"plan:{open.Str("planId")}"), Rate(await BuyAsync(otherLink)));

        // A live buy of the named creator's session earns the targeted rate as well.
        var session = await Api.CreateLiveAsync(named);
        (await Api.PostAsync($"/api/lives/{session}/start", null, named.Key)).Expect(HttpStatusCode.OK);
        (await Api.SendAsync(HttpMethod.Put, $"/api/lives/{session}/showcase", new { productIds = new[] { product } }, named.Key)).Expect(HttpStatusCode.OK);
        var live = (await Api.LiveBuyAsync(session, "viewer-1", product)).Expect(HttpStatusCode.Created).Body.GetProperty("lines")[0];
        Assert.Equal((1500, $"plan:{targeted.Str("planId")}"), Rate(live));

        // Ending the targeted plan: the named creator (who links the product) keeps it for the lock; nobody else had it.
        _clock.Advance(TimeSpan.FromMinutes(1));
        (await Api.SendAsync(HttpMethod.Delete, $"/api/collaborations/{targeted.Str("planId")}", key: brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal((1500, "locked"), Rate(await BuyAsync(namedLink)));
        Assert.Equal((1200, $"plan:{open.Str("planId")}"), Rate(await BuyAsync(otherLink)));

        var plans = (await Api.GetAsync($"/api/brands/{brand.Id}/collaborations", brand.Key)).Expect(HttpStatusCode.OK).Body;
        Assert.Equal(3, plans.GetArrayLength());
        Assert.Contains(plans.EnumerateArray(), p => p.GetProperty("planId").GetString() == targeted.Str("planId") && p.GetProperty("status").GetString() == "ended");
    }

    [Fact]
    public async Task Plans_pay_only_inside_their_schedule_and_a_scheduled_end_locks_nothing()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 800);
        var product = await Api.CreateProductAsync(brand, priceMinor: 10_000);
        var creator = await Api.CreateCreatorAsync();
        var link = await Api.CreateLinkAsync(creator, product);
        var now = _clock.GetUtcNow();
        var plan = await PlanAsync(brand, new { kind = "open", productIds = new[] { product }, commissionBps = 2000, startsAt = now.AddDays(1), endsAt = now.AddDays(3) });
        Assert.Equal("scheduled", plan.Str("status"));

        Assert.Equal((800, "product"), Rate(await BuyAsync(link)));
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal((2000, $"plan:{plan.Str("planId")}"), Rate(await BuyAsync(link)));
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal((800, "product"), Rate(await BuyAsync(link)));
    }

    [Fact]
    public async Task A_lowered_rate_reaches_existing_linkers_only_after_the_lock_and_a_raise_at_once()
    {
        var brand = await CreateBrandAsync(defaultCommissionBps: 2000, rateLockDays: 30);
        var product = await Api.CreateProductAsync(brand, priceMinor: 10_000);
        var early = await Api.CreateCreatorAsync();
        var earlyLink = await Api.CreateLinkAsync(early, product);
        _clock.Advance(TimeSpan.FromHours(1));

        (await Api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { commissionBps = 1000 }, brand.Key)).Expect(HttpStatusCode.OK);
        var late = await Api.CreateCreatorAsync();
        var lateLink = await Api.CreateLinkAsync(late, product);

        Assert.Equal((2000, "locked"), Rate(await BuyAsync(earlyLink)));
        Assert.Equal((1000, "product"), Rate(await BuyAsync(lateLink)));
        // Through a cart too: the checkout finds when the click's creator linked the product.
        await Api.ClickAsync(earlyLink, "cart-shopper");
        await Api.PutInCartAsync("cart-shopper", product, 1);
        var checkout = (await Api.CheckoutAsync("cart-shopper")).Expect(HttpStatusCode.Created).Body;
        Assert.Equal((2000, "locked"), Rate(checkout.GetProperty("orders")[0].GetProperty("lines")[0]));

        var offers = await OffersAsync(early);
        var offer = Assert.Single(offers.EnumerateArray());
        Assert.Equal(2000, offer.GetProperty("commissionBps").GetInt32());
        Assert.Equal("locked", offer.GetProperty("source").GetString());
        var lockedUntil = offer.GetProperty("lockedUntil").GetDateTimeOffset();
        Assert.Equal(_clock.GetUtcNow().AddDays(30), lockedUntil);

        _clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1));
        Assert.Equal((2000, "locked"), Rate(await BuyAsync(earlyLink)));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal((1000, "product"), Rate(await BuyAsync(earlyLink)));

        // A raise applies at once, to everyone.
        (await Api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { commissionBps = 2500 }, brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal((2500, "product"), Rate(await BuyAsync(earlyLink)));
        Assert.Equal((2500, "product"), Rate(await BuyAsync(lateLink)));
    }

    [Fact]
    public async Task The_lock_is_the_brands_setting()
    {
        var brand = await CreateBrandAsync(defaultCommissionBps: 2000, rateLockDays: 0);
        var product = await Api.CreateProductAsync(brand, priceMinor: 10_000);
        var creator = await Api.CreateCreatorAsync();
        var link = await Api.CreateLinkAsync(creator, product);
        _clock.Advance(TimeSpan.FromMinutes(5));
        (await Api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { commissionBps = 500 }, brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal((500, "product"), Rate(await BuyAsync(link)));
    }

    [Fact]
    public async Task Offers_list_linked_products_and_plans_open_to_the_creator()
    {
        var brand = await Api.CreateBrandAsync(defaultCommissionBps: 700);
        var linked = await Api.CreateProductAsync(brand);
        var inOpenPlan = await Api.CreateProductAsync(brand);
        var inTargetedPlan = await Api.CreateProductAsync(brand);
        var creator = await Api.CreateCreatorAsync();
        var stranger = await Api.CreateCreatorAsync();
        await Api.CreateLinkAsync(creator, linked);
        var open = await PlanAsync(brand, new { kind = "open", productIds = new[] { inOpenPlan }, commissionBps = 900 });
        var targeted = await PlanAsync(brand, new { kind = "targeted", productIds = new[] { inTargetedPlan }, commissionBps = 1300, creatorIds = new[] { creator.Id } });

        var offers = (await OffersAsync(creator)).EnumerateArray()
            .Select(o => (o.GetProperty("productId").GetString(), o.GetProperty("commissionBps").GetInt32(), o.GetProperty("source").GetString()))
            .ToArray();
        Assert.Equal([(inTargetedPlan, 1300, $"plan:{targeted.Str("planId")}"), (inOpenPlan, 900, $"plan:{open.Str("planId")}"), (linked, 700, "product")], offers);
        var strangers = (await OffersAsync(stranger)).EnumerateArray().Select(o => o.GetProperty("productId").GetString()!).ToArray();
        Assert.Equal([inOpenPlan], strangers);
    }

    [Fact]
    public async Task Plans_refuse_bad_input_and_other_callers_and_change_nothing()
    {
        var brand = await Api.CreateBrandAsync();
        var rival = await Api.CreateBrandAsync();
        var product = await Api.CreateProductAsync(brand);
        var rivalProduct = await Api.CreateProductAsync(rival);
        var creator = await Api.CreateCreatorAsync();
        var path = $"/api/brands/{brand.Id}/collaborations";

        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { rivalProduct }, commissionBps = 900 }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "open", productIds = Unknown("p_nope"), commissionBps = 900 }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "targeted", productIds = new[] { product }, commissionBps = 900 }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "targeted", productIds = new[] { product }, commissionBps = 900, creatorIds = Unknown("c_unknown") }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900, creatorIds = new[] { creator.Id } }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 10_001 }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        var now = _clock.GetUtcNow();
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900, startsAt = now.AddDays(2), endsAt = now.AddDays(1) }, brand.Key)).Expect(HttpStatusCode.UnprocessableEntity);
        (await Api.PostAsync(path, new { kind = "sometimes", productIds = new[] { product }, commissionBps = 900 }, brand.Key)).Expect(HttpStatusCode.BadRequest);
        (await Api.PostAsync(path, new { productIds = new[] { product }, commissionBps = 900 }, brand.Key)).Expect(HttpStatusCode.BadRequest);

        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900 }, rival.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900 }, creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900 })).Expect(HttpStatusCode.Forbidden);
        (await Api.PostAsync(path, new { kind = "open", productIds = new[] { product }, commissionBps = 900 }, "not-a-key")).Expect(HttpStatusCode.Unauthorized);
        (await Api.GetAsync(path, rival.Key)).Expect(HttpStatusCode.Forbidden);
        Assert.Equal(0, (await Api.GetAsync(path, brand.Key)).Expect(HttpStatusCode.OK).Body.GetArrayLength());

        var plan = await PlanAsync(brand, new { kind = "open", productIds = new[] { product }, commissionBps = 900 });
        (await Api.SendAsync(HttpMethod.Delete, $"/api/collaborations/{plan.Str("planId")}", key: rival.Key)).Expect(HttpStatusCode.NotFound);
        (await Api.SendAsync(HttpMethod.Delete, $"/api/collaborations/{plan.Str("planId")}", key: creator.Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.SendAsync(HttpMethod.Delete, "/api/collaborations/pl_unknown", key: brand.Key)).Expect(HttpStatusCode.NotFound);
        Assert.Equal("active", (await Api.GetAsync(path, brand.Key)).Expect(HttpStatusCode.OK).Body[0].GetProperty("status").GetString());

        (await Api.GetAsync($"/api/creators/{creator.Id}/offers", (await Api.CreateCreatorAsync()).Key)).Expect(HttpStatusCode.Forbidden);
        (await Api.GetAsync($"/api/creators/{creator.Id}/offers", brand.Key)).Expect(HttpStatusCode.Forbidden);
    }

    private static string[] Unknown(string id) => [id];

    private async Task<Party> CreateBrandAsync(int defaultCommissionBps, int rateLockDays)
    {
        var reply = (await Api.PostAsync("/api/brands", new { name = "Locking brand", defaultCommissionBps, rateLockDays })).Expect(HttpStatusCode.Created);
        Assert.Equal(rateLockDays, reply.Body.GetProperty("rateLockDays").GetInt32());
        return new Party(reply.Str("brandId"), reply.Str("apiKey"));
    }

    private async Task<Reply> PlanAsync(Party brand, object body) =>
        (await Api.PostAsync($"/api/brands/{brand.Id}/collaborations", body, brand.Key)).Expect(HttpStatusCode.Created);

    private async Task<JsonElement> OffersAsync(Party creator) =>
        (await Api.GetAsync($"/api/creators/{creator.Id}/offers", creator.Key)).Expect(HttpStatusCode.OK).Body;

    /// <summary>A one-tap buy through the link by a new shopper; answers its line.</summary>
    private async Task<JsonElement> BuyAsync(string code) =>
        (await Api.BuyAsync(code, "shopper-" + Guid.NewGuid().ToString("N")[..8])).Expect(HttpStatusCode.Created).Body.GetProperty("lines")[0];

    private static (int, string?) Rate(JsonElement line) =>
        (line.GetProperty("commissionBps").GetInt32(), line.GetProperty("rateSource").GetString());
}
