using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Vetrina.Tests.Pages;

/// <summary>A page visitor over plain HTTP: its own cookies, no redirects followed, form tokens read from the pages.</summary>
public sealed partial class PageSession : IDisposable
{
    private readonly HttpClient _http;

    public PageSession(Uri address)
    {
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
        {
            BaseAddress = address,
        };
    }

    public async Task<PageAnswer> GetAsync(string path)
    {
        using var answer = await _http.GetAsync(path);
        return await PageAnswer.ReadAsync(answer);
    }

    /// <summary>Posts a form; the form token of <paramref name="from"/> (the page the form is on) unless told otherwise.</summary>
    public async Task<PageAnswer> PostFormAsync(string path, PageAnswer? from, params (string Name, string Value)[] fields)
    {
        var values = fields.ToList();
        if (from?.FormToken is { } token)
        {
            values.Add(("form-token", token));
        }
        using var content = new FormUrlEncodedContent(values.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)));
        using var answer = await _http.PostAsync(path, content);
        return await PageAnswer.ReadAsync(answer);
    }

    /// <summary>Reads a text/event-stream with this visitor's cookies until a line satisfies <paramref name="wanted"/> (or the deadline).</summary>
    public async Task<string> ReadStreamUntilAsync(string path, Func<string, bool> wanted, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        using var answer = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        answer.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await answer.Content.ReadAsStreamAsync(timeout.Token));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (wanted(line))
            {
                return line;
            }
        }
        throw new Xunit.Sdk.XunitException($"The stream {path} ended before the line wanted.");
    }

    public void Dispose() => _http.Dispose();
}

public sealed partial record PageAnswer(HttpStatusCode Status, string Html, Uri? Location, HttpResponseHeaders Headers, string? ContentType)
{
    public string? FormToken => FormTokenPattern().Match(Html) is { Success: true } m ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value) : null;

    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;

    public PageAnswer Expect(HttpStatusCode status) =>
        Status == status ? this : throw new Xunit.Sdk.XunitException($"Expected {(int)status} but got {(int)Status}: {Html[..Math.Min(Html.Length, 2000)]}");

    /// <summary>The text of the page with tags removed and whitespace collapsed.</summary>
    public string Text => System.Net.WebUtility.HtmlDecode(Spaces().Replace(Tags().Replace(Html, " "), " "));

    /// <summary>The text of the first element marked <c>data-testid</c> = <paramref name="testId"/> (an element holding only text).</summary>
    public string? TestId(string testId) =>
        Regex.Match(Html, $"data-testid=\"{Regex.Escape(testId)}\"[^>]*>([^<]*)<") is { Success: true } m ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value) : null;

    /// <summary>The inner HTML of the table marked <c>data-testid</c> = <paramref name="testId"/>, or null when the page has none.</summary>
    public string? Table(string testId) =>
        Regex.Match(Html, $"<table data-testid=\"{Regex.Escape(testId)}\">(.*?)</table>", RegexOptions.Singleline) is { Success: true } m ? m.Groups[1].Value : null;

    public static async Task<PageAnswer> ReadAsync(HttpResponseMessage answer) =>
        new(answer.StatusCode, await answer.Content.ReadAsStringAsync(), answer.Headers.Location, answer.Headers, answer.Content.Headers.ContentType?.MediaType);

    [GeneratedRegex("name=\"form-token\" value=\"([^\"]+)\"")]
    private static partial Regex FormTokenPattern();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex("\\s+")]
    private static partial Regex Spaces();
}
