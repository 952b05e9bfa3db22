using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Brands;

/// <summary>Body of POST and PUT.</summary>
public sealed record BrandRequest : ITaxonomyRequest
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
