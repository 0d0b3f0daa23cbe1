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

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem($"{what} does not exist.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

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
