using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Silo.Hosting;

namespace Vetrina.Silo.Defaults;

/// <summary>
/// What one request may take: a rate per key, a body size, and a time. Routes name the policies (see
/// <see cref="Limits"/>); their values come from <c>Vetrina:RateLimits</c> and <c>Vetrina:Limits</c>. Every refusal is
/// problem+json: 429 with <c>Retry-After</c>, 413, and 503 with <c>Retry-After</c> when a request runs out of time.
/// </summary>
public static partial class RequestLimits
{
    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder, VetrinaSettings settings)
    {
        Validate(settings);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = settings.Limits.MaxRequestBodyBytes);
        builder.Services.AddRequestTimeouts(o => o.AddPolicy(Limits.GrainCalls, new RequestTimeoutPolicy
        {
            Timeout = settings.Limits.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = context => WriteTimeoutAsync(context, settings.Limits.RequestTimeout),
        }));
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = OnRejectedAsync;
            o.AddPolicy(Limits.PerCaller, context => Partition(context, settings.RateLimits));
        });
        if (settings.Limits.TrustedProxies.Length > 0)
        {
            var networks = settings.Limits.TrustedProxies.Select(TrustedNetwork).ToArray();
            builder.Services.Configure<ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var network in networks)
                {
                    o.KnownIPNetworks.Add(network);
                }
            });
        }
        var lookups = settings.RateLimits.KeyLookups;
        builder.Services.Configure<KeyLookupLimitOptions>(o => o.PerAddress = settings.RateLimits.Enabled
            ? PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => Bucket(lookups)))
            : null);
        return builder;
    }

    /// <summary>With trusted proxies configured, takes the client address from their <c>X-Forwarded-For</c>.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, VetrinaSettings settings) =>
        settings.Limits.TrustedProxies.Length > 0 ? app.UseForwardedHeaders() : app;

    /// <summary>Refuses a body larger than the limit before anything reads it.</summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max)
        {
            await WriteTooLargeAsync(context, max);
            return;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            // A chunked body without Content-Length that turns out larger than the limit.
            await WriteTooLargeAsync(context, limit ?? 0);
        }
    });

    private static RateLimitPartition<string> Partition(HttpContext context, RateLimitSettings settings)
    {
        if (!settings.Enabled)
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        var user = context.User;
        var (partition, limit) = user.IsPlatform() ? ("platform", settings.Platform)
            : user.BrandId() is { } brandId ? ("brand:" + brandId, settings.Brand)
            : user.CreatorId() is { } creatorId ? ("creator:" + creatorId, settings.Creator)
            : ("address:" + ClientAddress.Of(context), settings.Anonymous);
        return RateLimitPartition.GetTokenBucketLimiter(partition, _ => Bucket(limit));
    }

    private static TokenBucketRateLimiterOptions Bucket(RateLimit limit)
    {
        // The partitioned limiter refills every bucket on one 100 ms heartbeat; finer periods would not be honoured.
        var (tokens, period) = limit.PermitsPerSecond switch
        {
            >= 10 => ((int)Math.Round(limit.PermitsPerSecond / 10), TimeSpan.FromMilliseconds(100)),
            >= 1 => ((int)Math.Round(limit.PermitsPerSecond), TimeSpan.FromSeconds(1)),
            _ => (1, TimeSpan.FromSeconds(1 / limit.PermitsPerSecond)),
        };
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var seconds = Problems.SetRetryAfter(rejected.HttpContext, rejected.Lease);
        await Problems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This key (or, without a valid key, this client address) sent more requests than its rate limit allows. Retry after {seconds} s.");
    }

    private static Task WriteTimeoutAsync(HttpContext context, TimeSpan timeout)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestLimits));
        RequestTimedOut(logger, context.Request.Method, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText, timeout);
        context.Response.Headers.RetryAfter = UnavailableAnswers.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable",
            $"The engine did not answer within {timeout.TotalSeconds:0.###} s; the request may still take effect. {UnavailableAnswers.RetryAdvice}");
    }

    private static Task WriteTooLargeAsync(HttpContext context, long limit)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        // The unread body is over the limit, so Kestrel will not drain it and closes the connection after this answer;
        // saying so keeps a client from sending its next request on a connection that is about to close.
        context.Response.Headers.Connection = "close";
        return Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Body too large",
            $"The request body is larger than the limit of {limit} bytes.");
    }

    private static void Validate(VetrinaSettings settings)
    {
        var limits = settings.RateLimits;
        foreach (var (name, limit) in new[] { ("Platform", limits.Platform), ("Brand", limits.Brand), ("Creator", limits.Creator), ("Anonymous", limits.Anonymous), ("KeyLookups", limits.KeyLookups) })
        {
            if (limit.PermitsPerSecond <= 0 || limit.Burst < 1)
            {
                throw new InvalidOperationException(
                    $"Vetrina:RateLimits:{name} needs PermitsPerSecond above 0 and Burst of at least 1 (or set Vetrina:RateLimits:Enabled=false).");
            }
        }
        if (settings.Limits.RequestTimeout <= TimeSpan.Zero || settings.Limits.MaxRequestBodyBytes < 1)
        {
            throw new InvalidOperationException("Vetrina:Limits:RequestTimeout and Vetrina:Limits:MaxRequestBodyBytes must be positive.");
        }
    }

    private static System.Net.IPNetwork TrustedNetwork(string entry) =>
        System.Net.IPNetwork.TryParse(entry, out var network) ? network
        : IPAddress.TryParse(entry, out var address) ? new System.Net.IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
        : throw new InvalidOperationException($"Vetrina:Limits:TrustedProxies: '{entry}' is neither an IP address nor a CIDR network.");

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "{Method} {Route} did not finish within {Timeout}; answered 503")]
    private static partial void RequestTimedOut(ILogger logger, string method, string? route, TimeSpan timeout);
}
