using System.Security.Claims;

namespace Vetrina.Api.Auth;

/// <summary>The three kinds of key and what a request's principal says about its caller.</summary>
public static class Callers
{
    public const string Platform = "platform";
    public const string Brand = "brand";
    public const string Creator = "creator";
    public const string OwnerIdClaim = "vetrina:owner";

    public static bool IsPlatform(this ClaimsPrincipal user) => user.IsInRole(Platform);

    /// <summary>The brand id of a brand key, or null for any other caller.</summary>
    public static string? BrandId(this ClaimsPrincipal user) => user.IsInRole(Brand) ? user.FindFirstValue(OwnerIdClaim) : null;

    public static string? CreatorId(this ClaimsPrincipal user) => user.IsInRole(Creator) ? user.FindFirstValue(OwnerIdClaim) : null;
}
