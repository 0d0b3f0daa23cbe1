using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Vetrina.Api.Auth;

/// <summary>
/// The consoles' sign-in: a creator or brand types its key once and gets a cookie (HttpOnly, SameSite=Strict, Secure
/// when the request is HTTPS, eight hours sliding) holding its role and id, never the key. The key is checked exactly as
/// a bearer key is (<see cref="ApiKeyAuthenticationHandler.OwnerOfAsync"/>).
/// </summary>
public static class ConsoleCookie
{
    public const string SchemeName = "Console";
    public const string SignInPath = "/console/sign-in";

    public static AuthenticationBuilder AddConsoleCookie(this AuthenticationBuilder builder) =>
        builder.AddCookie(SchemeName, o =>
        {
            o.Cookie.Name = "vetrina-console";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = SignInPath;
            o.AccessDeniedPath = SignInPath;
            o.ReturnUrlParameter = "returnUrl";
        });

    public static ClaimsPrincipal Principal(string role, string ownerId) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(Callers.OwnerIdClaim, ownerId)], SchemeName));
}
