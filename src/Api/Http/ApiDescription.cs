using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using Vetrina.Api.Auth;

namespace Vetrina.Api.Http;

/// <summary>Marks a route that requires the <c>Idempotency-Key</c> header.</summary>
public sealed class IdempotencyKeyMetadata
{
    public static readonly IdempotencyKeyMetadata Instance = new();
}

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>. Success types come from the handlers' typed results and each
/// route declares the refusals of its own rules (404, 409, 422, …); the answers every route of a kind shares are
/// derived here from what the route really has: a key requirement (401, 403), a JSON body (400, 413, 415), a rate
/// limit (429) and a request timeout (503), so the document cannot claim less than the pipeline does.
/// </summary>
public static class ApiDescription
{
    public const string BearerScheme = "bearer";
    private const string ProblemSchema = "ProblemDetails";
    private const string ProblemJson = "application/problem+json";

    public static RouteHandlerBuilder RequireIdempotencyKey(this RouteHandlerBuilder route) => route.WithMetadata(IdempotencyKeyMetadata.Instance);

    public static IServiceCollection AddVetrinaOpenApi(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        o.AddSchemaTransformer(DescribeSchemaAsync);
        o.AddOperationTransformer(DescribeOperationAsync);
        o.AddDocumentTransformer(DescribeDocumentAsync);
    });

    /// <summary>
    /// Required means "always present". The API leaves null members out of its answers (<c>WhenWritingNull</c>), so a
    /// member that can be null is required only where the request demands it (<c>[Required]</c>); there null is refused
    /// (400), so it is not a value of the schema either. The generator's default marks every record parameter required.
    /// </summary>
    private static Task DescribeSchemaAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is not null || context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { } properties)
        {
            return Task.CompletedTask;
        }
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if (!properties.TryGetValue(property.Name, out var member) || !AllowsNull(member))
            {
                continue;
            }
            if (property.IsRequired || property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true)
            {
                properties[property.Name] = WithoutNull(member);
                schema.Required ??= new HashSet<string>();
                schema.Required.Add(property.Name);
            }
            else
            {
                schema.Required?.Remove(property.Name);
            }
        }
        return Task.CompletedTask;
    }

    private static bool AllowsNull(IOpenApiSchema member) =>
        member.Type?.HasFlag(JsonSchemaType.Null) == true || member.OneOf?.Any(o => o.Type == JsonSchemaType.Null) == true;

    private static IOpenApiSchema WithoutNull(IOpenApiSchema member)
    {
        if (member is OpenApiSchema { Type: { } type } plain && type.HasFlag(JsonSchemaType.Null))
        {
            plain.Type = type & ~JsonSchemaType.Null;
        }
        return member;
    }

    /// <summary>
    /// A nullable member of a component type (an enum) becomes "oneOf: [null, $ref]" only after the schema transformers
    /// ran; where <see cref="DescribeSchemaAsync"/> kept it required, the reference alone remains.
    /// </summary>
    private static void DropNullFromRequiredReferences(OpenApiComponents components)
    {
        foreach (var schema in components.Schemas?.Values.OfType<OpenApiSchema>() ?? [])
        {
            foreach (var name in schema.Required ?? new HashSet<string>())
            {
                if (schema.Properties?.TryGetValue(name, out var member) == true && member.OneOf is [{ Type: JsonSchemaType.Null }, var reference])
                {
                    schema.Properties[name] = reference;
                }
            }
        }
    }

    private static async Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document!;
        operation.Responses ??= [];
        var problem = await ProblemSchemaAsync(context, cancellationToken);

        var policy = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
        if (policy is not null && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
            operation.Description = Join(operation.Description, $"Key: {Who(policy)}.");
            AddProblem(operation, StatusCodes.Status401Unauthorized, "No key, or an unknown one.", problem);
            AddProblem(operation, StatusCodes.Status403Forbidden, "The key may not act on this resource.", problem);
        }
        else
        {
            // An empty requirement says "no key needed"; without it a client falls back to a document-wide default.
            operation.Security = [];
        }
        if (metadata.OfType<IAcceptsMetadata>().Any())
        {
            AddProblem(operation, StatusCodes.Status400BadRequest, "The body or a value is malformed.", problem);
            AddProblem(operation, StatusCodes.Status413PayloadTooLarge, "The body is larger than the limit.", problem);
            AddProblem(operation, StatusCodes.Status415UnsupportedMediaType, "The body is not JSON.", problem);
        }
        if (metadata.OfType<IdempotencyKeyMetadata>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Input.IdempotencyHeader,
                In = ParameterLocation.Header,
                Required = true,
                Description = "1–128 visible ASCII characters. A repeat with the same key and shopper returns the first answer and has no further effect.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Input.MaxIdempotencyKeyLength },
            });
            AddProblem(operation, StatusCodes.Status400BadRequest, "The Idempotency-Key header is missing, repeated or malformed.", problem);
        }
        if (metadata.OfType<EnableRateLimitingAttribute>().Any())
        {
            AddProblem(operation, StatusCodes.Status429TooManyRequests, "The key's rate limit is spent; see Retry-After.", problem, retryAfter: true);
        }
        if (metadata.OfType<RequestTimeoutAttribute>().Any())
        {
            AddProblem(operation, StatusCodes.Status503ServiceUnavailable,
                "The engine could not answer in time or a silo is recovering; retry after Retry-After (with the same Idempotency-Key).", problem, retryAfter: true);
        }
        else if (metadata.OfType<DisableRequestTimeoutAttribute>().Any())
        {
            AddProblem(operation, StatusCodes.Status503ServiceUnavailable,
                "The silo serves as many streams as it may, or is recovering; connect again after Retry-After.", problem, retryAfter: true);
        }
    }

    private static Task DescribeDocumentAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Vetrina API",
            Version = "v1",
            Description = "Commerce for social video: brands publish products, creators share links and earn commission, " +
                          "platforms buy on behalf of shoppers. Errors are RFC 9457 problem+json with status, title and detail.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A platform key (configuration), or a brand or creator key (returned once when the brand or creator is created).",
        };
        DropNullFromRequiredReferences(document.Components);
        return Task.CompletedTask;
    }

    private static async Task<IOpenApiSchema> ProblemSchemaAsync(OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        if (document.Components?.Schemas?.ContainsKey(ProblemSchema) != true)
        {
            document.AddComponent(ProblemSchema, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken));
        }
        return new OpenApiSchemaReference(ProblemSchema, document);
    }

    private static void AddProblem(OpenApiOperation operation, int status, string description, IOpenApiSchema problem, bool retryAfter = false)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = problem } },
        };
        if (retryAfter)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
            };
        }
        operation.Responses[key] = response;
    }

    private static string Who(string policy) => policy switch
    {
        Access.Platform => "the platform key",
        Access.AnyBrand => "a brand key (of the brand that owns the resource)",
        Access.PlatformOrAnyBrand => "the platform key, or the key of the brand that owns the resource",
        Access.PlatformOrAnyCreator => "the platform key, or the key of the creator that owns the resource",
        Access.BrandOwner => "the key of the brand in the path",
        Access.PlatformOrBrandOwner => "the platform key, or the key of the brand in the path",
        Access.CreatorOwner => "the key of the creator in the path",
        Access.PlatformOrCreatorOwner => "the platform key, or the key of the creator in the path",
        _ => policy,
    };

    private static string Join(string? first, string second) => string.IsNullOrEmpty(first) ? second : first + " " + second;
}
