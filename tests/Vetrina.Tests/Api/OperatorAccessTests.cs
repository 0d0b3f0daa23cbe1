namespace Vetrina.Tests.Api;

/// <summary>The operator's cluster view is for the platform key only.</summary>
[Collection(SharedServer.Name)]
public sealed class OperatorAccessTests(ServerFixture fixture)
{
    private readonly VetrinaClient _api = fixture.Api;

    [Fact]
    public async Task Only_the_platform_key_reads_the_cluster_view()
    {
        var brand = await _api.CreateBrandAsync();
        var creator = await _api.CreateCreatorAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await _api.GetAsync("/api/cluster", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _api.GetAsync("/api/cluster", key: "not-a-key")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _api.GetAsync("/api/cluster", key: brand.Key)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _api.GetAsync("/api/cluster", key: creator.Key)).Status);

        var silos = (await _api.GetAsync("/api/cluster")).Expect(HttpStatusCode.OK).Body.GetProperty("silos");
        var silo = Assert.Single(silos.EnumerateArray());
        Assert.Equal("active", silo.GetProperty("status").GetString());
        Assert.True(silo.GetProperty("vetrinaActivations").GetInt32() > 0, "the brand and creator grains live on the one silo");
    }

    [Fact]
    public async Task Made_up_brand_and_creator_keys_are_refused_and_leave_no_activations_behind()
    {
        var creator = await _api.CreateCreatorAsync();
        var before = await ActivationsAsync();

        for (var i = 0; i < 200; i++)
        {
            // Well-formed owner ids that nobody registered, as a key-guessing client would send them.
            var owner = (i % 2 == 0 ? "c_" : "b_") + Guid.NewGuid().ToString("N")[..(creator.Id.Length - 2)];
            var reply = await _api.GetAsync($"/api/creators/{creator.Id}/earnings", key: owner + ".guessed-secret");
            Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        }

        await Eventually.HoldsAsync(ActivationsAsync, n => n < before + 50, because: "grains of made-up owners deactivate at once");
    }

    private async Task<int> ActivationsAsync() =>
        (await _api.GetAsync("/api/cluster")).Expect(HttpStatusCode.OK).Body.GetProperty("silos").EnumerateArray()
            .Sum(s => s.GetProperty("vetrinaActivations").GetInt32());
}
