using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Brands;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Api.Auth;

public sealed class ApiKeyOptions : AuthenticationSchemeOptions
{
    public string PlatformKey { get; set; } = "";
}

/// <summary>
/// Reads <c>Authorization: Bearer &lt;key&gt;</c>. The platform key comes from configuration; brand and creator keys
/// name their owner, whose grain holds the key's hash. Verified hashes are remembered: keys cannot be revoked yet.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    VerifiedKeys verified) : AuthenticationHandler<ApiKeyOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string Prefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (headers.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }
        if (headers.Count > 1 || headers[0] is not { } header || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Expected one 'Authorization: Bearer <key>' header.");
        }
        var key = header[Prefix.Length..].Trim();
        if (key.Length is 0 or > 200)
        {
            return AuthenticateResult.Fail("Unknown key.");
        }
        if (IsPlatformKey(key))
        {
            return Success(Callers.Platform, Callers.Platform);
        }
        var hash = ApiKeys.Hash(key);
        if (verified.Find(hash) is { } known)
        {
            return Success(known.Role, known.OwnerId);
        }
        var owner = ApiKeys.OwnerOf(key);
        var role = owner switch
        {
            _ when Identifiers.IsWellFormed(owner, IdPrefixes.Brand) && await grains.GetGrain<IBrandGrain>(owner).HasKeyAsync(hash) => Callers.Brand,
            _ when Identifiers.IsWellFormed(owner, IdPrefixes.Creator) && await grains.GetGrain<ICreatorGrain>(owner).HasKeyAsync(hash) => Callers.Creator,
            _ => null,
        };
        if (role is null)
        {
            return AuthenticateResult.Fail("Unknown key.");
        }
        verified.Remember(hash, role, owner!);
        return Success(role, owner!);
    }

    private bool IsPlatformKey(string key) =>
        Options.PlatformKey.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(Options.PlatformKey));

    private static AuthenticateResult Success(string role, string ownerId)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(Callers.OwnerIdClaim, ownerId)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>Hashes of brand and creator keys already verified against their grains, bounded in size.</summary>
public sealed class VerifiedKeys
{
    private const int Capacity = 100_000;
    private readonly ConcurrentDictionary<string, (string Role, string OwnerId)> _byHash = new(StringComparer.Ordinal);

    public (string Role, string OwnerId)? Find(string hash) => _byHash.TryGetValue(hash, out var known) ? known : null;

    public void Remember(string hash, string role, string ownerId)
    {
        if (_byHash.Count >= Capacity)
        {
            _byHash.Clear();
        }
        _byHash[hash] = (role, ownerId);
    }
}
