using Microsoft.AspNetCore.Authorization;

namespace Vetrina.Api.Auth;

/// <summary>
/// Who may call a route, named where the route is declared. "Owner" policies compare the caller's own id with a
/// route value; ownership of things found through their id (a product, an order, a link) is checked by its grain.
/// </summary>
public static class Access
{
    public const string Platform = "platform";
    public const string AnyBrand = "any-brand";
    public const string PlatformOrAnyBrand = "platform-or-any-brand";
    public const string PlatformOrAnyCreator = "platform-or-any-creator";
    public const string AnyCreator = "any-creator";
    public const string AnyBrandOrCreator = "any-brand-or-creator";
    public const string BrandOwner = "brand-owner";
    public const string PlatformOrBrandOwner = "platform-or-brand-owner";
    public const string CreatorOwner = "creator-owner";
    public const string PlatformOrCreatorOwner = "platform-or-creator-owner";

    /// <summary>Operator pages (the Orleans dashboard): the platform key, as a bearer key or as a browser's Basic password.</summary>
    public const string Operator = "operator";

    /// <summary>The creator console: a creator signed in with the console cookie.</summary>
    public const string ConsoleCreator = "console-creator";

    /// <summary>The brand console: a brand signed in with the console cookie.</summary>
    public const string ConsoleBrand = "console-brand";

    /// <summary>Either console's signed-in caller (signing out).</summary>
    public const string ConsoleAny = "console-any";

    public static IServiceCollection AddVetrinaAccess(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, RouteOwnerHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Platform, p => p.RequireRole(Callers.Platform))
            .AddPolicy(AnyBrand, p => p.RequireRole(Callers.Brand))
            .AddPolicy(PlatformOrAnyBrand, p => p.RequireRole(Callers.Platform, Callers.Brand))
            .AddPolicy(PlatformOrAnyCreator, p => p.RequireRole(Callers.Platform, Callers.Creator))
            .AddPolicy(AnyCreator, p => p.RequireRole(Callers.Creator))
            .AddPolicy(AnyBrandOrCreator, p => p.RequireRole(Callers.Brand, Callers.Creator))
            .AddPolicy(BrandOwner, p => p.AddRequirements(new RouteOwnerRequirement("brandId", Callers.Brand, PlatformAllowed: false)))
            .AddPolicy(PlatformOrBrandOwner, p => p.AddRequirements(new RouteOwnerRequirement("brandId", Callers.Brand, PlatformAllowed: true)))
            .AddPolicy(CreatorOwner, p => p.AddRequirements(new RouteOwnerRequirement("creatorId", Callers.Creator, PlatformAllowed: false)))
            .AddPolicy(PlatformOrCreatorOwner, p => p.AddRequirements(new RouteOwnerRequirement("creatorId", Callers.Creator, PlatformAllowed: true)))
            .AddPolicy(Operator, p => p
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName, PlatformBasicAuthenticationHandler.SchemeName)
                .RequireRole(Callers.Platform))
            .AddPolicy(ConsoleCreator, p => p.AddAuthenticationSchemes(ConsoleCookie.SchemeName).RequireRole(Callers.Creator))
            .AddPolicy(ConsoleBrand, p => p.AddAuthenticationSchemes(ConsoleCookie.SchemeName).RequireRole(Callers.Brand))
            .AddPolicy(ConsoleAny, p => p.AddAuthenticationSchemes(ConsoleCookie.SchemeName).RequireRole(Callers.Creator, Callers.Brand));
        return services;
    }
}

public sealed record RouteOwnerRequirement(string RouteValue, string Role, bool PlatformAllowed) : IAuthorizationRequirement;

public sealed class RouteOwnerHandler : AuthorizationHandler<RouteOwnerRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RouteOwnerRequirement requirement)
    {
        var user = context.User;
        if (requirement.PlatformAllowed && user.IsPlatform())
        {
            context.Succeed(requirement);
        }
        else if (context.Resource is HttpContext http && user.IsInRole(requirement.Role) &&
                 string.Equals(http.GetRouteValue(requirement.RouteValue) as string, user.FindFirst(Callers.OwnerIdClaim)?.Value, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
