using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;

namespace Vetrina.Api.Http;

/// <summary>
/// When a silo dies, a grain call can fail or time out and storage can refuse a write until the cluster has
/// recovered. None of that is the client's fault and all of it passes: the answer is 503 problem+json with
/// <c>Retry-After</c>; a checkout retried with the same <c>Idempotency-Key</c> completes or replays the first outcome,
/// and other changes are looked up before they are repeated (see <see cref="RetryAdvice"/>).
/// Anything else stays a 500, because it is a bug.
/// </summary>
public sealed class UnavailableAnswers(IProblemDetailsService problems) : IExceptionHandler
{
    public const int RetryAfterSeconds = 1;

    /// <summary>
    /// Only checkouts and buys carry an Idempotency-Key; other changes (a stock delta, a refund, a creation) may
    /// have landed, so the client looks before it repeats them.
    /// </summary>
    public const string RetryAdvice = "A checkout or buy retried with the same Idempotency-Key is never applied twice; " +
        "before repeating any other change, read the resource to see whether it took effect.";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception))
        {
            return false;
        }
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "The engine could not complete the request just now (a silo or the store is recovering); " +
                         "the request may still take effect. " + RetryAdvice,
            },
        });
    }

    private static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OrleansException or TimeoutException or DbException)
            {
                return true;
            }
        }
        return false;
    }
}
