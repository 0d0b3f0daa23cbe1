namespace Vetrina.Tests.Api;

/// <summary>A product reads as a shop page shows it; exact units reserved, sold and stocked are its brand's business.</summary>
[Collection(SharedServer.Name)]
public sealed class ProductVisibilityTests(ServerFixture fixture)
{
    private static readonly string[] BrandOnly = ["reserved", "sold", "stocked"];
    private readonly VetrinaClient _api = fixture.Api;

    [Fact]
    public async Task Anonymous_readers_and_other_brands_see_no_stock_counts_the_owning_brand_and_the_platform_do()
    {
        var owner = await _api.CreateBrandAsync();
        var other = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(owner, stock: 12);
        (await _api.BuyAsync(await _api.CreateLinkAsync(await _api.CreateCreatorAsync(), product), "visibility-shopper", 2)).Expect(HttpStatusCode.Created);

        foreach (var key in new[] { null, other.Key })
        {
            var view = (await _api.GetAsync($"/api/products/{product}", key)).Expect(HttpStatusCode.OK);
            Assert.All(BrandOnly, field => Assert.False(view.Body.TryGetProperty(field, out _), $"'{field}' shown to {key ?? "anonymous"}"));
            Assert.Equal(10, view.Number("available"));
        }
        foreach (var key in new[] { owner.Key, "platform" })
        {
            var view = (await _api.GetAsync($"/api/products/{product}", key)).Expect(HttpStatusCode.OK);
            Assert.Equal((0L, 2L, 12L, 10L), (view.Number("reserved"), view.Number("sold"), view.Number("stocked"), view.Number("available")));
        }
    }
}
