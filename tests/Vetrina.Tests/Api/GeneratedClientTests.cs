using System.Net.Http.Headers;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Vetrina.Tests.Generated;
using Vetrina.Tests.Generated.Models;

namespace Vetrina.Tests.Api;

/// <summary>
/// The viral walk as an API consumer makes it: with a C# client that Kiota generated from the committed OpenAPI
/// document (see the test project file), not with hand-written HTTP. Its answers are checked against the document too.
/// </summary>
[Collection(SharedServer.Name)]
public sealed class GeneratedClientTests(ServerFixture fixture) : IDisposable
{
    private readonly List<HttpClient> _http = [];

    [Fact]
    public async Task A_generated_client_creates_a_brand_a_product_a_creator_and_a_link_then_clicks_buys_checks_out_and_reads_the_orders()
    {
        var platform = Client(fixture.Api.PlatformKey);
        var anyone = Client(key: null);

        var brandCreated = await platform.Api.Brands.PostAsync(new CreateBrandRequest { Name = "Generated brand", DefaultCommissionBps = 1500 });
        var brand = Client(brandCreated!.ApiKey);
        var product = await brand.Api.Brands[brandCreated.BrandId].Products.PostAsync(new CreateProductRequest
        {
            Sku = "GEN-" + Guid.NewGuid().ToString("N")[..8], Title = "Generated product", PriceMinor = 1999, Currency = "EUR", Stock = 10,
        });
        var creatorCreated = await platform.Api.Creators.PostAsync(new CreateCreatorRequest { Handle = "generated" + Guid.NewGuid().ToString("N")[..6], Followers = 1000 });
        var creator = Client(creatorCreated!.ApiKey);
        var link = await creator.Api.Creators[creatorCreated.CreatorId].Links.PostAsync(new CreateLinkRequest { ProductId = product!.ProductId });
        Assert.Equal(product.ProductId, (await anyone.Api.Links[link!.Code].GetAsync())!.ProductId);

        // Click, then buy now with an Idempotency-Key; the repeat answers the same order.
        var click = await platform.Api.Links[link.Code].Clicks.PostAsync(new ClickRequest { ShopperId = "gen-shopper-1" });
        Assert.Equal(product.ProductId, click!.ProductId);
        var buyKey = Guid.NewGuid().ToString("N");
        var bought = await platform.Api.Links[link.Code].Buy.PostAsync(new BuyRequest { ShopperId = "gen-shopper-1", Quantity = 3 },
            c => c.Headers.Add("Idempotency-Key", buyKey));
        var replayed = await platform.Api.Links[link.Code].Buy.PostAsync(new BuyRequest { ShopperId = "gen-shopper-1", Quantity = 3 },
            c => c.Headers.Add("Idempotency-Key", buyKey));
        Assert.Equal(OrderStatus.Paid, bought!.Status);
        Assert.Equal(bought.OrderId, replayed!.OrderId);
        Assert.Equal(3 * 1999, bought.TotalMinor);
        var line = Assert.Single(bought.Lines!);
        Assert.Equal(link.Code, line.LinkCode);
        Assert.Equal(1999L * 3 * 1500 / 10000, line.CommissionMinor);
        // Members a paid order does not have yet are left out, and the document says they may be.
        Assert.Null(bought.ShippedAt);
        Assert.Null(bought.DeliveredAt);

        // A cart with the product, checked out: one order of the brand, the line attributed to the shopper's click.
        await platform.Api.Carts["gen-shopper-1"].Items[product.ProductId].PutAsync(new SetQuantityRequest { Quantity = 2 });
        var receipt = await platform.Api.Carts["gen-shopper-1"].Checkout.PostAsync(new CheckoutBody(), c => c.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N")));
        var checkedOut = Assert.Single(receipt!.Orders!);
        Assert.Equal(link.Code, Assert.Single(checkedOut.Lines!).LinkCode);

        // The brand reads, ships and delivers its order.
        var read = await brand.Api.Orders[bought.OrderId].GetAsync();
        Assert.Equal(bought.TotalMinor, read!.TotalMinor);
        await brand.Api.Orders[bought.OrderId].Ship.PostAsync();
        var delivered = await brand.Api.Orders[bought.OrderId].Deliver.PostAsync();
        Assert.Equal(OrderStatus.Delivered, delivered!.Status);
        Assert.NotNull(delivered.ShippedAt);
        Assert.NotNull(delivered.ReturnWindowEndsAt);

        // Refusals arrive as the document's problem type.
        var declined = await Assert.ThrowsAsync<ProblemDetails>(() => platform.Api.Links[link.Code].Buy.PostAsync(
            new BuyRequest { ShopperId = "gen-shopper-2", Quantity = 1, PaymentToken = "tok_decline" }, c => c.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"))));
        Assert.Equal(402, declined.Status);
        var refused = await Assert.ThrowsAsync<ProblemDetails>(() => anyone.Api.Orders[bought.OrderId].GetAsync());
        Assert.Equal(401, refused.ResponseStatusCode);

        // The public product page: 10 - 3 - 2 left, and no stock counts for a reader without a key.
        var shown = await anyone.Api.Products[product.ProductId].GetAsync();
        Assert.Equal(5, shown!.Available);
        Assert.Null(shown.Stocked);
        // The creator's key reads its earnings: the commission of both lines, pending.
        await Eventually.ProjectedAsync(line.CommissionMinor + checkedOut.Lines![0].CommissionMinor,
            async () => (await creator.Api.Creators[creatorCreated.CreatorId].Earnings.GetAsync())!.Balances!.Sum(b => b.PendingMinor));
    }

    public void Dispose()
    {
        foreach (var http in _http)
        {
            http.Dispose();
        }
    }

    /// <summary>A generated client sending <paramref name="key"/> as its bearer key (none: an anonymous reader).</summary>
    private VetrinaApiClient Client(string? key)
    {
        var http = fixture.Api.CreateRawClient();
        _http.Add(http);
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return new VetrinaApiClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http)
        {
            BaseUrl = fixture.Server.Address.ToString().TrimEnd('/'),
        });
    }
}
