using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Vetrina.Api.Http;

namespace Vetrina.Api.Auth;

/// <summary>The host's limit on checks of unknown brand and creator keys, per client address (none when null).</summary>
public sealed class KeyLookupLimitOptions
{
    public PartitionedRateLimiter<string>? PerAddress { get; set; }
}

/// <summary>
/// A brand or creator key that this process has not verified yet costs a grain call, and a storage read, to check.
/// Such checks are limited per client (<see cref="ClientAddress"/>): once a client has spent its budget, its unknown
/// keys are answered 429 before authentication runs, without reaching a grain. A valid key costs one check, then it is
/// remembered; verified keys and the platform key never count. Where the caller does not matter (health,
/// the OpenAPI document, unknown paths: no access rule and no per-key bucket) such keys are not checked at all.
/// </summary>
public static class KeyLookupLimit
{
    /// <summary>Set on a request whose brand or creator key the authentication handler must not look up.</summary>
    public const string NotLookedUp = "vetrina.key-not-looked-up";

    public static IApplicationBuilder UseKeyLookupLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var platformKey = context.RequestServices.GetRequiredService<IOptionsMonitor<ApiKeyOptions>>().Get(ApiKeyAuthenticationHandler.SchemeName).PlatformKey;
        if (!ApiKeyAuthenticationHandler.NeedsLookup(context.Request, platformKey, context.RequestServices.GetRequiredService<VerifiedKeys>()))
        {
            await next(context);
            return;
        }
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<EnableRateLimitingAttribute>() is null && metadata?.GetMetadata<IAuthorizeData>() is null)
        {
            // Who calls does not matter here: no access rule and no per-key bucket.
            context.Items[NotLookedUp] = true;
            await next(context);
            return;
        }
        var limiter = context.RequestServices.GetRequiredService<IOptions<KeyLookupLimitOptions>>().Value.PerAddress;
        if (limiter is null)
        {
            await next(context);
            return;
        }
        // Charged before the check, so concurrent requests cannot all slip in before any of them is counted.
        using var lease = limiter.AttemptAcquire(ClientAddress.Of(context));
        if (lease.IsAcquired)
        {
            await next(context);
            return;
        }
        var seconds = Problems.SetRetryAfter(context, lease);
        await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests",
            $"This client sent more unknown keys than may be checked. Retry after {seconds} s.");
    });
}
