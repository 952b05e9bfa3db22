using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Brands;

/// <summary>Body of POST and PUT.</summary>
public sealed record BrandRequest
{
    [Required]
    [Description("Display name, 1-255 characters.")]
    public string? Name { get; init; }

    [Description("Lower-case words joined by hyphens, not all digits. Generated from the name on create when absent; kept as it is on update when absent.")]
    public string? Slug { get; init; }
}

public sealed record BrandResponse(
    long Id,
    string Name,
    string Slug,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Description("Set when the brand is soft-deleted; only staff see deleted brands.")] DateTime? DeletedAt)
{
    internal static BrandResponse From(Brand brand) => new(
        brand.Id,
        brand.Name,
        brand.Slug,
        brand.CreatedAt,
        brand.UpdatedAt,
        brand.DeletedAt);
}

public sealed record BrandListQuery(
    [property: Description("Only brands whose name contains this text (case-insensitive).")]
    [FromQuery(Name = "name")] string? Name,
    [property: Description("Also list soft-deleted brands (staff and admins only).")]
    [FromQuery(Name = "include_deleted")] bool? IncludeDeleted,
    [property: Description("Sort order: " + TaxonomySupport.SortDescription)]
    [FromQuery(Name = "sort")] string? Sort,
    [property: Description("1-based page number.")]
    [FromQuery(Name = "page")] int? Page,
    [property: Description("Items per page (default 25); larger values are clamped to the maximum (100).")]
    [FromQuery(Name = "page_size")] int? PageSize);
