namespace Vetrina.Api.Http;

/// <summary>
/// The limits a route group declares, by name. Their values are the host's (<c>Vetrina:RateLimits</c>,
/// <c>Vetrina:Limits</c>); the host registers both policies.
/// </summary>
public static class Limits
{
    /// <summary>Rate-limit policy: one token bucket per key, or per client address for requests without a valid key.</summary>
    public const string PerCaller = "per-caller";

    /// <summary>Request-timeout policy of routes that wait on grains: past it they answer 503 problem+json.</summary>
    public const string GrainCalls = "grain-calls";

    /// <summary>Both limits, for a group of API routes.</summary>
    public static RouteGroupBuilder WithCallerLimits(this RouteGroupBuilder group)
    {
        group.RequireRateLimiting(PerCaller).WithRequestTimeout(GrainCalls).AddEndpointFilter(StopWaitingAtTimeout);
        return group;
    }

    // A grain call does not observe the request's cancellation, so a stuck one would hold the request forever. When
    // the timeout fires we stop waiting and the timeout middleware answers 503; the call runs on and its result is
    // dropped. Checkouts and buys are idempotent by their Idempotency-Key; for other changes the 503 tells the client
    // the change may have landed and to look before repeating it (UnavailableAnswers.RetryAdvice).
    private static async ValueTask<object?> StopWaitingAtTimeout(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        await next(context).AsTask().WaitAsync(context.HttpContext.RequestAborted);
}
