using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Pages.Buy;

/// <summary>A shopper's session on the hosted buy page of one link, until it expires.</summary>
public sealed record CheckoutSession(string Token, string LinkCode, string ShopperId, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// The idempotency key of the session's buy: one session buys at most once, however often its button is pressed
    /// or its page reloaded.
    /// </summary>
    public string IdempotencyKey => "page-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)).AsSpan(0, 16));
}

/// <summary>Makes and reads checkout session tokens: HMAC-signed over shopper, link and expiry, nothing stored.</summary>
public sealed class CheckoutSessions(IOptions<PageOptions> options, CommerceClock clock)
{
    private const string Prefix = "cs_";
    private SignedTokens? _tokens;

    private SignedTokens Tokens => _tokens ??= new SignedTokens("vetrina-checkout-sessions", options.Value.Secret);

    public CheckoutSession Open(string linkCode, string shopperId)
    {
        var expiresAt = clock.UtcNow.Add(options.Value.CheckoutSessionLifetime);
        expiresAt = DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds());
        var token = Tokens.Sign(Prefix, linkCode, shopperId, expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return new CheckoutSession(token, linkCode, shopperId, expiresAt);
    }

    /// <summary>The session of a token this engine signed (expired or not); null for anything else.</summary>
    public CheckoutSession? Read(string token) =>
        Tokens.Verify(Prefix, token, 3) is { } fields && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var expires)
            && expires is > 0 and < 253_402_300_799
            ? new CheckoutSession(token, fields[0], fields[1], DateTimeOffset.FromUnixTimeSeconds(expires))
            : null;

    public bool HasExpired(CheckoutSession session) => clock.UtcNow >= session.ExpiresAt;
}
