using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Vetrina.Api.Auth;

/// <summary>
/// The platform key as the password of HTTP Basic authentication (any user name), for operator pages a browser opens:
/// the browser asks for it once and sends it with every request of the page. Only operator routes accept this scheme.
/// </summary>
public sealed class PlatformBasicAuthenticationHandler(
    IOptionsMonitor<ApiKeyOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<ApiKeyOptions>(options, logger, encoder)
{
    public const string SchemeName = "PlatformBasic";
    private const string Prefix = "Basic ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (headers.Count != 1 || headers[0] is not { } header || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header[Prefix.Length..].Trim()));
        }
        catch (FormatException)
        {
            return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credentials."));
        }
        var separator = credentials.IndexOf(':', StringComparison.Ordinal);
        var password = separator < 0 ? "" : credentials[(separator + 1)..];
        if (Options.PlatformKey.Length == 0 ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(Options.PlatformKey)))
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown key."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, Callers.Platform), new Claim(Callers.OwnerIdClaim, Callers.Platform)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Basic realm=\"Vetrina operators\", charset=\"UTF-8\"";
        return base.HandleChallengeAsync(properties);
    }
}
