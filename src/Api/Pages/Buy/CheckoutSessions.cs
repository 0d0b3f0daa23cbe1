using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Pages.Buy;

/// <summary>
/// A shopper's session on a hosted page until it expires: the buy page of one link (<see cref="LinkCode"/>) or the
/// viewer page of one live session (<see cref="LiveSessionId"/>); exactly one of the two is set.
/// </summary>
public sealed record CheckoutSession(string Token, string? LinkCode, string ShopperId, DateTimeOffset ExpiresAt, string? LiveSessionId = null)
{
    /// <summary>
    /// The idempotency key of the session's buy: one session buys at most once, however often its button is pressed
    /// or its page reloaded.
    /// </summary>
    public string IdempotencyKey => "page-" + Hash(Token);

    /// <summary>
    /// The idempotency key of a live session's buy of one product: a viewer may buy each product of the showcase once
    /// per session, however often that product's form is sent.
    /// </summary>
    public string IdempotencyKeyFor(string productId) => "live-" + Hash(Token + "\u001F" + productId);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));
}

/// <summary>
/// Makes and reads checkout session tokens: HMAC-signed over shopper, link or live session, and expiry, nothing
/// stored. A live session's token signs one more field (its kind), so neither kind of token reads as the other.
/// </summary>
public sealed class CheckoutSessions(IOptions<PageOptions> options, CommerceClock clock)
{
    private const string LinkPrefix = "cs_";
    private const string LivePrefix = "cl_";
    private const string LiveKind = "live";
    private SignedTokens? _tokens;

    private SignedTokens Tokens => _tokens ??= new SignedTokens("vetrina-checkout-sessions", options.Value.Secret);

    public CheckoutSession Open(string linkCode, string shopperId)
    {
        var expiresAt = NewExpiry();
        var token = Tokens.Sign(LinkPrefix, linkCode, shopperId, Seconds(expiresAt));
        return new CheckoutSession(token, linkCode, shopperId, expiresAt);
    }

    /// <summary>A session on the viewer page of a live session, for one shopper.</summary>
    public CheckoutSession OpenLive(string liveSessionId, string shopperId)
    {
        var expiresAt = NewExpiry();
        var token = Tokens.Sign(LivePrefix, LiveKind, liveSessionId, shopperId, Seconds(expiresAt));
        return new CheckoutSession(token, null, shopperId, expiresAt, liveSessionId);
    }

    /// <summary>The session of a token this engine signed (expired or not), of either kind; null for anything else.</summary>
    public CheckoutSession? Read(string token)
    {
        if (token.StartsWith(LivePrefix, StringComparison.Ordinal))
        {
            return Tokens.Verify(LivePrefix, token, 4) is { } live && live[0] == LiveKind && Expiry(live[3]) is { } liveExpiry
                ? new CheckoutSession(token, null, live[2], liveExpiry, live[1])
                : null;
        }
        return Tokens.Verify(LinkPrefix, token, 3) is { } fields && Expiry(fields[2]) is { } expiry
            ? new CheckoutSession(token, fields[0], fields[1], expiry)
            : null;
    }

    public bool HasExpired(CheckoutSession session) => clock.UtcNow >= session.ExpiresAt;

    private DateTimeOffset NewExpiry() =>
        DateTimeOffset.FromUnixTimeSeconds(clock.UtcNow.Add(options.Value.CheckoutSessionLifetime).ToUnixTimeSeconds());

    private static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset? Expiry(string seconds) =>
        long.TryParse(seconds, CultureInfo.InvariantCulture, out var expires) && expires is > 0 and < 253_402_300_799
            ? DateTimeOffset.FromUnixTimeSeconds(expires)
            : null;
}
