using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Payouts;

namespace Vetrina.Api.Endpoints;

public sealed record PayoutRunRequest(
    [property: Required, RegularExpression("^[A-Z]{3}$")] string? Currency,
    [property: Range(0, long.MaxValue)] long? MinimumMinor = null);

public sealed record PayoutLineResponse(string PayoutId, string CreatorId, long AmountMinor);

/// <summary>A payout run: <c>completed</c> with its payouts, or <c>running</c> (answered 202) with how many creators it has visited.</summary>
public sealed record PayoutRunResponse(
    string RunId,
    string Currency,
    string Status,
    long MinimumMinor,
    long TotalMinor,
    long CreatorsVisited,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<PayoutLineResponse> Payouts);

public sealed record CreatorPayoutResponse(string PayoutId, string RunId, string Currency, long AmountMinor, DateTimeOffset CreatedAt);

public sealed record StatementEntryResponse(DateTimeOffset At, LedgerMovementKind Kind, string? OrderId, string? PayoutId, long AmountMinor);

public sealed record StatementResponse(
    string CreatorId,
    string Currency,
    DateTimeOffset From,
    DateTimeOffset To,
    long OpeningMinor,
    long EarnedMinor,
    long ReversedMinor,
    long PaidMinor,
    long ClosingMinor,
    IReadOnlyList<StatementEntryResponse> Entries,
    bool EntriesTruncated);

/// <summary>Creator money: payout runs (platform), a creator's payouts and statement (that creator, or the platform).</summary>
public static class PayoutEndpoints
{
    /// <summary>Entries a statement lists at most; its sums always cover the whole period.</summary>
    public const int MaxStatementEntries = 10_000;

    public static IEndpointRouteBuilder MapPayoutEndpoints(this IEndpointRouteBuilder routes)
    {
        var payouts = routes.MapGroup("/api/payouts").WithTags("Payouts").WithCallerLimits();
        payouts.MapPost("/runs", StartRun).RequireAuthorization(Access.Platform).RequireIdempotencyKey()
            .WithName("startPayoutRun").WithSummary("Pay every creator its settled commission in a currency")
            .Produces<PayoutRunResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        payouts.MapGet("/runs/{runId}", GetRun).RequireAuthorization(Access.Platform)
            .WithName("getPayoutRun").WithSummary("A payout run: running, or completed with its payouts")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var creators = routes.MapGroup("/api/creators").WithTags("Payouts").WithCallerLimits();
        creators.MapGet("/{creatorId}/payouts", GetCreatorPayouts).RequireAuthorization(Access.PlatformOrCreatorOwner)
            .WithName("listCreatorPayouts").WithSummary("The creator's payouts, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        creators.MapGet("/{creatorId}/statement", GetStatement).RequireAuthorization(Access.PlatformOrCreatorOwner)
            .WithName("getCreatorStatement").WithSummary("The creator's statement for a period: opening, movements, closing")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return routes;
    }

    private static async Task<Results<Created<PayoutRunResponse>, Accepted<PayoutRunResponse>, ProblemHttpResult>> StartRun(
        PayoutRunRequest body, HttpRequest request, IGrainFactory grains, IOptions<PayoutOptions> options)
    {
        if (!Input.TryIdempotencyKey(request, out var idempotencyKey, out var headerError))
        {
            return Problems.Malformed(headerError);
        }
        if (body.Currency is null)
        {
            return Problems.Malformed("'currency' is required.");
        }
        if (!Currencies.IsKnown(body.Currency))
        {
            return Problems.Invalid("currency must be an ISO 4217 code such as USD.");
        }
        if (body.MinimumMinor is < 0)
        {
            return Problems.Invalid("minimumMinor must not be negative.");
        }
        var runId = Identifiers.Derived(IdPrefixes.PayoutRun, idempotencyKey);
        var run = grains.GetGrain<IPayoutRunGrain>(runId);
        var started = await run.StartAsync(body.Currency, body.MinimumMinor ?? options.Value.MinimumMinor);
        if (started.Failure is { } failure)
        {
            return Problems.From(failure);
        }
        var progress = await run.WaitAsync(options.Value.AnswerWithin) ?? started.Value!;
        var location = $"/api/payouts/runs/{runId}";
        if (!progress.Completed || await run.GetResultAsync() is not { } result)
        {
            return TypedResults.Accepted(location, Response(progress, []));
        }
        return TypedResults.Created(location, Response(result.Run, result.Payouts));
    }

    private static async Task<Results<Ok<PayoutRunResponse>, ProblemHttpResult>> GetRun(string runId, IGrainFactory grains)
    {
        if (!Identifiers.IsWellFormed(runId, IdPrefixes.PayoutRun))
        {
            return Problems.NotFound($"Payout run '{runId}'");
        }
        var run = grains.GetGrain<IPayoutRunGrain>(runId);
        if (await run.GetResultAsync() is { } result)
        {
            return TypedResults.Ok(Response(result.Run, result.Payouts));
        }
        return await run.WaitAsync(TimeSpan.Zero) is { } progress
            ? TypedResults.Ok(Response(progress, []))
            : Problems.NotFound($"Payout run '{runId}'");
    }

    private static async Task<Results<Ok<CreatorPayoutResponse[]>, ProblemHttpResult>> GetCreatorPayouts(string creatorId, IGrainFactory grains)
    {
        if (await ExistingCreator(creatorId, grains) is not { } creator)
        {
            return Problems.NotFound($"Creator '{creatorId}'");
        }
        var payouts = await creator.GetPayoutsAsync();
        return TypedResults.Ok(payouts.OrderByDescending(p => p.CreatedAt)
            .Select(p => new CreatorPayoutResponse(p.PayoutId, p.RunId, p.Currency, p.AmountMinor, p.CreatedAt)).ToArray());
    }

    private static async Task<Results<Ok<StatementResponse>, ProblemHttpResult>> GetStatement(
        string creatorId, string? currency, string? from, string? to, IGrainFactory grains, CommerceClock clock)
    {
        if (currency is null)
        {
            return Problems.Malformed("The 'currency' query parameter is required.");
        }
        if (!Currencies.IsKnown(currency))
        {
            return Problems.Invalid("currency must be an ISO 4217 code such as USD.");
        }
        // Without 'to', up to now included: the first whole millisecond after it (the books keep milliseconds).
        var now = clock.UtcNow;
        var afterNow = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds() + 1);
        if (!TryInstant(from, DateTimeOffset.UnixEpoch, out var start) || !TryInstant(to, afterNow, out var end))
        {
            return Problems.Malformed("'from' and 'to' must be ISO 8601 instants, for example 2026-12-01T00:00:00Z.");
        }
        if (start > end)
        {
            return Problems.Invalid("'from' must not be after 'to'.");
        }
        if (await ExistingCreator(creatorId, grains) is not { } creator)
        {
            return Problems.NotFound($"Creator '{creatorId}'");
        }
        var statement = await creator.GetStatementAsync(currency, new StatementPeriod(start, end), MaxStatementEntries);
        return TypedResults.Ok(new StatementResponse(creatorId, currency, start, end, statement.OpeningMinor, statement.EarnedMinor,
            statement.ReversedMinor, statement.PaidMinor, statement.ClosingMinor,
            statement.Entries.Select(e => new StatementEntryResponse(e.At, e.Kind, e.OrderId, e.PayoutId, e.AmountMinor)).ToArray(),
            statement.EntriesTruncated));
    }

    private static async Task<ICreatorGrain?> ExistingCreator(string creatorId, IGrainFactory grains)
    {
        // The platform key may name any id here; one that is not a creator id never reaches a grain.
        if (!Input.IsCreatorId(creatorId))
        {
            return null;
        }
        var creator = grains.GetGrain<ICreatorGrain>(creatorId);
        return await creator.GetAsync() is null ? null : creator;
    }

    private static bool TryInstant(string? text, DateTimeOffset otherwise, out DateTimeOffset instant)
    {
        instant = otherwise;
        return text is null || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
    }

    private static PayoutRunResponse Response(PayoutRunView run, IReadOnlyList<Payout> payouts) =>
        new(run.RunId, run.Currency, run.Completed ? "completed" : "running", run.MinimumMinor, payouts.Sum(p => p.AmountMinor), run.CreatorsVisited,
            run.CreatedAt, run.CompletedAt, payouts.Select(p => new PayoutLineResponse(p.PayoutId, p.CreatorId, p.AmountMinor)).ToArray());
}
