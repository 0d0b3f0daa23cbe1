using System.Security.Cryptography;
using System.Text;

namespace Vetrina.Grains.Common;

/// <summary>
/// Tokens that carry their own fields and prove who made them: <c>{prefix}{base64url(fields)}.{base64url(mac)}</c>, the
/// mac an HMAC-SHA256 (first 16 bytes) over the fields with a key derived from a secret every silo shares and a purpose,
/// so that a token made for one purpose is refused for another. Fields are joined by the unit separator (U+001F),
/// a control character no field the API accepts may contain.
/// </summary>
public sealed class SignedTokens(string purpose, string secret)
{
    public const int MaxLength = 1024;
    private const char Separator = '\u001F';
    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes(purpose + ":" + secret));

    public string Sign(string prefix, params string[] fields)
    {
        if (fields.Any(f => f.Contains(Separator, StringComparison.Ordinal)))
        {
            throw new ArgumentException("A signed field cannot contain the unit separator (U+001F).", nameof(fields));
        }
        var payload = Encoding.UTF8.GetBytes(string.Join(Separator, fields));
        return prefix + Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(_key, payload).AsSpan(0, 16));
    }

    /// <summary>The fields of a token this key signed with that prefix and that number of fields; null for anything else.</summary>
    public string[]? Verify(string prefix, string token, int fieldCount)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (!token.StartsWith(prefix, StringComparison.Ordinal) || token.Length > MaxLength || dot < prefix.Length)
        {
            return null;
        }
        try
        {
            var payload = System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(prefix.Length, dot - prefix.Length));
            var mac = System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
            if (!CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_key, payload).AsSpan(0, 16), mac))
            {
                return null;
            }
            var fields = Encoding.UTF8.GetString(payload).Split(Separator);
            return fields.Length == fieldCount ? fields : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
