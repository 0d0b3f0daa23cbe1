using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Reports;

namespace Vetrina.Api.Pages.Console;

/// <summary>The creator console: earnings, the last 30 days, links, payouts, statement, and live sessions to run.</summary>
public static class CreatorConsoleEndpoints
{
    private const int StatementEntries = 200;

    public static RouteGroupBuilder MapCreatorConsole(this RouteGroupBuilder creator)
    {
        creator.MapGet("", CreatorHome);
        creator.MapPost("/lives", CreateLiveAsync);
        creator.MapPost("/lives/{sessionId}/{step}", ChangeLiveAsync);
        creator.MapPost("/deals/{dealId}/start", StartDealAsync);
        return creator;
    }

    private const int ShownSessions = 5;
    private const int MaxTitleLength = 200;

    private static readonly Dictionary<string, string> Done = new(StringComparer.Ordinal)
    {
        ["live"] = "Live session created.",
        ["start"] = "You are live.",
        ["end"] = "Session ended.",
        ["showcase"] = "Showcase saved.",
        ["pin"] = "Pin changed.",
        ["deal"] = "Deal started.",
    };

    private static Task<IResult> CreatorHome(HttpContext context, ClaimsPrincipal user, string? currency, string? done, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken) =>
        CreatorPageAsync(context, user.CreatorId()!, currency, done is not null && Done.TryGetValue(done, out var notice) ? notice : null, null, grains, reports, clock, cancellationToken);

    private static async Task<IResult> CreateLiveAsync(HttpContext context, ClaimsPrincipal user, IGrainFactory grains, ReportReader reports, CommerceClock clock,
        CancellationToken cancellationToken)
    {
        var creatorId = user.CreatorId()!;
        if (await FormAsync(context, cancellationToken) is not { } form)
        {
            return await CreatorPageAsync(context, creatorId, null, null, NotFromPage, grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var title = form["title"].ToString().Trim();
        if (Input.TextError(title, "title", MaxTitleLength) is { } error)
        {
            return await CreatorPageAsync(context, creatorId, null, null, Failure.Invalid(error), grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var created = await grains.GetGrain<ICreatorGrain>(creatorId).CreateLiveAsync(title, null);
        return created.Failure is { } failure
            ? await CreatorPageAsync(context, creatorId, null, null, failure, grains, reports, clock, cancellationToken)
            : TypedResults.Redirect("/console/creator?done=live#lives");
    }

    private static async Task<IResult> ChangeLiveAsync(HttpContext context, ClaimsPrincipal user, string sessionId, string step, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken)
    {
        var creatorId = user.CreatorId()!;
        if (await FormAsync(context, cancellationToken) is not { } form)
        {
            return await CreatorPageAsync(context, creatorId, null, null, NotFromPage, grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var session = grains.GetGrain<Vetrina.Grains.Live.ILiveSessionGrain>(Input.IsLiveSessionId(sessionId) ? sessionId : IdPrefixes.LiveSession + "0");
        var products = form["productIds"].ToString().Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string? pinned = form["productId"].ToString() is { Length: > 0 } chosen ? chosen : null;
        if ((step == "showcase" && products.Any(p => !Input.IsProductId(p))) || (step == "pin" && pinned is not null && !Input.IsProductId(pinned)))
        {
            return await CreatorPageAsync(context, creatorId, null, null, Failure.Invalid("Each product id looks like p_ followed by 22 letters and digits."),
                grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var changed = !Input.IsLiveSessionId(sessionId) ? Failure.NotFound($"Live session '{sessionId}'")
            : step switch
            {
                "start" => (await session.StartAsync(creatorId)).Failure,
                "end" => (await session.EndAsync(creatorId)).Failure,
                "showcase" => (await session.SetShowcaseAsync(creatorId, products)).Failure,
                "pin" => (await session.PinAsync(creatorId, pinned)).Failure,
                _ => Failure.NotFound($"Step '{step}'"),
            };
        return changed is { } failure
            ? await CreatorPageAsync(context, creatorId, null, null, failure, grains, reports, clock, cancellationToken)
            : TypedResults.Redirect($"/console/creator?done={step}#lives");
    }

    private static async Task<IResult> StartDealAsync(HttpContext context, ClaimsPrincipal user, string dealId, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken)
    {
        var creatorId = user.CreatorId()!;
        if (await FormAsync(context, cancellationToken) is null)
        {
            return await CreatorPageAsync(context, creatorId, null, null, NotFromPage, grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var started = Input.IsFlashDealId(dealId)
            ? (await grains.GetGrain<Vetrina.Grains.Deals.IFlashDealGrain>(dealId).StartAsync(null, creatorId)).Failure
            : Failure.NotFound($"Deal '{dealId}'");
        return started is { } failure
            ? await CreatorPageAsync(context, creatorId, null, null, failure, grains, reports, clock, cancellationToken)
            : TypedResults.Redirect("/console/creator?done=deal#lives");
    }

    private static readonly Failure NotFromPage = Failure.Invalid("This form was not sent from its page. Reload the page and try again.");

    /// <summary>The posted form, or null when it does not carry its page's antiforgery token.</summary>
    private static async Task<IFormCollection?> FormAsync(HttpContext context, CancellationToken cancellationToken) =>
        await PageAnswers.IsGenuineFormAsync(context) ? await context.Request.ReadFormAsync(cancellationToken) : null;

    private static async Task<IResult> CreatorPageAsync(HttpContext context, string creatorId, string? currency, string? notice, Failure? failure,
        IGrainFactory grains, ReportReader reports, CommerceClock clock, CancellationToken cancellationToken, int? status = null)
    {
        var creatorGrain = grains.GetGrain<ICreatorGrain>(creatorId);
        if (await creatorGrain.GetAsync() is not { } creator)
        {
            await context.SignOutAsync(ConsoleCookie.SchemeName);
            return TypedResults.Redirect(ConsoleCookie.SignInPath);
        }
        var balances = await creatorGrain.GetEarningsAsync();
        var currencies = await reports.CurrenciesAsync(creatorId, cancellationToken);
        var chosen = currency is not null && Currencies.IsKnown(currency) ? currency
            : currencies.Count > 0 ? currencies[0] : balances.Select(b => b.Currency).FirstOrDefault();
        var now = clock.UtcNow;
        var (period, _) = ReportPeriod.Of(ReportInterval.Day, null, null, now);
        var report = await reports.ReadAsync(creatorId, period!, chosen, new Dictionary<string, (string, int)>
        {
            ["links"] = (ReportDimensions.LinkPrefix, 50),
        }, cancellationToken);
        var month = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var statement = chosen is null ? null : await creatorGrain.GetStatementAsync(chosen, new StatementPeriod(month, month.AddMonths(1)), StatementEntries);
        var sessionIds = await creatorGrain.LiveSessionIdsAsync();
        var lives = new List<(Vetrina.Grains.Live.LiveSessionView, Vetrina.Grains.Live.LiveStats?)>();
        foreach (var sessionId in sessionIds.Reverse().Take(ShownSessions))
        {
            var session = grains.GetGrain<Vetrina.Grains.Live.ILiveSessionGrain>(sessionId);
            if (await session.GetAsync() is { } view)
            {
                lives.Add((view, (await session.GetStatsAsync(creatorId)).Value));
            }
        }
        var (field, token) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<CreatorConsolePage>(context, new()
        {
            ["Lives"] = lives,
            ["Notice"] = failure?.Detail ?? notice,
            ["NoticeIsError"] = failure is not null,
            ["Creator"] = creator,
            ["Balances"] = balances,
            ["Report"] = report,
            ["Payouts"] = await creatorGrain.GetPayoutsAsync(),
            ["Statement"] = statement,
            ["LinkBase"] = $"{context.Request.Scheme}://{context.Request.Host}/api/links/",
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = token,
        }, status ?? (failure is null ? StatusCodes.Status200OK : Problems.From(failure).StatusCode));
    }
}
