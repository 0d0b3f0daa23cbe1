using System.Security.Cryptography;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Vetrina.Api.Pages.Layout;

/// <summary>
/// How hosted pages answer: server-rendered components under a strict Content-Security-Policy whose nonce admits only
/// the page's own inline style and script, never framed, never cached, never sending a referrer (a checkout session
/// link carries its token).
/// </summary>
public static class PageAnswers
{
    private const string NonceItem = "vetrina.page-nonce";

    /// <summary>Sets the security headers of a page answer and returns its nonce.</summary>
    public static string Secure(HttpContext context)
    {
        if (context.Items[NonceItem] is string known)
        {
            return known;
        }
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        context.Items[NonceItem] = nonce;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src 'self' data:; " +
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return nonce;
    }

    public static RazorComponentResult Page<TPage>(HttpContext context, Dictionary<string, object?> parameters, int status = StatusCodes.Status200OK)
        where TPage : Microsoft.AspNetCore.Components.IComponent
    {
        parameters["Nonce"] = Secure(context);
        return new RazorComponentResult<TPage>(parameters) { StatusCode = status };
    }

    public static RazorComponentResult Message(HttpContext context, int status, string title, string message) =>
        Page<MessagePage>(context, new() { ["Title"] = title, ["Message"] = message }, status);

    /// <summary>The form field and value of a fresh antiforgery token (its cookie is set on the answer).</summary>
    public static (string Field, string Token) Antiforgery(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return (tokens.FormFieldName, tokens.RequestToken!);
    }

    /// <summary>Whether a posted form carries a valid antiforgery token (and is a form at all).</summary>
    public static async Task<bool> IsGenuineFormAsync(HttpContext context) =>
        context.Request.HasFormContentType && await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context);
}
