using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;

namespace Vetrina.Api.Http;

/// <summary>
/// When a silo dies, a grain call can fail or time out and storage can refuse a write until the cluster has
/// recovered. None of that is the client's fault and all of it passes: the answer is 503 problem+json with
/// <c>Retry-After</c>, and a retry with the same <c>Idempotency-Key</c> completes or replays the first outcome.
/// Anything else stays a 500, because it is a bug.
/// </summary>
public sealed class UnavailableAnswers(IProblemDetailsService problems) : IExceptionHandler
{
    public const int RetryAfterSeconds = 1;

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
                Detail = "The engine could not complete the request just now (a silo or the store is recovering). " +
                         "Retry it; a checkout retried with the same Idempotency-Key is never applied twice.",
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
