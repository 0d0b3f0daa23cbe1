using System.Text;

namespace Vetrina.Tests.Infrastructure;

/// <summary>One server-sent event as the stream delivered it.</summary>
public sealed record ServerEvent(string? Id, string Kind, JsonElement Data);

/// <summary>Reads a text/event-stream response event by event (comments are skipped); disposing it disconnects.</summary>
public sealed class EventReader(HttpRequestMessage request, HttpResponseMessage response, Stream body) : IDisposable
{
    private readonly StreamReader _reader = new(body);

    public HttpResponseMessage Response { get; } = response;

    /// <summary>The next event, or null when the server ended the stream.</summary>
    public async Task<ServerEvent?> NextAsync(CancellationToken cancellationToken)
    {
        string? id = null, kind = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (kind is not null || data.Length > 0)
                {
                    return new ServerEvent(id, kind ?? "message", JsonDocument.Parse(data.ToString()).RootElement.Clone());
                }
                continue;
            }
            if (line.StartsWith(':'))
            {
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": kind = value; break;
                case "data": data.Append(value); break;
            }
        }
        return null;
    }

    /// <summary>Reads until an event matches, within the deadline; fails the test if none does.</summary>
    public async Task<ServerEvent> UntilAsync(Func<ServerEvent, bool> match, List<ServerEvent>? seen = null, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(15));
        try
        {
            while (await NextAsync(timeout.Token) is { } e)
            {
                seen?.Add(e);
                if (match(e))
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }
        throw new Xunit.Sdk.XunitException("The expected event did not arrive before the deadline; saw: " +
            string.Join(", ", seen?.Select(e => $"{e.Id} {e.Kind} {e.Data.GetRawText()}") ?? []));
    }

    public void Dispose()
    {
        _reader.Dispose();
        Response.Dispose();
        request.Dispose();
    }
}
