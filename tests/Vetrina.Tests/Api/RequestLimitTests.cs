using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Vetrina.Api.Http;
using Vetrina.Grains.Payments;

namespace Vetrina.Tests.Api;

/// <summary>
/// What one request may take: a rate per key, a body size, a time. Each server here sets its limit low; the defaults
/// are generous enough for every other test (200 concurrent buyers on one platform key).
/// </summary>
public sealed class RequestLimitTests
{
    private static void AssertProblem(Reply reply, HttpStatusCode status)
    {
        Assert.True(reply.Status == status, $"expected {(int)status}, got {(int)reply.Status}: {reply.Raw}");
        Assert.True(reply.IsProblem, $"not a complete problem+json: {reply.ContentType} {reply.Raw}");
    }

    private static int RetryAfterSeconds(Reply reply)
    {
        Assert.True(int.TryParse(reply.Header("Retry-After"), out var seconds), $"no Retry-After in seconds: {reply.Header("Retry-After")}");
        return seconds;
    }

    [Fact]
    public async Task A_key_that_spent_its_bucket_gets_429_with_Retry_After_and_other_keys_are_unaffected()
    {
        // A bucket of 4 that refills one request every 1000 s: the fifth request of a brand key is refused.
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:Brand:Burst"] = "4",
            ["Vetrina:RateLimits:Brand:PermitsPerSecond"] = "0.001",
        });
        var api = server.Api;
        var limited = await api.CreateBrandAsync();
        var other = await api.CreateBrandAsync();

        var product = await api.CreateProductAsync(limited, stock: 7);
        for (var i = 0; i < 3; i++)
        {
            (await api.GetAsync($"/api/brands/{limited.Id}", limited.Key)).Expect(HttpStatusCode.OK);
        }
        var refused = await api.PostAsync($"/api/products/{product}/stock", new { delta = 5 }, limited.Key);

        AssertProblem(refused, HttpStatusCode.TooManyRequests);
        Assert.InRange(RetryAfterSeconds(refused), 1, 1000);
        Assert.Equal(7, (await api.ProductAsync(product)).GetProperty("available").GetInt32());
        AssertProblem(await api.GetAsync($"/api/brands/{limited.Id}", limited.Key), HttpStatusCode.TooManyRequests);
        // Another brand's key and the platform key have buckets of their own.
        for (var i = 0; i < 4; i++)
        {
            (await api.GetAsync($"/api/brands/{other.Id}", other.Key)).Expect(HttpStatusCode.OK);
        }
        (await api.GetAsync($"/api/brands/{limited.Id}")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Requests_without_a_valid_key_share_the_bucket_of_their_address()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:Anonymous:Burst"] = "3",
            ["Vetrina:RateLimits:Anonymous:PermitsPerSecond"] = "0.001",
        });
        var api = server.Api;
        var product = await api.CreateProductAsync(await api.CreateBrandAsync());

        (await api.GetAsync($"/api/products/{product}", key: null)).Expect(HttpStatusCode.OK);
        AssertProblem(await api.GetAsync("/api/cluster", key: "guessed-key"), HttpStatusCode.Unauthorized);
        AssertProblem(await api.GetAsync("/api/cluster", key: null), HttpStatusCode.Unauthorized);

        // Guessing keys spends the address's bucket like anonymous reads do.
        var refused = await api.GetAsync("/api/cluster", key: "another-guess");
        AssertProblem(refused, HttpStatusCode.TooManyRequests);
        Assert.True(RetryAfterSeconds(refused) >= 1);
        AssertProblem(await api.GetAsync($"/api/products/{product}", key: null), HttpStatusCode.TooManyRequests);
        (await api.GetAsync($"/api/products/{product}")).Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket_and_from_anyone_else_the_header_is_ignored(bool proxyTrusted)
    {
        var settings = new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:Anonymous:Burst"] = "2",
            ["Vetrina:RateLimits:Anonymous:PermitsPerSecond"] = "0.001",
        };
        if (proxyTrusted)
        {
            settings["Vetrina:Limits:TrustedProxies:0"] = "10.0.0.0/8";
            settings["Vetrina:Limits:TrustedProxies:1"] = "127.0.0.1";
        }
        await using var server = await VetrinaServer.StartAsync(settings: settings);
        using var http = server.Api.CreateRawClient();
        async Task<HttpStatusCode> ReadAsClientAsync(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/products/p_0000000000000000000000");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.NotFound, await ReadAsClientAsync("203.0.113.1"));
        Assert.Equal(HttpStatusCode.NotFound, await ReadAsClientAsync("203.0.113.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await ReadAsClientAsync("203.0.113.1"));
        // Another client behind the proxy has a full bucket; a header sent by an untrusted peer changes nothing.
        Assert.Equal(proxyTrusted ? HttpStatusCode.NotFound : HttpStatusCode.TooManyRequests, await ReadAsClientAsync("203.0.113.2"));
    }

    [Fact]
    public async Task Rate_limits_can_be_switched_off()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:Enabled"] = "false",
            ["Vetrina:RateLimits:Anonymous:Burst"] = "1",
            ["Vetrina:RateLimits:Anonymous:PermitsPerSecond"] = "0.001",
        });
        for (var i = 0; i < 5; i++)
        {
            (await server.Api.GetAsync("/health/live", key: null)).Expect(HttpStatusCode.OK);
            AssertProblem(await server.Api.GetAsync("/api/products/p_0000000000000000000000", key: null), HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Unknown_keys_from_one_client_are_checked_only_up_to_the_lookup_budget_and_then_refused_429_before_authentication()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:KeyLookups:Burst"] = "5",
            ["Vetrina:RateLimits:KeyLookups:PermitsPerSecond"] = "0.001",
        });
        var api = server.Api;
        var brand = await api.CreateBrandAsync();
        var creator = await api.CreateCreatorAsync();
        // Each party's first request checks its key (2 of 5 checks); from then on the key is remembered and never counts.
        await api.CreateProductAsync(brand);
        (await api.GetAsync($"/api/creators/{creator.Id}/earnings", creator.Key)).Expect(HttpStatusCode.OK);

        var answers = new List<Reply>();
        for (var i = 0; i < 10; i++)
        {
            var owner = (i % 2 == 0 ? "c_" : "b_") + Guid.NewGuid().ToString("N")[..(creator.Id.Length - 2)];
            answers.Add(await api.GetAsync($"/api/creators/{creator.Id}/earnings", key: owner + ".guessed-secret"));
        }

        Assert.All(answers.Take(3), reply => AssertProblem(reply, HttpStatusCode.Unauthorized));
        Assert.All(answers.Skip(3), reply =>
        {
            AssertProblem(reply, HttpStatusCode.TooManyRequests);
            Assert.True(RetryAfterSeconds(reply) >= 1);
        });
        // Known keys go on; a made-up key where the caller does not matter is not looked up at all.
        await api.CreateProductAsync(brand);
        (await api.GetAsync($"/api/creators/{creator.Id}/earnings", creator.Key)).Expect(HttpStatusCode.OK);
        (await api.GetAsync("/health/live", key: "b_0000000000000000000000.guessed-secret")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_refilling_lookup_budget_lets_through_no_more_unknown_keys_than_its_rate()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:RateLimits:KeyLookups:Burst"] = "5",
            ["Vetrina:RateLimits:KeyLookups:PermitsPerSecond"] = "10",
        });
        var api = server.Api;
        var creator = await api.CreateCreatorAsync();

        // Unknown keys for two seconds (at most 4,000 of them), long enough for the bucket to refill many times.
        var clock = Stopwatch.StartNew();
        var checkedKeys = 0;
        for (var i = 0; i < 4_000 && clock.Elapsed < TimeSpan.FromSeconds(2); i++)
        {
            var owner = "c_" + Guid.NewGuid().ToString("N")[..(creator.Id.Length - 2)];
            var reply = await api.GetAsync($"/api/creators/{creator.Id}/earnings", key: owner + ".guessed-secret");
            Assert.Contains(reply.Status, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests });
            checkedKeys += reply.Status == HttpStatusCode.Unauthorized ? 1 : 0;
        }
        clock.Stop();

        // The bucket's size, plus its refill while the requests ran, plus a second of refill as slack for timer jitter.
        var allowed = 5 + (int)Math.Ceiling(10 * clock.Elapsed.TotalSeconds) + 10;
        Assert.True(checkedKeys <= allowed, $"{checkedKeys} unknown keys were checked in {clock.Elapsed.TotalSeconds:0.0} s; at most {allowed} may be");
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void Per_address_limits_count_an_IPv6_client_by_its_64_network(string address, string counted) =>
        Assert.Equal(counted, ClientAddress.Of(System.Net.IPAddress.Parse(address)));

    [Fact]
    public async Task A_body_over_the_limit_answers_413_problem_json_with_or_without_Content_Length_and_changes_nothing()
    {
        await using var server = await VetrinaServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Vetrina:Limits:MaxRequestBodyBytes"] = "2048",
        });
        var api = server.Api;
        var product = await api.CreateProductAsync(await api.CreateBrandAsync());
        var shopper = "body-" + Guid.NewGuid().ToString("N");
        var path = $"/api/carts/{shopper}/items/{product}";
        string Body(int padding) => $"{{\"quantity\":2,\"note\":\"{new string('x', padding)}\"}}";

        var refused = await api.SendAsync(HttpMethod.Put, path, rawBody: Body(3000));
        AssertProblem(refused, HttpStatusCode.RequestEntityTooLarge);
        // The unread body is not drained, so the connection closes; the answer says so, and no request follows on it.
        Assert.Equal("close", refused.Header("Connection"));
        AssertProblem(await SendChunkedAsync(server, path, Body(3000)), HttpStatusCode.RequestEntityTooLarge);
        AssertProblem(await SendChunkedAsync(server, path, Body(200_000)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty((await api.GetAsync($"/api/carts/{shopper}")).Expect(HttpStatusCode.OK).Body.GetProperty("lines").EnumerateArray());

        // Just under the limit is a normal request (the unknown property is ignored).
        (await api.SendAsync(HttpMethod.Put, path, rawBody: Body(1900))).Expect(HttpStatusCode.OK);
        (await SendChunkedAsync(server, path, Body(1900).Replace("2", "3", StringComparison.Ordinal))).Expect(HttpStatusCode.OK);
        var line = Assert.Single((await api.GetAsync($"/api/carts/{shopper}")).Body.GetProperty("lines").EnumerateArray());
        Assert.Equal(3, line.GetProperty("quantity").GetInt32());
    }

    [Fact]
    public async Task A_stuck_grain_call_answers_503_problem_json_within_the_request_timeout_and_a_retry_completes_once()
    {
        var gateway = new TestPaymentGateway(held: true);
        await using var server = await VetrinaServer.StartAsync(
            settings: new Dictionary<string, string> { ["Vetrina:Limits:RequestTimeout"] = "00:00:01" },
            services: s => s.AddSingleton<IPaymentGateway>(gateway));
        var api = server.Api;
        var product = await api.CreateProductAsync(await api.CreateBrandAsync(), stock: 5);
        var code = await api.CreateLinkAsync(await api.CreateCreatorAsync(), product);

        var clock = Stopwatch.StartNew();
        var stuck = await api.BuyAsync(code, "stuck-shopper", idempotencyKey: "stuck-1");
        clock.Stop();

        AssertProblem(stuck, HttpStatusCode.ServiceUnavailable);
        Assert.True(RetryAfterSeconds(stuck) >= 1);
        Assert.True(gateway.Charges >= 1, "the checkout reached the payment gateway, which holds it");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(15));
        // The engine still serves everything that does not wait on the held checkout.
        (await api.GetAsync($"/api/products/{product}", key: null)).Expect(HttpStatusCode.OK);

        gateway.Release();
        var first = (await api.BuyAsync(code, "stuck-shopper", idempotencyKey: "stuck-1")).Expect(HttpStatusCode.Created);
        var again = (await api.BuyAsync(code, "stuck-shopper", idempotencyKey: "stuck-1")).Expect(HttpStatusCode.Created);
        Assert.Equal(first.Str("orderId"), again.Str("orderId"));
        Assert.Equal(4, (await api.ProductAsync(product)).GetProperty("available").GetInt32());
    }

    /// <summary>
    /// Sends <paramref name="body"/> with <c>Transfer-Encoding: chunked</c> (no Content-Length) over a raw socket, writing
    /// and reading at once as a careful client does: the server may answer 413 and close while the body is still being
    /// written, and its answer must be read all the same. (HttpClient may report the failed write instead of the
    /// answer that arrived first, which made this test depend on timing.)
    /// </summary>
    private static async Task<Reply> SendChunkedAsync(VetrinaServer server, string path, string body)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Address.Host, server.Address.Port, deadline.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        var head = $"PUT {path} HTTP/1.1\r\nHost: {server.Address.Authority}\r\nAuthorization: Bearer {VetrinaServer.PlatformKey}\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        var writing = WriteChunkedAsync(stream, Encoding.ASCII.GetBytes(head), Encoding.UTF8.GetBytes(body), deadline.Token);

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: what arrived before it is the answer.
        }
        await writing;
        return ParseResponse(received.ToArray());
    }

    private static async Task WriteChunkedAsync(Stream stream, byte[] head, byte[] body, CancellationToken cancellation)
    {
        try
        {
            await stream.WriteAsync(head, cancellation);
            for (var offset = 0; offset < body.Length; offset += 4096)
            {
                var chunk = body.AsMemory(offset, Math.Min(4096, body.Length - offset));
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"), cancellation);
                await stream.WriteAsync(chunk, cancellation);
                await stream.WriteAsync("\r\n"u8.ToArray(), cancellation);
            }
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cancellation);
        }
        catch (IOException)
        {
            // The server stopped reading: it answered already.
        }
    }

    private static Reply ParseResponse(byte[] response)
    {
        var endOfHead = response.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(endOfHead > 0, $"no complete answer arrived: '{Encoding.UTF8.GetString(response)}'");
        var lines = Encoding.ASCII.GetString(response, 0, endOfHead).Split("\r\n");
        var status = (HttpStatusCode)int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1)
            .Select(line => line.Split(':', 2))
            .GroupBy(header => header[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(group => group.Key, group => group.Select(header => header[1].Trim()).ToArray(), StringComparer.OrdinalIgnoreCase);
        var content = response.AsSpan(endOfHead + 4);
        var raw = headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked")
            ? Unchunk(content)
            : Encoding.UTF8.GetString(content);
        var contentType = headers.TryGetValue("Content-Type", out var type) ? type[0].Split(';')[0].Trim() : null;
        return new Reply(status, contentType, raw.StartsWith('{') ? JsonDocument.Parse(raw).RootElement.Clone() : default, raw)
        {
            Headers = headers,
        };
    }

    private static string Unchunk(ReadOnlySpan<byte> chunked)
    {
        var body = new MemoryStream();
        while (true)
        {
            var endOfSize = chunked.IndexOf("\r\n"u8);
            var size = int.Parse(chunked[..endOfSize], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return Encoding.UTF8.GetString(body.ToArray());
            }
            body.Write(chunked.Slice(endOfSize + 2, size));
            chunked = chunked[(endOfSize + 2 + size + 2)..];
        }
    }
}
