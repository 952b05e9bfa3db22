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
    EmbeddedRef? Brand,
    List<EmbeddedRef> Categories,
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
        p.Brand == null ? null : new EmbeddedRef(p.Brand.Id, p.Brand.Slug, p.Brand.Name, p.Brand.Version),
        p.Categories.Where(c => c.DeletedAt == null).OrderBy(c => c.Name).ThenBy(c => c.Id)
            .Select(c => new EmbeddedRef(c.Id, c.Slug, c.Name, c.Version)).ToList(),
        p.OwnerId,
        p.CreatedAt,
        p.UpdatedAt,
        p.DeletedAt,
        p.Version);

    public string ETag => ProductTag.For(Id, Version, Brand, Categories);

    public ProductResponse ToResponse() => new(
        Id, Sku, Slug, Name, Description, Money.Normalize(Price, Currency), Currency, IsActive, Brand?.ToRef(),
        Categories.ConvertAll(c => c.ToRef()), OwnerId, CreatedAt, UpdatedAt, DeletedAt);
}

/// <summary>A brand or category as a product embeds it, with the version that says when its name or slug changed.</summary>
internal sealed record EmbeddedRef(long Id, string Slug, string Name, int Version)
{
    public CatalogItemRef ToRef() => new(Id, Slug, Name);
}

/// <summary>
/// A product's entity tag covers everything its representation shows: its own row (id and version) and the brand and live
/// categories it embeds, whose names and slugs can change without the product's row changing. Renaming a brand, or
/// deleting or restoring a category, therefore changes the tag of every product that shows it, with no write to those
/// products. A product without brand or categories keeps the plain "id-version" tag.
/// </summary>
internal static class ProductTag
{
    public static string For(long id, int version, EmbeddedRef? brand, IReadOnlyCollection<EmbeddedRef> categories) =>
        For(id, version, brand is null ? null : (brand.Id, brand.Version), categories.Select(c => (c.Id, c.Version)));

    public static string For(long id, int version, (long Id, int Version)? brand, IEnumerable<(long Id, int Version)> categories)
    {
        var embedded = categories.OrderBy(c => c.Id).ToList();
        if (brand is null && embedded.Count == 0)
        {
            return Platform.Http.ETags.For(id, version);
        }

        var hash = new System.IO.Hashing.XxHash32();
        if (brand is { } b)
        {
            Add(hash, 'b', b.Id, b.Version);
        }

        foreach (var (categoryId, categoryVersion) in embedded)
        {
            Add(hash, 'c', categoryId, categoryVersion);
        }

        return $"\"{id}-{version}-{hash.GetCurrentHashAsUInt32():x8}\"";

        static void Add(System.IO.Hashing.XxHash32 hash, char kind, long embeddedId, int embeddedVersion)
        {
            Span<byte> bytes = stackalloc byte[13];
            bytes[0] = (byte)kind;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes[1..], embeddedId);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes[9..], embeddedVersion);
            hash.Append(bytes);
        }
    }
}
