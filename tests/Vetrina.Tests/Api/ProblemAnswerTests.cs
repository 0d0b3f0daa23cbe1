using System.Net.Http.Headers;
using System.Text;

namespace Vetrina.Tests.Api;

/// <summary>Errors are problem+json for every client, also one whose Accept header names no JSON type.</summary>
[Collection(SharedServer.Name)]
public sealed class ProblemAnswerTests(ServerFixture fixture)
{
    public static TheoryData<string, string, string?, string?, int> Refusals => new()
    {
        { "GET", "/api/cluster", null, null, 401 },
        { "GET", "/api/no-such-route", null, null, 404 },
        { "DELETE", "/api/products/p_0000000000000000000000", null, null, 405 },
        { "POST", "/api/brands", "name=x", "text/plain", 415 },
        { "POST", "/api/brands", "{\"name\":\"x\",", "application/json", 400 },
        { "POST", "/api/brands", "{\"name\":\"" + new string('x', 70_000) + "\"}", "application/json", 413 },
        { "GET", "/api/products/p_0000000000000000000000", null, null, 404 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_client_that_accepts_only_XML_still_gets_problem_json(string method, string path, string? body, string? contentType, int status)
    {
        using var http = fixture.Server.Api.CreateRawClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Accept.ParseAdd("application/xml");
        if (method == "POST")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", VetrinaServer.PlatformKey);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
        }

        using var response = await http.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        var reply = new Reply(response.StatusCode, response.Content.Headers.ContentType?.MediaType,
            raw.StartsWith('{') ? JsonDocument.Parse(raw).RootElement.Clone() : default, raw);

        Assert.Equal(status, (int)reply.Status);
        Assert.True(reply.IsProblem, $"not a complete problem+json: {reply.ContentType} {raw}");
    }
}
