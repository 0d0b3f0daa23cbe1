using System.Diagnostics.CodeAnalysis;
using Vetrina.Grains.Common;

namespace Vetrina.Api.Http;

/// <summary>Checks of the shape of requests: presence, lengths and characters. Business rules live in the grains.</summary>
public static class Input
{
    public const int MaxShopperIdLength = 128;
    public const int MaxIdempotencyKeyLength = 128;
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>What <see cref="IsProductId"/> accepts, for the OpenAPI document.</summary>
    public const string ProductIdPattern = "^" + IdPrefixes.Product + "[0-9A-Za-z]{22}$";

    /// <summary>Null when the text is present (or optional and absent), within its length and free of control characters.</summary>
    public static string? TextError(string? value, string field, int maxLength, bool required = true)
    {
        if (value is null)
        {
            return required ? $"'{field}' is required." : null;
        }
        if (value.Length == 0 || value.Length > maxLength || string.IsNullOrWhiteSpace(value))
        {
            return $"'{field}' must have 1 to {maxLength} characters and not be blank.";
        }
        return value.Any(char.IsControl) || HasLoneSurrogate(value) ? $"'{field}' must not contain control characters." : null;
    }

    public static string? RequiredError<T>(T? value, string field) where T : struct =>
        value is null ? $"'{field}' is required." : null;

    public static bool IsShopperId(string? value) => TextError(value, "shopperId", MaxShopperIdLength) is null;

    public static bool IsBrandId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.Brand);

    public static bool IsCreatorId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.Creator);

    public static bool IsProductId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.Product);

    public static bool IsOrderId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.Order);

    public static bool IsLiveSessionId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.LiveSession);

    public static bool IsFlashDealId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.FlashDeal);

    public static bool IsPlanId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.CollaborationPlan);

    public static bool IsCampaignId(string? id) => Identifiers.IsWellFormed(id, IdPrefixes.Campaign);

    public static bool IsLinkCode(string? code) => Identifiers.IsWellFormed(code, "", IdPrefixes.LinkCodeLength);

    /// <summary>The Idempotency-Key header: exactly one, 1–128 visible ASCII characters.</summary>
    public static bool TryIdempotencyKey(HttpRequest request, [NotNullWhen(true)] out string? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        var values = request.Headers[IdempotencyHeader];
        if (values.Count != 1 || values[0] is not { } value)
        {
            error = values.Count == 0 ? "The Idempotency-Key header is required." : "Send exactly one Idempotency-Key header.";
            return false;
        }
        if (value.Length is 0 or > MaxIdempotencyKeyLength || value.Any(c => c is < '!' or > '~'))
        {
            error = "The Idempotency-Key must be 1 to 128 visible ASCII characters.";
            return false;
        }
        key = value;
        error = null;
        return true;
    }

    private static bool HasLoneSurrogate(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }
}
