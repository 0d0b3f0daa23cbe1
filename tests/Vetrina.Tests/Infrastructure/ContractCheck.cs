using System.Collections.Concurrent;

namespace Vetrina.Tests.Infrastructure;

/// <summary>An answer that does not match the OpenAPI document.</summary>
public sealed class ContractViolationException(string message) : Xunit.Sdk.XunitException(message);

/// <summary>The violations of the OpenAPI document seen by one client (and the raw clients that share its log).</summary>
public sealed class ContractLog
{
    private const int Listed = 20;
    private readonly ConcurrentQueue<string> _violations = new();
    private long _checked;

    /// <summary>Answers checked so far.</summary>
    public long Checked => Interlocked.Read(ref _checked);

    public IReadOnlyList<string> Violations => [.. _violations];

    internal void Record(IEnumerable<string> violations)
    {
        Interlocked.Increment(ref _checked);
        foreach (var violation in violations)
        {
            _violations.Enqueue(violation);
        }
    }

    /// <summary>Fails when any answer broke the document: also those a test caught or never looked at.</summary>
    public void AssertKept()
    {
        var violations = Violations;
        if (violations.Count > 0)
        {
            throw new ContractViolationException(
                $"{violations.Count} answers of {Checked} broke the OpenAPI document:\n" + string.Join("\n", violations.Take(Listed)));
        }
    }
}

/// <summary>
/// Checks every answer passing through against the OpenAPI document (<see cref="ApiContract"/>) and records what
/// breaks it in a <see cref="ContractLog"/>. Bodies are buffered to be read (the caller reads them again from the
/// buffer); an event stream is checked by its status and content type only, as it never ends.
/// </summary>
public sealed class ContractCheck(ContractLog log, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public const string EventStream = "text/event-stream";

    public ContractLog Log => log;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var body = "";
        if (mediaType != EventStream)
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        var path = request.RequestUri!.AbsolutePath;
        var violations = ApiContract.Served.Check(request.Method.Method, path, (int)response.StatusCode, mediaType, body)
            .Select(v => $"{request.Method} {Shorten(request.RequestUri.PathAndQuery, 200)} → {(int)response.StatusCode}: {v}" +
                         (body.Length > 0 ? $"\n    body: {Shorten(body, 400)}" : ""))
            .ToList();
        log.Record(violations);
        request.Options.Set(Broken, violations);
        return response;
    }

    /// <summary>Throws when the answer to <paramref name="request"/> broke the document, so the test that sent it fails there.</summary>
    public static void ThrowIfBroken(HttpRequestMessage request)
    {
        if (request.Options.TryGetValue(Broken, out var violations) && violations.Count > 0)
        {
            throw new ContractViolationException("The answer breaks the OpenAPI document:\n" + string.Join("\n", violations));
        }
    }

    private static readonly HttpRequestOptionsKey<List<string>> Broken = new("vetrina-contract-violations");

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
