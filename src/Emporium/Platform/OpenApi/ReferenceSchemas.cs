using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Emporium.Platform.OpenApi;

/// <summary>
/// Schemas the generator cannot infer: a catalog reference read by a custom converter (IdOrSlug) or from raw JSON (a
/// category's parent) is an id (number) or a slug (string), and lists of them have items.
/// </summary>
internal sealed class ReferenceSchemas : IOpenApiDocumentTransformer
{
    private const string IdOrSlug = "IdOrSlug";

    /// <summary>Members that hold a reference, or a list of them, and the schemas they are members of.</summary>
    private static readonly (string Schema, string Property, bool List, bool Nullable, string Description)[] References =
    [
        ("ProductRequest", "categories", true, true, "Category ids or slugs."),
        ("ProductPatch", "categories", true, true, "Category ids or slugs; null or [] removes them all."),
        ("CategoryRequest", "parent", false, true, "Parent category as an id or a slug; null or absent makes it a top-level category."),
        ("CategoryPatch", "parent", false, true, "The new parent as an id or a slug; null moves the category to the top level."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schemas = document.Components?.Schemas;
        if (schemas is null)
        {
            return Task.CompletedTask;
        }

        schemas[IdOrSlug] = new OpenApiSchema
        {
            Description = "A brand or category: its id (a number, or digits in a string) or its slug.",
            OneOf =
            [
                new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64" },
                new OpenApiSchema { Type = JsonSchemaType.String },
            ],
        };
        // A raw JsonElement member is any JSON value, null included: "null or JsonElement" would match null twice, which
        // oneOf forbids.
        foreach (var owner in schemas.Values)
        {
            foreach (var (name, member) in owner.Properties?.ToList() ?? [])
            {
                if (member.OneOf is { Count: 2 } branches
                    && branches.Any(b => b.Type == JsonSchemaType.Null)
                    && branches.Any(b => b is OpenApiSchemaReference { Reference.Id: "JsonElement" }))
                {
                    owner.Properties![name] = new OpenApiSchema
                    {
                        Description = branches.Select(b => b.Description).FirstOrDefault(d => d is not null) ?? "Any JSON value.",
                    };
                }
            }
        }

        var reference = new OpenApiSchemaReference(IdOrSlug, document);
        foreach (var (schemaName, property, list, nullable, description) in References)
        {
            if (!schemas.TryGetValue(schemaName, out var owner) || owner.Properties?.ContainsKey(property) != true)
            {
                continue;
            }

            IOpenApiSchema value = list
                ? new OpenApiSchema { Type = JsonSchemaType.Array | (nullable ? JsonSchemaType.Null : 0), Items = reference, Description = description }
                : nullable
                    ? new OpenApiSchema { OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }], Description = description }
                    : reference;
            owner.Properties![property] = value;
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Query parameters bound as text so a bad value is a field error naming the parameter (not a bare 400) are documented
/// with the type they hold: true/false flags, decimal amounts and page numbers.
/// </summary>
internal sealed class ParameterTypes : IOpenApiOperationTransformer
{
    private static readonly HashSet<string> Flags = ["active", "include_deleted", "include_descendants", "is_active", "dry_run", "from_start"];

    private static readonly HashSet<string> Amounts = ["min_price", "max_price"];

    private static readonly HashSet<string> Counts = ["page", "page_size"];

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Query))
        {
            if (Flags.Contains(parameter.Name!))
            {
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.Boolean };
            }
            else if (Amounts.Contains(parameter.Name!))
            {
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.Number, Minimum = "0" };
            }
            else if (Counts.Contains(parameter.Name!))
            {
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1" };
            }
        }

        return Task.CompletedTask;
    }
}
