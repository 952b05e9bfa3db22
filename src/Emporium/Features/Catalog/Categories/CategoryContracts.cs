using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Categories;

/// <summary>Body of POST and PUT.</summary>
public sealed record CategoryRequest
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

public sealed record CategoryListQuery(
    [property: Description("Only categories whose name contains this text (case-insensitive).")]
    [FromQuery(Name = "name")] string? Name,
    [property: Description("Only the direct subcategories of this category (id or slug), or 'root' for top-level categories.")]
    [FromQuery(Name = "parent")] string? Parent,
    [property: Description("Also list soft-deleted categories (staff and admins only).")]
    [FromQuery(Name = "include_deleted")] bool? IncludeDeleted,
    [property: Description("Sort order: " + TaxonomySupport.SortDescription)]
    [FromQuery(Name = "sort")] string? Sort,
    [property: Description("1-based page number.")]
    [FromQuery(Name = "page")] int? Page,
    [property: Description("Items per page (default 25); larger values are clamped to the maximum (100).")]
    [FromQuery(Name = "page_size")] int? PageSize);
