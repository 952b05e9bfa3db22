using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Categories;

/// <summary>Body of POST and PUT.</summary>
public sealed record CategoryRequest : ITaxonomyRequest
{
    [Required]
    [Description("Display name, 1-255 characters.")]
    public string? Name { get; init; }

    [Description("Lower-case words joined by hyphens, not all digits, not 'tree'. Generated from the name on create when absent; kept as it is on update when absent.")]
    public string? Slug { get; init; }

    [Description("Up to 10,000 characters; absent or null clears it on PUT.")]
    public string? Description { get; init; }

    [Description("Parent category as a numeric id or a slug; null or absent makes it a top-level category.")]
    public JsonElement? Parent { get; init; }

    [Description("Alias of parent taking an id, so a body read with GET can be sent back as it is.")]
    public long? ParentId { get; init; }
}

public sealed record CategoryResponse(
    long Id,
    string Name,
    string Slug,
    string? Description,
    long? ParentId,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Description("Set when the category is soft-deleted; only staff see deleted categories.")] DateTime? DeletedAt)
{
    internal static CategoryResponse From(Category category) => new(
        category.Id,
        category.Name,
        category.Slug,
        category.Description,
        category.ParentId,
        category.CreatedAt,
        category.UpdatedAt,
        category.DeletedAt);
}

/// <summary>One live category with its live subcategories, ordered by name.</summary>
public sealed record CategoryNode(long Id, string Name, string Slug, string? Description, IReadOnlyList<CategoryNode> Children);

/// <summary>The filter only category lists have.</summary>
public sealed record CategoryParentQuery(
    [property: Description("Only the direct subcategories of this category (id or slug), or 'root' for top-level categories.")]
    [FromQuery(Name = "parent")] string? Parent);
