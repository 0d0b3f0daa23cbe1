using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// The OpenAPI document as a client reads it, compiled to check answers: which operation a request reached, whether
/// the status is one the operation documents, the content type one of its media types, and the body valid against its
/// schema (JSON Schema 2020-12, as OpenAPI 3.1 says). It reads the committed copy of the document
/// (<see cref="FileName"/>), which <c>OpenApiTests</c> proves equal to what <c>/openapi/v1.json</c> serves.
/// Thread-safe: schemas are built once, on first use, and evaluated concurrently.
/// </summary>
public sealed partial class ApiContract
{
    public const string FileName = "openapi.v1.json";

    /// <summary>The document's identity for reference resolution; it is never fetched.</summary>
    private static readonly Uri DocumentUri = new("https://vetrina.test/openapi/v1.json");

    private static readonly Lazy<ApiContract> Committed = new(() => new ApiContract(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, FileName))));

    private static readonly EvaluationOptions Quick = new() { OutputFormat = OutputFormat.Flag };
    private static readonly EvaluationOptions Detailed = new() { OutputFormat = OutputFormat.List };

    private readonly List<Operation> _operations = [];
    private readonly BuildOptions _build;
    private readonly ConcurrentDictionary<string, Lazy<JsonSchema>> _schemas = new(StringComparer.Ordinal);
    private int _built;

    public ApiContract(string document)
    {
        var root = JsonNode.Parse(document)!.AsObject();
        var registry = new SchemaRegistry();
        registry.Register(new JsonElementBaseDocument(JsonSerializer.SerializeToElement(root), DocumentUri));
        _build = new BuildOptions { SchemaRegistry = registry, Dialect = Dialect.Draft202012 };
        foreach (var (path, item) in root["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                _operations.Add(new Operation(method.ToUpperInvariant(), path, Template(path), operation!["operationId"]?.GetValue<string>(),
                    operation["responses"]!.AsObject().ToDictionary(r => r.Key, r => Media(r.Value!), StringComparer.Ordinal)));
            }
        }
        // A literal segment beats a parameter where two templates could both match ("runs" before "{runId}").
        _operations.Sort((a, b) => Parameters(a.Path).CompareTo(Parameters(b.Path)));
    }

    /// <summary>The document committed beside the tests, compiled once per test run.</summary>
    public static ApiContract Served => Committed.Value;

    /// <summary>How many response schemas have been compiled so far (each once).</summary>
    public int SchemasBuilt => Volatile.Read(ref _built);

    /// <summary>
    /// What is wrong with an answer to <paramref name="method"/> <paramref name="path"/>: empty when it matches the
    /// document, or when the request reached no documented operation (an unknown path, a method the path lacks, the
    /// fallback's 404): there is nothing to check it against.
    /// </summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? mediaType, string body)
    {
        if (Find(method, path) is not { } operation || status == 405 || IsFallback(status, body))
        {
            return [];
        }
        var code = status.ToString(CultureInfo.InvariantCulture);
        var key = operation.Responses.ContainsKey(code) ? code
            : operation.Responses.ContainsKey($"{code[0]}XX") ? $"{code[0]}XX"
            : operation.Responses.ContainsKey("default") ? "default" : null;
        if (key is null)
        {
            return [$"status {status} is not documented for {operation.Name} (documented: {string.Join(", ", operation.Responses.Keys)})"];
        }
        var media = operation.Responses[key];
        if (media.Count == 0)
        {
            return body.Length == 0 ? [] : [$"{status} of {operation.Name} documents no body, but one came ({mediaType})"];
        }
        if (mediaType is null || !media.Contains(mediaType))
        {
            return [$"{status} of {operation.Name} came as '{mediaType ?? "no content type"}', documented: {string.Join(", ", media)}"];
        }
        if (!IsJson(mediaType))
        {
            return [];
        }
        JsonElement instance;
        try
        {
            using var parsed = JsonDocument.Parse(body);
            instance = parsed.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            return [$"{status} of {operation.Name} is not JSON: {exception.Message}"];
        }
        var pointer = $"/paths/{Escape(operation.Path)}/{operation.Method.ToLowerInvariant()}/responses/{key}/content/{Escape(mediaType)}/schema";
        var schema = _schemas.GetOrAdd(pointer, p => new Lazy<JsonSchema>(() => Build(p))).Value;
        if (schema.Evaluate(instance, Quick).IsValid)
        {
            return [];
        }
        var errors = schema.Evaluate(instance, Detailed).Details?
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({e.Key} at {d.EvaluationPath})"))
            .Distinct()
            .ToList() ?? [];
        return [$"{status} of {operation.Name} breaks its schema: {(errors.Count == 0 ? "invalid" : string.Join("; ", errors))}"];
    }

    /// <summary>The documented operation a request reaches, if any.</summary>
    public string? OperationOf(string method, string path) => Find(method, path)?.Name;

    private Operation? Find(string method, string path) =>
        _operations.FirstOrDefault(o => o.Method.Equals(method, StringComparison.OrdinalIgnoreCase) && o.Pattern.IsMatch(path));

    /// <summary>
    /// A response schema, found by its place in the document: a wrapper whose one reference points there, so the
    /// references inside it resolve against the whole document.
    /// </summary>
    private JsonSchema Build(string pointer)
    {
        var wrapper = new JsonObject { ["$ref"] = $"{DocumentUri}#{pointer}" };
        var schema = JsonSchema.Build(JsonSerializer.SerializeToElement(wrapper), _build, new Uri($"https://vetrina.test/responses/{Interlocked.Increment(ref _built)}"));
        return schema;
    }

    private static bool IsFallback(int status, string body) =>
        status == 404 && body.Contains("No route of the API", StringComparison.Ordinal);

    private static bool IsJson(string mediaType) =>
        mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    private static HashSet<string> Media(JsonNode response) =>
        response["content"] is JsonObject content ? content.Select(c => c.Key).ToHashSet(StringComparer.Ordinal) : new HashSet<string>();

    private static Regex Template(string path) =>
        new("^" + Parameter().Replace(Regex.Escape(path).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+") + "/?$", RegexOptions.CultureInvariant);

    private static int Parameters(string path) => path.Count(c => c == '{');

    // JSON Pointer (RFC 6901) escaping, then what a URI fragment may not hold as it is.
    private static string Escape(string segment) =>
        Uri.EscapeDataString(segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal));

    [GeneratedRegex(@"\{[^}/]+\}")]
    private static partial Regex Parameter();

    private sealed record Operation(string Method, string Path, Regex Pattern, string? OperationId, Dictionary<string, HashSet<string>> Responses)
    {
        public string Name => $"{OperationId ?? "(no operationId)"} ({Method} {Path})";
    }
}
