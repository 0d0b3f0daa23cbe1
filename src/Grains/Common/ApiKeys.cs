using System.Security.Cryptography;
using System.Text;

namespace Vetrina.Grains.Common;

/// <summary>
/// Brand and creator keys: "{ownerId}.{secret}". The owner id lets the engine find the grain that holds the
/// key's hash; only the SHA-256 of the whole key is stored (the secret has 190 bits, so a fast hash suffices).
/// </summary>
public static class ApiKeys
{
    public static string Issue(string ownerId) => $"{ownerId}.{Identifiers.RandomBase62(32)}";

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string? OwnerOf(string key)
    {
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? key[..dot] : null;
    }

    public static bool HashMatches(string? storedHash, string presentedHash) =>
        storedHash is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHash), Encoding.ASCII.GetBytes(presentedHash));
}
