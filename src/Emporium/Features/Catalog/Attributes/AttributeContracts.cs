using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Attributes;

/// <summary>Body of POST and PUT. PUT replaces every field: absent values clear the list.</summary>
public sealed record AttributeRequest : ITaxonomyRequest
{
    [Required]
    [Description("Display name, 1-255 characters (\"Size\").")]
    public string? Name { get; init; }

    [Description("Lower-case words joined by hyphens, not all digits: the key variants use (\"size\"). Generated from the name on create when absent; kept as it is on update when absent.")]
    public string? Slug { get; init; }

    [Description("The values variants may take, in the order shown, at most 1,000. PUT replaces the list; a value whose slug stays keeps its id.")]
    public IReadOnlyList<AttributeValueRequest>? Values { get; init; }
}

public sealed record AttributeValueRequest
{
    [Required]
    [Description("Display name, 1-255 characters (\"Medium\").")]
    public string? Name { get; init; }

    [Description("The value's key inside its attribute (\"m\"); generated from the name when absent. Unique within the attribute.")]
    public string? Slug { get; init; }
}

public sealed record AttributeValueResponse(long Id, string Slug, string Name);

public sealed record AttributeResponse(
    long Id,
    string Name,
    string Slug,
    [property: Description("In the order shown.")] IReadOnlyList<AttributeValueResponse> Values,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Description("Set when the attribute is soft-deleted; only staff see deleted attributes.")] DateTime? DeletedAt)
{
    internal static AttributeResponse From(ProductAttribute attribute) => new(
        attribute.Id,
        attribute.Name,
        attribute.Slug,
        attribute.Values.OrderBy(v => v.Position).Select(v => new AttributeValueResponse(v.Id, v.Slug, v.Name)).ToList(),
        attribute.CreatedAt,
        attribute.UpdatedAt,
        attribute.DeletedAt);
}
