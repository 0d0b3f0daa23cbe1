using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Vetrina.Api.Auth;
using Vetrina.Api.Endpoints;
using Vetrina.Api.Http;
using Vetrina.Api.Pages;

namespace Vetrina.Api;

/// <summary>
/// The HTTP face of Vetrina: authentication, JSON conventions, problem answers, the OpenAPI document and every route of
/// api-v1. Routes name their rate-limit and timeout policies (<see cref="Limits"/>); the host gives them their values.
/// </summary>
public static class VetrinaApi
{
    public static IServiceCollection AddVetrinaApi(this IServiceCollection services, string platformKey)
    {
        services.AddSingleton<VerifiedKeys>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, o => o.PlatformKey = platformKey)
            .AddScheme<ApiKeyOptions, PlatformBasicAuthenticationHandler>(PlatformBasicAuthenticationHandler.SchemeName, o => o.PlatformKey = platformKey)
            .AddConsoleCookie();
        services.AddVetrinaAccess();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Complete);
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonForEveryClient>();
        // Development would otherwise throw on a malformed body and answer 500: bad input is 400 everywhere.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = false);
        services.AddExceptionHandler<UnavailableAnswers>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            // The web defaults read "12" as 12; the contract's numbers are JSON numbers, and a string is a wrong type (400).
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
        });
        services.AddVetrinaOpenApi();
        services.AddRateLimiter(_ => { });
        services.AddRequestTimeouts(_ => { });
        services.AddVetrinaPages();
        return services;
    }

    public static WebApplication UseVetrinaApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseKnownBodyEncodings();
        app.UseKeyLookupLimit();
        app.UseAuthentication();
        // After authentication, so a key has its own bucket; before authorization, so refused keys spend their address's.
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestTimeouts();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapBrandEndpoints();
        app.MapProductEndpoints();
        app.MapCreatorEndpoints();
        app.MapLinkEndpoints();
        app.MapLiveEndpoints();
        app.MapDealEndpoints();
        app.MapCartEndpoints();
        app.MapOrderEndpoints();
        app.MapPayoutEndpoints();
        app.MapCollaborationEndpoints();
        app.MapReportEndpoints();
        app.MapAdEndpoints();
        app.MapClusterEndpoints();
        app.MapVetrinaPages();
        return app;
    }
}
