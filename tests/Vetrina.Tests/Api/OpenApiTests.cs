using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Vetrina.Api.Http;

namespace Vetrina.Tests.Api;

/// <summary>
/// <c>/openapi/v1.json</c> is checked against the endpoints the running engine has mapped, so the two cannot drift:
/// the same routes and methods, and for each one the security, body, headers and answers its pipeline really has.
/// </summary>
[Collection(SharedServer.Name)]
public sealed partial class OpenApiTests(ServerFixture fixture)
{
    /// <summary>Every route of the api-v1 contract.</summary>
    private static readonly string[] ContractRoutes =
    [
        "POST /api/brands", "GET /api/brands/{brandId}", "POST /api/brands/{brandId}/products", "GET /api/products/{productId}",
        "PATCH /api/products/{productId}", "POST /api/products/{productId}/stock", "GET /api/brands/{brandId}/sales",
        "POST /api/creators", "POST /api/creators/{creatorId}/links", "GET /api/links/{code}", "POST /api/links/{code}/clicks",
        "GET /api/links/{code}/stats", "GET /api/creators/{creatorId}/earnings", "PUT /api/carts/{shopperId}/items/{productId}",
        "GET /api/carts/{shopperId}", "POST /api/carts/{shopperId}/checkout", "POST /api/links/{code}/buy", "POST /api/links/{code}/checkout-sessions", "GET /api/orders/{orderId}",
        "POST /api/lives/{sessionId}/checkout-sessions",
        "POST /api/orders/{orderId}/cancel", "POST /api/orders/{orderId}/ship", "POST /api/orders/{orderId}/deliver",
        "POST /api/orders/{orderId}/refunds", "GET /health/live", "GET /health/ready",
    ];

    /// <summary>Routes that are not API operations: the document itself, its reference page, operators' endpoints and the pages people open in a browser.</summary>
    private static readonly string[] OperationalPrefixes = ["/openapi/", "/scalar", "/metrics", "/dashboard", "/buy/", "/live/", "/console"];

    private readonly VetrinaServer _server = fixture.Server;

    [Fact]
    public async Task The_document_is_valid_OpenAPI_and_describes_exactly_the_mapped_routes()
    {
        var document = await DocumentAsync();
        var documented = Operations(document).Select(o => o.Route).ToHashSet();
        var mapped = MappedEndpoints().ToList();

        var described = mapped.Where(e => !e.Excluded).Select(e => e.Route).ToHashSet();
        Assert.True(documented.SetEquals(described),
            $"only documented: {string.Join(", ", documented.Except(described))}; only mapped: {string.Join(", ", described.Except(documented))}");
        foreach (var excluded in mapped.Where(e => e.Excluded))
        {
            Assert.True(OperationalPrefixes.Any(p => excluded.Path.StartsWith(p, StringComparison.Ordinal)), $"{excluded.Route} is mapped but missing from the document");
        }
        Assert.Empty(ContractRoutes.Except(documented));
    }

    [Fact]
    public async Task Each_operation_states_the_security_body_headers_and_answers_its_endpoint_has()
    {
        var document = await DocumentAsync();
        var endpoints = MappedEndpoints().Where(e => !e.Excluded).ToDictionary(e => e.Route);

        foreach (var (route, operation) in Operations(document))
        {
            var metadata = endpoints[route].Endpoint.Metadata;
            var responses = operation.Responses!.Keys.ToHashSet();
            var keyed = metadata.GetMetadata<IAllowAnonymous>() is null && metadata.GetOrderedMetadata<IAuthorizeData>().Any();
            var body = metadata.GetMetadata<IAcceptsMetadata>() is not null;

            Assert.True(keyed == (operation.Security is { Count: > 0 }), $"{route}: security requirement does not match the endpoint");
            Assert.True(body == (operation.RequestBody is not null), $"{route}: request body does not match the endpoint");
            if (body)
            {
                Assert.Contains("application/json", operation.RequestBody!.Content!.Keys);
            }
            var expected = metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>().Select(p => p.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Concat(keyed ? ["401", "403"] : [])
                .Concat(body ? ["400", "413", "415"] : []);
            if (route.Contains(" /api/", StringComparison.Ordinal))
            {
                // Every API route is rate limited and bounded in time; the document says what that answers.
                Assert.Equal(Limits.PerCaller, metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName);
                // An event stream stays open as long as its viewer watches: the one API route without a request timeout.
                var streams = metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>().Any(p => p.ContentTypes.Contains("text/event-stream"));
                Assert.Equal(streams ? null : Limits.GrainCalls, metadata.GetMetadata<RequestTimeoutAttribute>()?.PolicyName);
                expected = expected.Concat(["429", "503"]);
                Assert.Contains("Retry-After", operation.Responses["429"].Headers!.Keys);
                Assert.Contains("Retry-After", operation.Responses["503"].Headers!.Keys);
            }
            Assert.Empty(expected.Except(responses));
            Assert.Contains(responses, r => r.StartsWith('2'));
            foreach (var (status, response) in operation.Responses.Where(r => r.Key.StartsWith('4') || (r.Key == "503" && route.Contains(" /api/", StringComparison.Ordinal))))
            {
                var problem = Assert.Contains("application/problem+json", response.Content!);
                Assert.Equal("ProblemDetails", (problem.Schema as OpenApiSchemaReference)?.Reference.Id);
                Assert.False(string.IsNullOrWhiteSpace(response.Description), $"{route} {status} has no description");
            }
            var idempotent = operation.Parameters?.SingleOrDefault(p => p.Name == Input.IdempotencyHeader);
            Assert.True((metadata.GetMetadata<IdempotencyKeyMetadata>() is not null) == (idempotent is not null), $"{route}: Idempotency-Key does not match the endpoint");
            Assert.True(idempotent is null || (idempotent.In == ParameterLocation.Header && idempotent.Required), $"{route}: Idempotency-Key must be a required header");
        }
        Assert.Equal(["POST /api/carts/{shopperId}/checkout", "POST /api/links/{code}/buy", "POST /api/lives/{sessionId}/buy", "POST /api/payouts/runs"],
            Operations(document).Where(o => o.Operation.Parameters?.Any(p => p.Name == Input.IdempotencyHeader) == true).Select(o => o.Route).Order());
        Assert.Equal(SecuritySchemeType.Http, document.Components!.SecuritySchemes![ApiDescription.BearerScheme].Type);
        Assert.Equal("bearer", document.Components.SecuritySchemes[ApiDescription.BearerScheme].Scheme);
    }

    [Fact]
    public async Task Every_documented_operation_is_answered_by_its_route_and_not_by_the_fallback()
    {
        var document = await DocumentAsync();
        foreach (var (route, operation) in Operations(document))
        {
            var method = route[..route.IndexOf(' ', StringComparison.Ordinal)];
            var path = PathParameter().Replace(route[(method.Length + 1)..], "x0");
            var reply = await _server.Api.SendAsync(new HttpMethod(method), path, key: null);

            Assert.NotEqual(HttpStatusCode.MethodNotAllowed, reply.Status);
            Assert.False(reply.Status == HttpStatusCode.NotFound && reply.Raw.Contains("No route of the API", StringComparison.Ordinal), $"{route} is not routed");
            Assert.Contains(((int)reply.Status).ToString(System.Globalization.CultureInfo.InvariantCulture), operation.Responses!.Keys);
        }
    }

    /// <summary>
    /// The copy under tests that every answer is checked against and the client is generated from. After a change of
    /// the API, <c>VETRINA_WRITE_OPENAPI=1</c> makes this test write the served document there (then review the diff).
    /// </summary>
    [Fact]
    public async Task The_committed_document_is_the_served_one()
    {
        var served = JsonNode.Parse((await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK).Raw)!.AsObject();
        // The server's own address is the only part that depends on where it runs.
        served.Remove("servers");
        var committedPath = Path.Combine(SourceDirectory(), ApiContract.FileName);
        if (Environment.GetEnvironmentVariable("VETRINA_WRITE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(committedPath, served.ToJsonString(Indented) + "\n");
        }
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, ApiContract.FileName)));

        Assert.True(JsonNode.DeepEquals(served, committed),
            $"tests/Vetrina.Tests/Api/{ApiContract.FileName} is not the served document: run the OpenApi tests with VETRINA_WRITE_OPENAPI=1 and review the diff");
    }

    [Fact]
    public async Task Every_operation_has_a_unique_operationId_a_summary_and_says_which_key_it_needs()
    {
        var document = JsonNode.Parse((await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK).Raw)!;
        var ids = new List<string>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var route = $"{method.ToUpperInvariant()} {path}";
                var id = operation!["operationId"]?.GetValue<string>();
                Assert.True(id is not null && OperationId().IsMatch(id), $"{route}: operationId '{id}' is not a camelCase name");
                ids.Add(id!);
                Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{route} has no summary");
                // Keyed routes name the bearer scheme; public ones say so with an empty requirement, not by saying nothing.
                var security = Assert.IsType<JsonArray>(operation["security"], exactMatch: false);
                Assert.True(security.Count == 0 || security.All(r => r!.AsObject().Select(s => s.Key).SequenceEqual([ApiDescription.BearerScheme])),
                    $"{route}: security {security.ToJsonString()}");
            }
        }
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("createBrand", ids);
        Assert.Contains("buyNow", ids);
    }

    /// <summary>The engine leaves null members out of its answers, so a member that may be null cannot be "required".</summary>
    [Fact]
    public async Task No_member_is_both_required_and_nullable()
    {
        var document = JsonNode.Parse((await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK).Raw)!;
        var broken = new List<string>();
        foreach (var (name, schema) in document["components"]!["schemas"]!.AsObject())
        {
            var properties = schema!["properties"]?.AsObject();
            foreach (var required in schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [])
            {
                var property = properties?[required];
                var type = property?["type"];
                var nullable = (type is JsonArray types && types.Any(t => t!.GetValue<string>() == "null")) || type?.ToString() == "null"
                    || property?["oneOf"]?.AsArray().Any(o => o!["type"]?.ToString() == "null") == true;
                if (property is null || nullable)
                {
                    broken.Add($"{name}.{required}");
                }
            }
        }
        Assert.Empty(broken);
    }

    [Fact]
    public async Task The_interactive_reference_is_served_in_Development_only()
    {
        await using var development = await VetrinaServer.StartAsync(environment: "Development");

        var page = (await development.Api.GetAsync("/scalar/v1", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("text/html", page.ContentType);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Api.GetAsync("/scalar/v1", key: null)).Status);
        (await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK);
    }

    private async Task<OpenApiDocument> DocumentAsync()
    {
        var reply = (await _server.Api.GetAsync("/openapi/v1.json", key: null)).Expect(HttpStatusCode.OK);
        Assert.Equal("application/json", reply.ContentType);
        var (document, diagnostic) = OpenApiDocument.Parse(reply.Raw, "json");
        Assert.Empty(diagnostic!.Errors);
        Assert.NotNull(document);
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);
        return document;
    }

    private static IEnumerable<(string Route, OpenApiOperation Operation)> Operations(OpenApiDocument document) =>
        from path in document.Paths
        from operation in path.Value.Operations!
        select ($"{operation.Key.Method.ToUpperInvariant()} {path.Key}", operation.Value);

    private IEnumerable<(string Route, string Path, bool Excluded, Endpoint Endpoint)> MappedEndpoints()
    {
        foreach (var endpoint in _server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart separator => separator.Content,
                _ => "?",
            }))));
            var excluded = endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription == true;
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var method in methods)
            {
                // Endpoints without a method (the Prometheus pipeline) are never operations.
                yield return ($"{method} {path}", path, excluded || method == "*", endpoint);
            }
        }
    }

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex PathParameter();

    [GeneratedRegex("^[a-z][A-Za-z0-9]*$")]
    private static partial Regex OperationId();
}
