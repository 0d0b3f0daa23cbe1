using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Reports;

namespace Vetrina.Api.Pages.Console;

/// <summary>
/// The creator and brand consoles: sign in with a key once (then a cookie), read what the API answers those keys, and
/// change what they may change through forms that carry antiforgery tokens. Pages read grains as the JSON routes do.
/// </summary>
public static class ConsoleEndpoints
{
    private const int StatementEntries = 200;
    private const int MaxCampaigns = 50;

    public static IEndpointRouteBuilder MapConsoles(this IEndpointRouteBuilder routes)
    {
        var console = routes.MapGroup("/console").ExcludeFromDescription().WithCallerLimits();
        console.MapGet("", (Delegate)Home).AllowAnonymous();
        console.MapGet("/sign-in", ShowSignIn).AllowAnonymous();
        console.MapPost("/sign-in", SignInAsync).AllowAnonymous();
        console.MapPost("/sign-out", (Delegate)SignOutAsync).RequireAuthorization(Access.ConsoleAny);
        console.MapGet("/creator", CreatorHome).RequireAuthorization(Access.ConsoleCreator);
        var brand = console.MapGroup("/brand").RequireAuthorization(Access.ConsoleBrand);
        brand.MapGet("", BrandHome);
        brand.MapPost("/products/{productId}/stock", ChangeStockAsync);
        brand.MapPost("/orders/{orderId}/{step}", ChangeOrderAsync);
        return routes;
    }

    private static async Task<IResult> Home(HttpContext context)
    {
        var signedIn = await context.AuthenticateAsync(ConsoleCookie.SchemeName);
        return TypedResults.Redirect(signedIn.Principal is { } user ? HomeOf(user) : ConsoleCookie.SignInPath);
    }

    private static RazorComponentResult ShowSignIn(HttpContext context, string? returnUrl) => SignInPage(context, returnUrl, error: null, StatusCodes.Status200OK);

    private static async Task<IResult> SignInAsync(HttpContext context, IGrainFactory grains, VerifiedKeys verified, IOptions<KeyLookupLimitOptions> limits)
    {
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return SignInPage(context, null, "This form was not sent from its page, or the page is too old. Try again.", StatusCodes.Status400BadRequest);
        }
        var form = await context.Request.ReadFormAsync();
        var key = form["key"].ToString().Trim();
        string? returnUrl = form["returnUrl"];
        if (limits.Value.PerAddress is { } limiter && verified.Find(ApiKeys.Hash(key)) is null)
        {
            // Each unknown key typed costs the address one check, as a bearer key would.
            using var lease = limiter.AttemptAcquire(ClientAddress.Of(context));
            if (!lease.IsAcquired)
            {
                return SignInPage(context, returnUrl, "Too many attempts from this address. Wait a little and try again.", StatusCodes.Status429TooManyRequests);
            }
        }
        if (await ApiKeyAuthenticationHandler.OwnerOfAsync(key, grains, verified) is not { } owner)
        {
            return SignInPage(context, returnUrl, "That key is not a creator's or a brand's key.", StatusCodes.Status401Unauthorized);
        }
        var principal = ConsoleCookie.Principal(owner.Role, owner.OwnerId);
        await context.SignInAsync(ConsoleCookie.SchemeName, principal);
        return TypedResults.Redirect(IsConsolePath(returnUrl) && returnUrl!.StartsWith(HomeOf(principal), StringComparison.Ordinal) ? returnUrl : HomeOf(principal));
    }

    private static async Task<IResult> SignOutAsync(HttpContext context)
    {
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return PageAnswers.Message(context, StatusCodes.Status400BadRequest, "Please try again", "This form was not sent from its page. Go back, reload and try again.");
        }
        await context.SignOutAsync(ConsoleCookie.SchemeName);
        return TypedResults.Redirect(ConsoleCookie.SignInPath);
    }

    private static async Task<IResult> CreatorHome(HttpContext context, ClaimsPrincipal user, string? currency, IGrainFactory grains, ReportReader reports, CommerceClock clock,
        CancellationToken cancellationToken)
    {
        var creatorId = user.CreatorId()!;
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
        var (field, token) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<CreatorConsolePage>(context, new()
        {
            ["Creator"] = creator,
            ["Balances"] = balances,
            ["Report"] = report,
            ["Payouts"] = await creatorGrain.GetPayoutsAsync(),
            ["Statement"] = statement,
            ["LinkBase"] = $"{context.Request.Scheme}://{context.Request.Host}/api/links/",
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = token,
        });
    }

    private static readonly Dictionary<string, string> Done = new(StringComparer.Ordinal)
    {
        ["stock"] = "Stock changed.",
        ["ship"] = "Order marked shipped.",
        ["deliver"] = "Order marked delivered; its return window has started.",
    };

    private static Task<RazorComponentResult> BrandHome(HttpContext context, ClaimsPrincipal user, string? orderId, string? done, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken) =>
        BrandPageAsync(context, user.BrandId()!, orderId, done is not null && Done.TryGetValue(done, out var notice) ? notice : null, failure: null, grains, reports, clock, cancellationToken);

    private static async Task<IResult> ChangeStockAsync(HttpContext context, ClaimsPrincipal user, string productId, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken)
    {
        var brandId = user.BrandId()!;
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("This form was not sent from its page. Reload the page and try again."), grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var form = await context.Request.ReadFormAsync(cancellationToken);
        if (!int.TryParse(form["delta"], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var delta) || delta == 0)
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("Type a whole number of units to add (or, with a minus, remove)."), grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var changed = Input.IsProductId(productId)
            ? await grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(productId).AdjustStockAsync(brandId, delta)
            : Failure.NotFound($"Product '{productId}'");
        return changed.Failure is { } failure
            ? await BrandPageAsync(context, brandId, null, null, failure, grains, reports, clock, cancellationToken)
            : TypedResults.Redirect("/console/brand?done=stock");
    }

    private static async Task<IResult> ChangeOrderAsync(HttpContext context, ClaimsPrincipal user, string orderId, string step, IGrainFactory grains, ReportReader reports,
        CommerceClock clock, CancellationToken cancellationToken)
    {
        var brandId = user.BrandId()!;
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("This form was not sent from its page. Reload the page and try again."), grains, reports, clock, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var actor = new Vetrina.Grains.Orders.OrderActor(brandId);
        var order = grains.GetGrain<Vetrina.Grains.Orders.IOrderGrain>(Input.IsOrderId(orderId) ? orderId : IdPrefixes.Order + "0");
        var changed = !Input.IsOrderId(orderId) ? Failure.NotFound($"Order '{orderId}'")
            : step == "ship" ? await order.ShipAsync(actor)
            : step == "deliver" ? await order.DeliverAsync(actor)
            : Failure.NotFound($"Step '{step}'");
        return changed.Failure is { } failure
            ? await BrandPageAsync(context, brandId, Input.IsOrderId(orderId) ? orderId : null, null, failure, grains, reports, clock, cancellationToken)
            : TypedResults.Redirect($"/console/brand?orderId={orderId}&done={step}");
    }

    private static async Task<RazorComponentResult> BrandPageAsync(HttpContext context, string brandId, string? orderId, string? notice, Failure? failure,
        IGrainFactory grains, ReportReader reports, CommerceClock clock, CancellationToken cancellationToken, int? status = null)
    {
        var brand = await grains.GetGrain<Vetrina.Grains.Brands.IBrandGrain>(brandId).GetAsync();
        var productIds = await grains.GetGrain<Vetrina.Grains.Brands.IBrandGrain>(brandId).ProductIdsAsync();
        var products = (await Task.WhenAll(productIds.Select(id => grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(id).GetAsync()))).OfType<Vetrina.Grains.Catalog.ProductView>().ToList();
        var deals = new List<Vetrina.Grains.Deals.FlashDealView>();
        foreach (var product in products)
        {
            foreach (var deal in (await grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(product.ProductId).QuoteAsync())?.Deals ?? [])
            {
                if (await grains.GetGrain<Vetrina.Grains.Deals.IFlashDealGrain>(deal.DealId).GetAsync() is { } view)
                {
                    deals.Add(view);
                }
            }
        }
        var order = orderId is not null && Input.IsOrderId(orderId)
            ? (await grains.GetGrain<Vetrina.Grains.Orders.IOrderGrain>(orderId).GetAsync(new Vetrina.Grains.Orders.OrderActor(brandId))).Value
            : null;
        if (orderId is not null && order is null && failure is null && notice is null)
        {
            failure = Failure.NotFound($"Order '{orderId}' of this brand");
        }
        var currencies = await reports.CurrenciesAsync(brandId, cancellationToken);
        var (period, _) = ReportPeriod.Of(ReportInterval.Day, null, null, clock.UtcNow);
        var report = await reports.ReadAsync(brandId, period!, currencies.Count > 0 ? currencies[0] : null, new Dictionary<string, (string, int)>
        {
            ["channels"] = (ReportDimensions.ChannelPrefix, Enum.GetValues<SalesChannel>().Length),
        }, cancellationToken);
        var campaigns = new List<Vetrina.Grains.Ads.CampaignView>();
        var shards = await Task.WhenAll(Enumerable.Range(0, Vetrina.Grains.Ads.ICampaignShardGrain.Shards).Select(s => grains.GetGrain<Vetrina.Grains.Ads.ICampaignShardGrain>(s).AllAsync()));
        foreach (var terms in shards.SelectMany(s => s).Where(t => t.BrandId == brandId).OrderByDescending(t => t.CreatedAt).Take(MaxCampaigns))
        {
            if ((await grains.GetGrain<Vetrina.Grains.Ads.ICampaignGrain>(terms.CampaignId).GetAsync(brandId)).Value is { } view)
            {
                campaigns.Add(view);
            }
        }
        var (field, token) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<BrandConsolePage>(context, new()
        {
            ["Brand"] = brand!,
            ["Products"] = products,
            ["Order"] = order,
            ["Report"] = report,
            ["Sales"] = await grains.GetGrain<Vetrina.Grains.Sales.IBrandSalesGrain>(brandId).GetReportAsync(),
            ["Deals"] = deals,
            ["Campaigns"] = campaigns,
            ["Notice"] = failure?.Detail ?? notice,
            ["NoticeIsError"] = failure is not null,
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = token,
        }, status ?? (failure is null ? StatusCodes.Status200OK : Problems.From(failure).StatusCode));
    }

    private static RazorComponentResult SignInPage(HttpContext context, string? returnUrl, string? error, int status)
    {
        var (field, token) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<SignInPage>(context, new()
        {
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = token,
            ["ReturnUrl"] = IsConsolePath(returnUrl) ? returnUrl : null,
            ["Error"] = error,
        }, status);
    }

    private static string HomeOf(ClaimsPrincipal user) => user.IsInRole(Callers.Brand) ? "/console/brand" : "/console/creator";

    /// <summary>Only this site's console pages are returned to after signing in (no open redirect).</summary>
    private static bool IsConsolePath(string? url) =>
        url is { Length: < 512 } && url.StartsWith("/console/", StringComparison.Ordinal) && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal);
}
