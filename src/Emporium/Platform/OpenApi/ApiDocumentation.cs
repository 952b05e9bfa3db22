using Microsoft.OpenApi;

namespace Emporium.Platform.OpenApi;

public static class ApiDocumentation
{
    public const string DocumentPath = "/openapi/v1.json";

    private static readonly PathString SwaggerUiPath = "/api/docs";

    private static readonly PathString ReDocPath = "/api/redoc";

    /// <summary>
    /// Whether <paramref name="path"/> is one of the readers' pages: pages for browsers, whose relative links and redirects
    /// depend on a trailing slash, so the trailing-slash tolerance of API routes leaves them alone.
    /// </summary>
    public static bool IsReaderPath(PathString path) => path.StartsWithSegments(SwaggerUiPath) || path.StartsWithSegments(ReDocPath);

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Emporium API",
                    Version = "v1",
                    Description = "Product catalog and commerce backend. Errors are RFC 9457 problem details; " +
                                  "JSON uses snake_case; list endpoints return {count, next, previous, results}.",
                };
                // The server is the one the document was read from; linters (and generated clients) want no trailing slash.
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = server.Url?.TrimEnd('/');
                }

                document.Info.Contact = new OpenApiContact { Name = "Emporium" };
                document.Info.License = new OpenApiLicense { Name = "Proprietary" };
                document.Tags = new HashSet<OpenApiTag>(TagDescriptions.Select(tag => new OpenApiTag { Name = tag.Key, Description = tag.Value }));
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "Access token from POST /api/auth/login.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer<OperationTruths>();
            options.AddOperationTransformer<ParameterTypes>();
            options.AddDocumentTransformer<ReferenceSchemas>();
        });

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Auth"] = "Accounts, sign-in and tokens: a short-lived JWT access token and a rotating refresh token.",
        ["Users"] = "User and role management (admins).",
        ["Products"] = "The catalog's products: staff and admins manage every product, sellers their own; everyone reads active ones.",
        ["Brands"] = "Brands products belong to (staff manage them).",
        ["Categories"] = "The recursive category tree (staff manage it).",
        ["Import"] = "CSV import and export of products, and bulk delete, as background jobs.",
        ["Jobs"] = "Background jobs: status, progress, retry and cancel.",
        ["Events"] = "The events outbox that webhooks deliver.",
        ["Webhooks"] = "Webhook subscriptions, signed deliveries and their log.",
    };

    /// <summary>The OpenAPI document plus two readers for it: Swagger UI at /api/docs and ReDoc at /api/redoc.</summary>
    public static void MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        // Each reader's middleware matches paths with regular expressions: it sees only requests under its own prefix.
        app.UseWhen(http => http.Request.Path.StartsWithSegments(SwaggerUiPath), docs => docs.UseSwaggerUI(options =>
        {
            options.RoutePrefix = SwaggerUiPath.Value![1..];
            options.SwaggerEndpoint(DocumentPath, "Emporium API v1");
            options.DocumentTitle = "Emporium API";
        }));
        app.UseWhen(http => http.Request.Path.StartsWithSegments(ReDocPath), redoc => redoc.UseReDoc(options =>
        {
            options.RoutePrefix = ReDocPath.Value![1..];
            options.SpecUrl = DocumentPath;
            options.DocumentTitle = "Emporium API";
        }));
    }
}
