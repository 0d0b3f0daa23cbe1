using System.Text.Json.Nodes;

namespace Vetrina.Tests.Api;

/// <summary>
/// The check every answer of the suite goes through (<see cref="ApiContract"/>) finds what breaks the document: here
/// it is shown real answers and a document that says something else.
/// </summary>
[Collection(SharedServer.Name)]
public sealed class ApiContractTests(ServerFixture fixture)
{
    private const string GetOrder = "/api/orders/o_0000000000000000000000";

    private static readonly string Committed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, ApiContract.FileName));

    [Fact]
    public async Task A_paid_order_breaks_a_document_that_requires_the_dates_it_does_not_have_yet()
    {
        var order = await PaidOrderAsync();
        var document = JsonNode.Parse(Committed)!;
        var required = document["components"]!["schemas"]!["OrderView"]!["required"]!.AsArray();
        foreach (var member in new[] { "shippedAt", "deliveredAt", "returnWindowEndsAt", "completedAt" })
        {
            required.Add(member);
        }

        var violation = Assert.Single(new ApiContract(document.ToJsonString()).Check("GET", GetOrder, 200, "application/json", order));

        Assert.Contains("getOrder", violation, StringComparison.Ordinal);
        Assert.Contains("shippedAt", violation, StringComparison.Ordinal);
        Assert.Contains("completedAt", violation, StringComparison.Ordinal);
        Assert.Empty(ApiContract.Served.Check("GET", GetOrder, 200, "application/json", order));
    }

    [Fact]
    public async Task An_undocumented_status_content_type_or_body_is_a_violation_and_unknown_routes_are_not_checked()
    {
        var order = await PaidOrderAsync();
        var contract = ApiContract.Served;
        var wrongType = JsonNode.Parse(order)!;
        wrongType["totalMinor"] = "5997";
        const string problem = """{"title":"Not found","status":404,"detail":"Order 'o_0' does not exist."}""";

        Assert.Contains("status 418 is not documented", Assert.Single(contract.Check("GET", GetOrder, 418, "application/json", order)), StringComparison.Ordinal);
        Assert.Contains("came as 'text/plain'", Assert.Single(contract.Check("GET", GetOrder, 200, "text/plain", order)), StringComparison.Ordinal);
        Assert.Contains("/totalMinor", Assert.Single(contract.Check("GET", GetOrder, 200, "application/json", wrongType.ToJsonString())), StringComparison.Ordinal);
        Assert.Contains("is not JSON", Assert.Single(contract.Check("GET", GetOrder, 200, "application/json", order[..^1])), StringComparison.Ordinal);
        Assert.Single(contract.Check("GET", GetOrder, 404, "application/json", problem));
        Assert.Empty(contract.Check("GET", GetOrder, 404, "application/problem+json", problem));
        Assert.Empty(contract.Check("GET", "/api/no-such-route", 404, "application/problem+json", problem));
        Assert.Empty(contract.Check("DELETE", GetOrder, 405, "application/problem+json", problem));
        Assert.Equal("getPayoutRun (GET /api/payouts/runs/{runId})", contract.OperationOf("GET", "/api/payouts/runs/r_1"));
        Assert.Equal("startPayoutRun (POST /api/payouts/runs)", contract.OperationOf("POST", "/api/payouts/runs/"));
    }

    [Fact]
    public async Task Checks_from_many_threads_agree_and_build_each_schema_once()
    {
        var order = await PaidOrderAsync();
        var broken = JsonNode.Parse(order)!;
        broken.AsObject().Remove("orderId");
        var contract = new ApiContract(Committed);

        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() =>
            contract.Check("GET", GetOrder, 200, "application/json", i % 2 == 0 ? order : broken.ToJsonString()).Count)));

        Assert.Equal(Enumerable.Range(0, 400).Select(i => i % 2 == 0 ? 0 : 1), results);
        Assert.Equal(1, contract.SchemasBuilt);
    }

    private async Task<string> PaidOrderAsync()
    {
        var api = fixture.Api;
        var brand = await api.CreateBrandAsync();
        var code = await api.CreateLinkAsync(await api.CreateCreatorAsync(), await api.CreateProductAsync(brand));
        return (await api.BuyAsync(code, "contract-shopper")).Expect(HttpStatusCode.Created).Raw;
    }
}
