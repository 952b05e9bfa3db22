namespace Emporium.Features.Catalog;

/// <summary>Catalog rows share soft delete and an optimistic-concurrency version that backs the ETag.</summary>
public interface ISoftDeletable
{
    DateTime? DeletedAt { get; set; }
}

/// <summary>A catalog row addressed by /{ref} (id or slug) whose version is its ETag.</summary>
public interface ICatalogRow : ISoftDeletable, IVersioned
{
    string Slug { get; set; }

    DateTime CreatedAt { get; }

    DateTime UpdatedAt { get; set; }
}

/// <summary>Brands and categories: the named taxonomy products are filed under, written only by those who run the store.</summary>
public interface ITaxonomyRow : ICatalogRow
{
    string Name { get; set; }
}

public sealed class Product : ICatalogRow
{
    public long Id { get; set; }

    /// <summary>As entered by the user.</summary>
    public required string Sku { get; set; }

    /// <summary>Upper-cased SKU; its unique index makes SKUs unique regardless of case.</summary>
    public required string SkuKey { get; set; }

    public required string Slug { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public decimal Price { get; set; }

    public string Currency { get; set; } = "USD";

    public bool IsActive { get; set; } = true;

    public long? BrandId { get; set; }

    public Brand? Brand { get; set; }

    public long? OwnerId { get; set; }

    public List<Category> Categories { get; set; } = [];

    /// <summary>What is sold: at least the default variant, which the database creates with the product (decision 0016).</summary>
    public List<Variants.Variant> Variants { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public int Version { get; set; } = 1;

    public static string KeyOf(string sku) => sku.Trim().ToUpperInvariant();
}

public sealed class Brand : ITaxonomyRow
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Slug { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public int Version { get; set; } = 1;
}

public sealed class Category : ITaxonomyRow
{
    public long Id { get; set; }

    public long? ParentId { get; set; }

    public Category? Parent { get; set; }

    public required string Name { get; set; }

    public required string Slug { get; set; }

    public string? Description { get; set; }

    public List<Product> Products { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public int Version { get; set; } = 1;
}
