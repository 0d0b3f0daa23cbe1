using System.Text;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Vetrina.Api.Http;

/// <summary>
/// A body in a charset .NET cannot decode (<c>application/json; charset=ebcdic</c>) would make the framework's JSON
/// reader throw; it is a media type the API does not support, so a route that reads a body answers 415 before anything
/// reads it. Routes without a body ignore a body as they always do.
/// </summary>
public static class BodyEncodings
{
    public static IApplicationBuilder UseKnownBodyEncodings(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null && UnknownCharset(context.Request.ContentType) is { } charset)
        {
            await Problems.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type",
                $"The charset '{Truncate(charset)}' is not supported; send JSON in UTF-8.");
            return;
        }
        await next(context);
    });

    private static string? UnknownCharset(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || StringSegment.IsNullOrEmpty(mediaType.Charset))
        {
            return null;
        }
        var charset = mediaType!.Charset.Value!;
        try
        {
            Encoding.GetEncoding(charset);
            return null;
        }
        catch (ArgumentException)
        {
            return charset;
        }
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
