using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Pages.Console;

/// <summary>
/// The creator and brand consoles: sign in with a key once (then a cookie), read what the API answers those keys, and
/// change what they may change through forms that carry antiforgery tokens. Pages read grains as the JSON routes do.
/// This file signs in and out; <see cref="CreatorConsoleEndpoints"/> and <see cref="BrandConsoleEndpoints"/> serve the consoles.
/// </summary>
public static class ConsoleEndpoints
{

    public static IEndpointRouteBuilder MapConsoles(this IEndpointRouteBuilder routes)
    {
        var console = routes.MapGroup("/console").ExcludeFromDescription().WithCallerLimits();
        console.MapGet("", (Delegate)Home).AllowAnonymous();
        console.MapGet("/sign-in", ShowSignIn).AllowAnonymous();
        console.MapPost("/sign-in", SignInAsync).AllowAnonymous();
        console.MapPost("/sign-out", (Delegate)SignOutAsync).RequireAuthorization(Access.ConsoleAny);
        console.MapGroup("/creator").RequireAuthorization(Access.ConsoleCreator).MapCreatorConsole();
        console.MapGroup("/brand").RequireAuthorization(Access.ConsoleBrand).MapBrandConsole();
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

    internal static string HomeOf(ClaimsPrincipal user) => user.IsInRole(Callers.Brand) ? "/console/brand" : "/console/creator";

    /// <summary>Only this site's console pages are returned to after signing in (no open redirect).</summary>
    private static bool IsConsolePath(string? url) =>
        url is { Length: < 512 } && url.StartsWith("/console/", StringComparison.Ordinal) && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal);
}
