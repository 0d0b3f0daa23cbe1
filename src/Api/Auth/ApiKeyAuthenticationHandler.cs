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
    private const int MaxKeyLength = 200;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (headers.Count == 0)
        {
            return AuthenticateResult.NoResult();
        }
        if (BearerKey(Request) is not { } key)
        {
            return AuthenticateResult.Fail("Expected one 'Authorization: Bearer <key>' header.");
        }
        if (key.Length is 0 or > MaxKeyLength)
        {
            return AuthenticateResult.Fail("Unknown key.");
        }
        if (IsPlatformKey(key, Options.PlatformKey))
        {
            return Success(Callers.Platform, Callers.Platform);
        }
        if (verified.Find(ApiKeys.Hash(key)) is { } known)
        {
            return Success(known.Role, known.OwnerId);
        }
        if (Context.Items.ContainsKey(KeyLookupLimit.NotLookedUp))
        {
            return AuthenticateResult.Fail("Brand and creator keys are not used on this route.");
        }
        return await OwnerOfAsync(key, grains, verified) is { } owner ? Success(owner.Role, owner.OwnerId) : AuthenticateResult.Fail("Unknown key.");
    }

    /// <summary>
    /// The brand or creator a key belongs to (remembered once verified), or null: the key's owner id names the grain
    /// that holds the key's hash. The console's sign-in checks keys the same way.
    /// </summary>
    public static async Task<(string Role, string OwnerId)?> OwnerOfAsync(string key, IGrainFactory grains, VerifiedKeys verified)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            return null;
        }
        var hash = ApiKeys.Hash(key);
        if (verified.Find(hash) is { } known)
        {
            return known;
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
            return null;
        }
        verified.Remember(hash, role, owner!);
        return (role, owner!);
    }

    /// <summary>
    /// Whether authenticating this request would ask a grain: it carries a well-formed brand or creator key that this
    /// process has not verified yet (see <see cref="KeyLookupLimit"/>).
    /// </summary>
    public static bool NeedsLookup(HttpRequest request, string platformKey, VerifiedKeys verified)
    {
        if (BearerKey(request) is not { Length: > 0 and <= MaxKeyLength } key || IsPlatformKey(key, platformKey))
        {
            return false;
        }
        var owner = ApiKeys.OwnerOf(key);
        return (Identifiers.IsWellFormed(owner, IdPrefixes.Brand) || Identifiers.IsWellFormed(owner, IdPrefixes.Creator))
            && verified.Find(ApiKeys.Hash(key)) is null;
    }

    /// <summary>The key of the request's one <c>Authorization: Bearer</c> header, or null.</summary>
    private static string? BearerKey(HttpRequest request)
    {
        var headers = request.Headers.Authorization;
        return headers.Count == 1 && headers[0] is { } header && header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            ? header[Prefix.Length..].Trim()
            : null;
    }

    private static bool IsPlatformKey(string key, string platformKey) =>
        platformKey.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(platformKey));

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
            // Room for new keys without forgetting all at once (every forgotten key costs one more check).
            foreach (var evicted in _byHash.Keys.Take(Capacity / 10))
            {
                _byHash.TryRemove(evicted, out _);
            }
        }
        _byHash[hash] = (role, ownerId);
    }
}
