namespace Vetrina.Tests.Api;

/// <summary>The error answers of the contract, route by route: each one problem+json, each one changing nothing.</summary>
/// <summary>Runs on one in-memory silo and on a three-silo PostgreSQL cluster (see the nested classes).</summary>
public abstract class ContractErrorTests(IApiTarget target)
{
    private readonly VetrinaClient _api = target.Api;

    private static void AssertProblem(Reply reply, HttpStatusCode status)
    {
        Assert.True(reply.Status == status, $"expected {(int)status}, got {(int)reply.Status}: {reply.Raw}");
        Assert.True(reply.IsProblem, $"not problem+json: {reply.ContentType} {reply.Raw}");
    }

    [Fact]
    public async Task Brand_routes_answer_400_for_malformed_and_422_for_broken_rules()
    {
        AssertProblem(await _api.SendAsync(HttpMethod.Post, "/api/brands", rawBody: "{\"name\": \"x\","), HttpStatusCode.BadRequest);
        AssertProblem(await _api.SendAsync(HttpMethod.Post, "/api/brands", rawBody: "{\"name\": 5, \"defaultCommissionBps\": 1}"), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync("/api/brands", new { defaultCommissionBps = 100 }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync("/api/brands", new { name = "x", defaultCommissionBps = 10001 }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync("/api/brands", new { name = "x", defaultCommissionBps = 10, returnWindowDays = -1 }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.SendAsync(HttpMethod.Post, "/api/brands", rawBody: "name=x", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        AssertProblem(await _api.GetAsync("/api/brands/b_doesNotExist0000000000"), HttpStatusCode.NotFound);
        AssertProblem(await _api.GetAsync("/api/brands/nonsense"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Product_routes_refuse_bad_products_and_keep_stock_from_going_negative()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 3);
        var products = $"/api/brands/{brand.Id}/products";

        AssertProblem(await _api.PostAsync(products, new { sku = "a", title = "t", priceMinor = 1, currency = "XYZ", stock = 1 }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync(products, new { sku = "a", title = "t", priceMinor = 1, currency = "eur", stock = 1 }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync(products, new { sku = "a", title = "t", priceMinor = -1, currency = "EUR", stock = 1 }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync(products, new { sku = "a", title = "t", priceMinor = 1, currency = "EUR", stock = -5 }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync(products, new { sku = "a", title = "t", currency = "EUR", stock = 1 }, brand.Key), HttpStatusCode.BadRequest);
        AssertProblem(await _api.SendAsync(HttpMethod.Post, products, rawBody: "{\"sku\":\"a\",\"title\":\"t\",\"priceMinor\":1e40,\"currency\":\"EUR\",\"stock\":1}", key: brand.Key), HttpStatusCode.BadRequest);

        var first = (await _api.PostAsync(products, new { sku = "dup", title = "t", priceMinor = 1, currency = "EUR", stock = 1 }, brand.Key)).Expect(HttpStatusCode.Created);
        AssertProblem(await _api.PostAsync(products, new { sku = "dup", title = "other", priceMinor = 2, currency = "EUR", stock = 1 }, brand.Key), HttpStatusCode.Conflict);
        // The same body again is a repeat too: the contract has no idempotent product creation.
        AssertProblem(await _api.PostAsync(products, new { sku = "dup", title = "t", priceMinor = 1, currency = "EUR", stock = 1 }, brand.Key), HttpStatusCode.Conflict);
        Assert.Equal(1, (await _api.ProductAsync(first.Str("productId"))).GetProperty("available").GetInt32());

        AssertProblem(await _api.PostAsync($"/api/products/{product}/stock", new { delta = -4 }, brand.Key), HttpStatusCode.Conflict);
        Assert.Equal(3, (await _api.PostAsync($"/api/products/{product}/stock", new { delta = 0 }, brand.Key)).Expect(HttpStatusCode.OK).Number("available"));
        Assert.Equal(10, (await _api.PostAsync($"/api/products/{product}/stock", new { delta = 7 }, brand.Key)).Expect(HttpStatusCode.OK).Number("available"));
        AssertProblem(await _api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { status = "deleted" }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { commissionBps = -1 }, brand.Key), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.GetAsync("/api/products/p_unknown00000000000000000", key: null), HttpStatusCode.NotFound);
        AssertProblem(await _api.SendAsync(HttpMethod.Patch, "/api/products/p_0000000000000000000000", new { title = "x" }, brand.Key), HttpStatusCode.NotFound);

        var archived = (await _api.SendAsync(HttpMethod.Patch, $"/api/products/{product}", new { status = "archived", title = "Old" }, brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal("archived", archived.Str("status"));
        Assert.Equal("Old", archived.Str("title"));
        AssertProblem(await _api.SendAsync(HttpMethod.Put, $"/api/carts/arch-shopper/items/{product}", new { quantity = 1 }), HttpStatusCode.Conflict);
        Assert.Equal(10, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task Creator_and_link_routes_answer_their_errors()
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 2);
        var creator = await _api.CreateCreatorAsync();

        AssertProblem(await _api.PostAsync("/api/creators", new { handle = "x" }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync("/api/creators", new { handle = "x", followers = -3 }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync("/api/creators", new { handle = "bad\u0001handle", followers = 3 }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync($"/api/creators/{creator.Id}/links", new { productId = "p_0000000000000000000000" }, creator.Key), HttpStatusCode.NotFound);
        AssertProblem(await _api.PostAsync($"/api/creators/{creator.Id}/links", new { }, creator.Key), HttpStatusCode.BadRequest);

        var link = (await _api.PostAsync($"/api/creators/{creator.Id}/links", new { productId = product }, creator.Key)).Expect(HttpStatusCode.Created);
        var code = link.Str("code");
        Assert.Matches("^[0-9A-Za-z]{8,}$", code);
        Assert.EndsWith($"/api/links/{code}", link.Str("url"), StringComparison.Ordinal);
        Assert.True((await _api.GetAsync($"/api/links/{code}", key: null)).Expect(HttpStatusCode.OK).Body.GetProperty("active").GetBoolean());

        AssertProblem(await _api.GetAsync("/api/links/ZZZZZZZZZZ", key: null), HttpStatusCode.NotFound);
        AssertProblem(await _api.PostAsync("/api/links/ZZZZZZZZZZ/clicks", new { shopperId = "s" }), HttpStatusCode.NotFound);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/clicks", new { }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/clicks", new { shopperId = new string('s', 129) }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.GetAsync("/api/links/ZZZZZZZZZZ/stats"), HttpStatusCode.NotFound);
        AssertProblem(await _api.GetAsync("/api/creators/c_0000000000000000000000/earnings"), HttpStatusCode.NotFound);

        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = 1 }), HttpStatusCode.BadRequest); // no Idempotency-Key
        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = 1 }, idempotencyKey: "has space"), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = 1 }, idempotencyKey: new string('k', 129)), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = -1 }, idempotencyKey: "neg"), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = 3 }, idempotencyKey: "too-many"), HttpStatusCode.Conflict);
        AssertProblem(await _api.PostAsync($"/api/links/{code}/buy", new { shopperId = "s", quantity = 1, paymentToken = "tok_decline" }, idempotencyKey: "declined"), HttpStatusCode.PaymentRequired);
        AssertProblem(await _api.PostAsync("/api/links/ZZZZZZZZZZ/buy", new { shopperId = "s", quantity = 1 }, idempotencyKey: "nolink"), HttpStatusCode.NotFound);

        var view = await _api.ProductAsync(product);
        Assert.Equal(2, view.GetProperty("available").GetInt32());
        Assert.Equal(0, view.GetProperty("reserved").GetInt32());
        await Eventually.ProjectedAsync((0L, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Fact]
    public async Task Cart_routes_refuse_mixed_currencies_bad_quantities_and_empty_checkouts()
    {
        var brand = await _api.CreateBrandAsync();
        var euro = await _api.CreateProductAsync(brand, currency: "EUR", stock: 1);
        var dollar = await _api.CreateProductAsync(brand, currency: "USD");
        var shopper = "cart-errors-" + Guid.NewGuid();

        AssertProblem(await _api.CheckoutAsync(shopper), HttpStatusCode.UnprocessableEntity);
        await _api.PutInCartAsync(shopper, euro, 1);
        AssertProblem(await _api.SendAsync(HttpMethod.Put, $"/api/carts/{shopper}/items/{dollar}", new { quantity = 1 }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.SendAsync(HttpMethod.Put, $"/api/carts/{shopper}/items/{euro}", new { quantity = -1 }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.SendAsync(HttpMethod.Put, $"/api/carts/{shopper}/items/{euro}", new { quantity = "two" }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.SendAsync(HttpMethod.Put, $"/api/carts/{shopper}/items/p_0000000000000000000000", new { quantity = 1 }), HttpStatusCode.NotFound);
        AssertProblem(await _api.PostAsync($"/api/carts/{shopper}/checkout", new { }), HttpStatusCode.BadRequest); // no Idempotency-Key

        var cart = (await _api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK);
        Assert.Equal("EUR", cart.Str("currency"));
        Assert.Single(cart.Body.GetProperty("lines").EnumerateArray());
        Assert.Equal(2500, cart.Number("totalMinor"));

        await _api.PutInCartAsync(shopper, euro, 2);
        AssertProblem(await _api.CheckoutAsync(shopper), HttpStatusCode.Conflict);
        Assert.Single((await _api.GetAsync($"/api/carts/{shopper}")).Body.GetProperty("lines").EnumerateArray());
        await _api.PutInCartAsync(shopper, euro, 0);
        Assert.Empty((await _api.GetAsync($"/api/carts/{shopper}")).Body.GetProperty("lines").EnumerateArray());
    }

    [Fact]
    public async Task Order_routes_follow_the_lifecycle_and_refuse_what_it_forbids()
    {
        var brand = await _api.CreateBrandAsync(defaultCommissionBps: 500);
        var product = await _api.CreateProductAsync(brand, stock: 10);
        var creator = await _api.CreateCreatorAsync();
        var code = await _api.CreateLinkAsync(creator, product);
        var orderId = (await _api.BuyAsync(code, "lifecycle", 2)).Expect(HttpStatusCode.Created).Str("orderId");

        AssertProblem(await _api.GetAsync("/api/orders/o_0000000000000000000000"), HttpStatusCode.NotFound);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key), HttpStatusCode.Conflict);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = product, quantity = 1 } } }), HttpStatusCode.Conflict);
        Assert.Equal("shipped", (await _api.PostAsync($"/api/orders/{orderId}/ship", null, brand.Key)).Expect(HttpStatusCode.OK).Str("status"));
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/cancel", null), HttpStatusCode.Conflict);
        var delivered = (await _api.PostAsync($"/api/orders/{orderId}/deliver", null, brand.Key)).Expect(HttpStatusCode.OK);
        Assert.Equal("delivered", delivered.Str("status"));

        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = product, quantity = 3 } } }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = product, quantity = 0 } } }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = new[] { new { productId = "p_0000000000000000000000", quantity = 1 } } }), HttpStatusCode.UnprocessableEntity);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { lines = Array.Empty<object>() }), HttpStatusCode.BadRequest);
        AssertProblem(await _api.PostAsync($"/api/orders/{orderId}/refunds", new { }), HttpStatusCode.BadRequest);

        var order = await _api.OrderAsync(orderId);
        Assert.Equal("delivered", order.GetProperty("status").GetString());
        Assert.Equal(0, order.GetProperty("refundedMinor").GetInt64());
        Assert.Equal(8, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
        await Eventually.ProjectedAsync((2500L * 2 * 500 / 10000, 0L, 0L, 0L), () => _api.EarningsAsync(creator.Id, "EUR"));
    }

    [Fact]
    public async Task Health_answers_without_a_key_and_the_openapi_document_is_served()
    {
        (await _api.GetAsync("/health/live", key: null)).Expect(HttpStatusCode.OK);
        var ready = (await _api.GetAsync("/health/ready", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("healthy", ready.Str("status"));
        var openApi = (await _api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK);
        Assert.True(openApi.Body.GetProperty("paths").TryGetProperty("/api/links/{code}/buy", out _));
    }

    [Collection(SharedServer.Name)]
    public sealed class OnOneSilo(ServerFixture fixture) : ContractErrorTests(fixture);

    [Collection(SharedCluster.Name)]
    public sealed class OnCluster(ClusterFixture fixture) : ContractErrorTests(fixture);
}
