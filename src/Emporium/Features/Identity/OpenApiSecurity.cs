using Microsoft.OpenApi;

namespace Emporium.Features.Identity;

public static class OpenApiSecurity
{
    /// <summary>Marks the endpoints as needing the "bearer" scheme declared in the OpenAPI document.</summary>
    public static TBuilder RequiresBearer<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [],
            });
            return Task.CompletedTask;
        });
}
