using System.Linq.Expressions;

namespace Emporium.Features.Catalog.Products;

/// <summary>What a read projects from the database: the response plus the version behind the ETag.</summary>
internal sealed record ProductRow(
    long Id,
    string Sku,
    string Slug,
    string Name,
    string? Description,
    decimal Price,
    string Currency,
    bool IsActive,
    CatalogItemRef? Brand,
    List<CatalogItemRef> Categories,
    long? OwnerId,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? DeletedAt,
    int Version)
{
    /// <summary>
    /// One SQL statement per page: brand by a join, categories as a nested collection EF fetches in the
    /// same query (never one query per product). Deleted categories are not shown.
    /// </summary>
    public static readonly Expression<Func<Product, ProductRow>> Projection = p => new ProductRow(
        p.Id,
        p.Sku,
        p.Slug,
        p.Name,
        p.Description,
        p.Price,
        p.Currency,
        p.IsActive,
        p.Brand == null ? null : new CatalogItemRef(p.Brand.Id, p.Brand.Slug, p.Brand.Name),
        p.Categories.Where(c => c.DeletedAt == null).OrderBy(c => c.Name).ThenBy(c => c.Id)
            .Select(c => new CatalogItemRef(c.Id, c.Slug, c.Name)).ToList(),
        p.OwnerId,
        p.CreatedAt,
        p.UpdatedAt,
        p.DeletedAt,
        p.Version);

    public string ETag => Platform.Http.ETags.For(Id, Version);

    public ProductResponse ToResponse() => new(
        Id, Sku, Slug, Name, Description, Money.Normalize(Price, Currency), Currency, IsActive, Brand, Categories, OwnerId,
        CreatedAt, UpdatedAt, DeletedAt);
}
