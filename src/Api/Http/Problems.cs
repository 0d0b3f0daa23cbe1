using System.Globalization;
using System.Threading.RateLimiting;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Http;

/// <summary>RFC 9457 answers: one status per kind of refusal.</summary>
public static class Problems
{
    public static ProblemHttpResult From(Failure failure) =>
        TypedResults.Problem(failure.Detail, statusCode: StatusOf(failure.Kind), title: failure.Title);

    public static ProblemHttpResult Malformed(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Malformed request");

    public static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Rule violated");

    /// <summary>Names what was not found; an id from the path is cut short, so the answer does not echo kilobytes of input.</summary>
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem($"{(what.Length <= 100 ? what : what[..100] + "…'")} does not exist.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>Writes a refusal from middleware, before any route runs: the status, a title and a detail.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>Sets <c>Retry-After</c> from a refused rate-limit lease (whole seconds, at least 1) and returns it.</summary>
    public static int SetRetryAfter(HttpContext context, RateLimitLease refused)
    {
        var seconds = refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    /// <summary>
    /// Gives every problem a detail, also those the framework writes itself (401, 403, 404 of unknown routes, 405,
    /// 415, a body that is not JSON): the contract promises status, title and detail on every error.
    /// </summary>
    public static void Complete(ProblemDetailsContext context)
    {
        if (!string.IsNullOrWhiteSpace(context.ProblemDetails.Detail))
        {
            return;
        }
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        context.ProblemDetails.Detail = status switch
        {
            StatusCodes.Status400BadRequest =>
                "The request is malformed: its body is missing or not JSON, or a value does not fit its field (for example a fraction or an out-of-range number where an integer is expected).",
            StatusCodes.Status401Unauthorized => "Send 'Authorization: Bearer <key>' with a valid platform, brand or creator key.",
            StatusCodes.Status403Forbidden => "The key is valid but may not act on this resource.",
            StatusCodes.Status404NotFound => "No route of the API matches this path.",
            StatusCodes.Status405MethodNotAllowed => "This route does not accept this HTTP method.",
            StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON with 'Content-Type: application/json'.",
            >= 500 => "The engine could not process the request; the trace id identifies it in the logs.",
            _ => context.ProblemDetails.Title ?? "The request was refused.",
        };
    }

    private static int StatusOf(FailureKind kind) => kind switch
    {
        FailureKind.NotFound => StatusCodes.Status404NotFound,
        FailureKind.Forbidden => StatusCodes.Status403Forbidden,
        FailureKind.Conflict => StatusCodes.Status409Conflict,
        FailureKind.Invalid => StatusCodes.Status422UnprocessableEntity,
        FailureKind.PaymentDeclined => StatusCodes.Status402PaymentRequired,
        _ => StatusCodes.Status503ServiceUnavailable,
    };
}

/// <summary>
/// The framework's problem writer declines a client whose Accept header names no JSON type (say <c>application/xml</c>):
/// its errors then came as plain text, or as a 500 where the writer was required. The contract promises problem+json on
/// every error, so after the framework's writer this one takes every other client and writes the same JSON.
/// </summary>
public sealed class ProblemJsonForEveryClient(IServiceProvider services) : IProblemDetailsWriter
{
    private IProblemDetailsWriter? _json;

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context) =>
        (_json ??= services.GetServices<IProblemDetailsWriter>().First(w => w is not ProblemJsonForEveryClient)).WriteAsync(context);
}
