using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Emporium.Platform.OpenApi;

/// <summary>Marks an endpoint whose successful answer carries an ETag (creates; conditional reads and writes are found alone).</summary>
public sealed class ETagMetadata
{
    public static readonly ETagMetadata Instance = new();
}

public static class OpenApiConventions
{
    /// <summary>
    /// The body is a JSON merge patch (RFC 7396) of <typeparamref name="T"/>, the PUT body: documented as T with nothing
    /// required (component "{T without Request}Patch"), in application/merge-patch+json and application/json. The handler
    /// reads the raw JSON itself, which the generator would otherwise describe as an untyped object.
    /// </summary>
    public static RouteHandlerBuilder AcceptsMergePatch<T>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var name = typeof(T).Name.Replace("Request", "", StringComparison.Ordinal) + "Patch";
            var document = context.Document!;
            if (document.Components?.Schemas?.ContainsKey(name) != true)
            {
                var patch = (OpenApiSchema)(await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken)).CreateShallowCopy();
                patch.Required = new HashSet<string>();
                patch.Description = $"A JSON merge patch of {typeof(T).Name}: only the members present change, null clears an optional one.";
                document.AddComponent<IOpenApiSchema>(name, patch);
            }

            var reference = new OpenApiSchemaReference(name, document);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/merge-patch+json"] = new() { Schema = reference },
                    ["application/json"] = new() { Schema = reference },
                },
            };
        });

    /// <summary>
    /// Names every endpoint whose handler is a named method after that method, unless it is named already: the name is the
    /// OpenAPI operation id (style: the method name becomes the operation id), so no endpoint repeats it in WithName.
    /// </summary>
    public static TBuilder NamedAfterHandlers<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            if (!endpoint.Metadata.OfType<IEndpointNameMetadata>().Any()
                && endpoint.Metadata.OfType<System.Reflection.MethodInfo>().FirstOrDefault() is { } handler
                && !handler.Name.Contains('<', StringComparison.Ordinal))
            {
                endpoint.Metadata.Add(new EndpointNameMetadata(handler.Name));
                endpoint.Metadata.Add(new RouteNameMetadata(handler.Name));
            }
        });
        return builder;
    }

    /// <summary>
    /// The operation's summary and description, and the statuses it may answer with a problem details body (401 and 403
    /// come from its authorization metadata).
    /// </summary>
    public static RouteHandlerBuilder Documented(this RouteHandlerBuilder builder, string summary, string description, params int[] problems) =>
        builder.ProducesProblems(problems).WithSummary(summary).WithDescription(description);

    /// <summary>The operation may answer each of these statuses with a problem details body (RFC 9457).</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var statusCode in statusCodes)
        {
            builder.ProducesProblem(statusCode);
        }

        return builder;
    }

    /// <summary>The successful answer carries an ETag header (documented in OpenAPI).</summary>
    /// <summary>
    /// The operation takes an optional Idempotency-Key header, and its answers may be replays marked Idempotent-Replayed.
    /// </summary>
    public static RouteHandlerBuilder AcceptsIdempotencyKey(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Idempotency-Key",
                In = ParameterLocation.Header,
                Required = false,
                Description = "Makes a retry safe: a request with the same key (1-255 visible ASCII characters, per user) and body within the " +
                    "key's lifetime gets the first request's answer again instead of running twice; another body under the key is 422.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
                Example = JsonValue.Create("5f0c6d1e-2b7a-4c8e-9d3f-1a2b3c4d5e6f"),
            });
            foreach (var (status, response) in operation.Responses ?? [])
            {
                if (status is "201" or "409" or "422" && response is OpenApiResponse concrete)
                {
                    concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    concrete.Headers.TryAdd("Idempotent-Replayed", new OpenApiHeader
                    {
                        Description = "true when this is the stored answer to an earlier request with the same Idempotency-Key.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                }
            }

            return Task.CompletedTask;
        });

    /// <summary>
    /// The body, read by hand rather than bound: multipart/form-data with the file in <paramref name="field"/> (an array of
    /// files when <paramref name="repeated"/>), and, when <paramref name="alsoAsBody"/> names a media type, the file sent as
    /// the whole body in it.
    /// </summary>
    public static RouteHandlerBuilder AcceptsFileUpload(
        this RouteHandlerBuilder builder, string field, string description, bool repeated = false, string? alsoAsBody = null) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var file = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            var content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { field },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            [field] = repeated
                                ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = file, Description = description }
                                : new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = description },
                        },
                    },
                },
            };
            if (alsoAsBody is not null)
            {
                content[alsoAsBody] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } };
            }

            operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content };
            return Task.CompletedTask;
        });

    public static TBuilder ProducesETag<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ETagMetadata.Instance);
}

/// <summary>
/// What every operation says that the endpoint declarations do not: who may call it (security, from its authorization
/// metadata), the conditional-request headers it reads and writes (If-Match with 412, If-None-Match with 304, ETag), the
/// Location of a 201 or 202, Retry-After with 429 and 503, 415 wherever a body is taken, and the 503 every database-backed
/// operation may answer while the database is unreachable (issue 12: third-party linters and generated clients read these).
/// </summary>
internal sealed class OperationTruths : IOpenApiOperationTransformer
{
    public const string BearerScheme = "bearer";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var path = "/" + (context.Description.RelativePath ?? "");
        operation.Responses ??= [];
        var document = context.Document!;
        Security(operation, document, metadata, path);
        Bodies(operation, document);
        ConditionalHeaders(operation, document, metadata);
        Locations(operation);
        Unavailable(operation, document, path);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Required: the bearer scheme only. Signing in and refreshing: none (an empty list). Everything else is open and takes a
    /// token optionally (an empty requirement or bearer): a token changes what some of them show (staff see inactive
    /// products), and the UIs' Authorize button then sends it.
    /// </summary>
    private static void Security(OpenApiOperation operation, OpenApiDocument document, IList<object> metadata, string path)
    {
        var bearer = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] };
        var lastRule = metadata.LastOrDefault(m => m is IAuthorizeData or IAllowAnonymous);
        if (lastRule is IAuthorizeData)
        {
            operation.Security = [bearer];
            AddProblem(operation, document, StatusCodes.Status401Unauthorized, "No valid access token was sent.");
            if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy is not null || a.Roles is not null))
            {
                AddProblem(operation, document, StatusCodes.Status403Forbidden, "The token's roles do not allow this operation.");
            }
        }
        else if (path.StartsWith("/api/auth/", StringComparison.Ordinal))
        {
            operation.Security = [new OpenApiSecurityRequirement()];
        }
        else
        {
            operation.Security = [new OpenApiSecurityRequirement(), bearer];
            AddProblem(operation, document, StatusCodes.Status401Unauthorized, "An access token was sent and is not valid (expired, revoked, malformed); send a fresh one, or none to be served as anonymous.");
        }
    }

    private static void ConditionalHeaders(OpenApiOperation operation, OpenApiDocument document, IList<object> metadata)
    {
        var responses = operation.Responses!;
        var readsIfMatch = responses.ContainsKey("412");
        var readsIfNoneMatch = responses.ContainsKey("304");
        if (readsIfMatch)
        {
            AddHeaderParameter(operation, "If-Match",
                "Only change the resource if its current ETag is one of these (or *); otherwise 412 and nothing changes.");
            AddProblem(operation, document, StatusCodes.Status400BadRequest, "A parameter is invalid (an If-Match that is not entity tags); errors names it.",
                "HttpValidationProblemDetails");
        }

        if (readsIfNoneMatch)
        {
            AddHeaderParameter(operation, "If-None-Match",
                "304 with no body when the current ETag is one of these (weak comparison).");
        }

        if (readsIfMatch || readsIfNoneMatch || metadata.OfType<ETagMetadata>().Any())
        {
            foreach (var (status, response) in responses)
            {
                if (status is "200" or "201" or "304" && response is OpenApiResponse concrete)
                {
                    AddHeader(concrete, "ETag", "The representation's entity tag, for If-Match and If-None-Match.");
                }
            }
        }
    }

    private static void Locations(OpenApiOperation operation)
    {
        foreach (var (status, response) in operation.Responses!)
        {
            if (response is not OpenApiResponse concrete)
            {
                continue;
            }

            switch (status)
            {
                case "201":
                    AddHeader(concrete, "Location", "The URL of the created resource.");
                    break;
                case "202":
                    AddHeader(concrete, "Location", "The URL to follow the accepted work at: its job, or what it works on (the images, the delivery) where that shows its progress.");
                    break;
                case "429" or "503":
                    AddHeader(concrete, "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
                    break;
            }
        }
    }

    /// <summary>An operation that takes a body refuses other media types (415), malformed ones (400) and too large ones (413).</summary>
    private static void Bodies(OpenApiOperation operation, OpenApiDocument document)
    {
        if (operation.RequestBody is null)
        {
            return;
        }

        AddProblem(operation, document, StatusCodes.Status400BadRequest, "The body or a parameter is invalid; errors names each field.",
            "HttpValidationProblemDetails");
        AddProblem(operation, document, StatusCodes.Status415UnsupportedMediaType, "The body's media type is not one this operation reads.");
        AddProblem(operation, document, StatusCodes.Status413PayloadTooLarge, "The body is larger than the service takes (Http:MaxJsonBodyBytes for JSON).");
    }

    /// <summary>Every operation that reads or writes the database answers 503 with Retry-After while it is unreachable.</summary>
    private static void Unavailable(OpenApiOperation operation, OpenApiDocument document, string path)
    {
        if (!path.StartsWith("/api/", StringComparison.Ordinal))
        {
            return;
        }

        AddProblem(operation, document, StatusCodes.Status503ServiceUnavailable,
            "A dependency (the database) cannot be reached; nothing changed. Retry later.");
        AddHeader((OpenApiResponse)operation.Responses!["503"], "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
    }

    private static void AddProblem(
        OpenApiOperation operation, OpenApiDocument document, int status, string description, string schema = nameof(ProblemDetails))
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(schema, document) },
            },
        };
    }

    private static void AddHeaderParameter(OpenApiOperation operation, string name, string description)
    {
        operation.Parameters ??= [];
        if (operation.Parameters.Any(p => p.Name == name))
        {
            return;
        }

        operation.Parameters.Add(new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Required = false,
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("\"42-3\""),
        });
    }

    private static void AddHeader(OpenApiResponse response, string name, string description, JsonSchemaType type = JsonSchemaType.String)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers.TryAdd(name, new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } });
    }
}
