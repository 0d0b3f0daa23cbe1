using Microsoft.AspNetCore.Antiforgery;
using Vetrina.Api.Pages.Buy;
using Vetrina.Api.Pages.Console;
using Vetrina.Api.Pages.Live;

namespace Vetrina.Api.Pages;

/// <summary>
/// The hosted pages: server-rendered Razor components answered from minimal API routes, which translate between forms
/// and grains exactly as the JSON routes do. Forms carry antiforgery tokens whose cookie is HttpOnly and SameSite=Strict.
/// </summary>
public static class VetrinaPages
{
    public static IServiceCollection AddVetrinaPages(this IServiceCollection services)
    {
        services.AddRazorComponents();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "vetrina-form";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "form-token";
            o.SuppressXFrameOptionsHeader = true;
        });
        services.AddSingleton<CheckoutSessions>();
        return services;
    }

    public static IEndpointRouteBuilder MapVetrinaPages(this IEndpointRouteBuilder routes)
    {
        routes.MapBuyPage();
        routes.MapLivePage();
        routes.MapConsoles();
        return routes;
    }
}
