using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Vetrina.Grains.Common;

/// <summary>Server-generated identifiers: a short kind prefix and random or derived base62 characters.</summary>
public static class Identifiers
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    public const int BodyLength = 22; // ~131 bits of base62

    public static string NewRandom(string prefix) => prefix + RandomBase62(BodyLength);

    public static string RandomBase62(int length) => RandomNumberGenerator.GetString(Alphabet, length);

    /// <summary>A stable id derived from parts, so that retries of the same operation name the same thing.</summary>
    public static string Derived(string prefix, params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)));
        var chars = new char[BodyLength];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[hash[i] % Alphabet.Length];
        }
        return prefix + new string(chars);
    }

    /// <summary>True when the text looks like an id this engine generated with the prefix.</summary>
    public static bool IsWellFormed([NotNullWhen(true)] string? text, string prefix, int bodyLength = BodyLength)
    {
        if (text is null || text.Length != prefix.Length + bodyLength || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        for (var i = prefix.Length; i < text.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(text[i]))
            {
                return false;
            }
        }
        return true;
    }
}
