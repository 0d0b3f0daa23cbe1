namespace Vetrina.Tests.Api;

/// <summary>
/// Bodies that are not the JSON a route expects answer 400 problem+json in every environment — also in
/// Development, which <c>dotnet run</c> uses and where minimal APIs would otherwise throw on them.
/// </summary>
public sealed class MalformedBodyTests : IAsyncLifetime
{
    private VetrinaServer _server = null!;
    private VetrinaClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await VetrinaServer.StartAsync("memory", environment: "Development");
        _api = _server.Api;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string> MalformedBodies => new()
    {
        "[]",
        "{\"quantity\":1.5}",
        "nul",
        "",
        "{\"quantity\":99999999999}",
        "{\"quantity\":1",
        "{\"quantity\":\"1\"}",
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task A_malformed_body_answers_400_problem_json_and_changes_nothing(string body)
    {
        var brand = await _api.CreateBrandAsync();
        var product = await _api.CreateProductAsync(brand, stock: 4);
        var shopper = "malformed-" + Guid.NewGuid();

        var replies = new[]
        {
            await _api.SendAsync(HttpMethod.Put, $"/api/carts/{shopper}/items/{product}", rawBody: body),
            await _api.SendAsync(HttpMethod.Post, $"/api/products/{product}/stock", rawBody: body, key: brand.Key),
            await _api.SendAsync(HttpMethod.Post, "/api/brands", rawBody: body),
        };

        Assert.All(replies, reply =>
        {
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"expected 400, got {(int)reply.Status}: {reply.Raw}");
            Assert.True(reply.IsProblem, $"not a complete problem+json: {reply.ContentType} {reply.Raw}");
        });
        Assert.Empty((await _api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK).Body.GetProperty("lines").EnumerateArray());
        Assert.Equal(4, (await _api.ProductAsync(product)).GetProperty("available").GetInt32());
    }
}
