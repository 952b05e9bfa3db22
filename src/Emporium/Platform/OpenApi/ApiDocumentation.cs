using Microsoft.OpenApi;

namespace Emporium.Platform.OpenApi;

public static class ApiDocumentation
{
    public const string DocumentPath = "/openapi/v1.json";

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
        });

    /// <summary>The OpenAPI document plus two readers for it: Swagger UI at /api/docs and ReDoc at /api/redoc.</summary>
    public static void MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "api/docs";
            options.SwaggerEndpoint(DocumentPath, "Emporium API v1");
            options.DocumentTitle = "Emporium API";
        });
        app.UseReDoc(options =>
        {
            options.RoutePrefix = "api/redoc";
            options.SpecUrl = DocumentPath;
            options.DocumentTitle = "Emporium API";
        });
    }
}
