using System.Runtime.CompilerServices;
using System.Linq.Expressions;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog.Products;

/// <summary>What a read projects from the database: the response plus the version behind the ETag.</summary>
public sealed record ProductRow(
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
    internal static readonly Expression<Func<Product, ProductRow>> Projection = p => new ProductRow(
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

    /// <summary>A list item: without variants (a product's own read shows them).</summary>
    public ProductResponse ToResponse() => ToResponse(null);

    public ProductResponse ToResponse(IReadOnlyList<VariantResponse>? variants) => new(
        Id, Sku, Slug, Name, Description, Money.Normalize(Price, Currency), Currency, IsActive, Brand?.ToRef(),
        Categories.ConvertAll(c => c.ToRef()), OwnerId, CreatedAt, UpdatedAt, DeletedAt) { Variants = variants };
}

/// <summary>A product as its own read, its writes and its events show it: with its live variants and its images.</summary>
internal sealed record ProductDetail(ProductRow Row, List<VariantRow> Variants, List<ProductImage> Images, MediaUrls Urls)
{
    public long Id => Row.Id;

    public string ETag => ProductTag.For(
        Row.Id, Row.Version, Row.Brand is { } brand ? (brand.Id, brand.Version) : null, Row.Categories.Select(c => (c.Id, c.Version)),
        VariantReads.TagParts(Variants).Concat(ImageReads.TagParts(Images)));

    public ProductResponse ToResponse() => Row.ToResponse(Variants.ConvertAll(v => v.ToResponse())) with { Images = Images.ConvertAll(Urls.ToResponse) };

    /// <summary>The product <paramref name="reference"/> names, with its variants and images, whoever may see it; null when none exists.</summary>
    public static async Task<ProductDetail?> LoadAsync(
        IProductReads reads, EmporiumDbContext db, CatalogRef reference, MediaUrls urls, CancellationToken cancellationToken) =>
        await reads.FindAsync(db, reference.Id, reference.Slug, cancellationToken) is { } data
            ? new ProductDetail(data.Row, data.Variants, data.Images, urls)
            : null;
}

/// <summary>A product's representation as its own read answers it: the entity tag and the serialized body.</summary>
public sealed record RenderedProduct(string ETag, Utf8JsonResult Body);

/// <summary>
/// Renders a product read once per loaded copy: a cached copy is the same object on every hit, so its tag and body are
/// computed on the first hit and reused until the copy is superseded (decision 0019). The body depends on nothing of the
/// caller (visibility is decided before), only on the product and the process's settings (JSON options, media URLs).
/// </summary>
public sealed class ProductRendering(
    MediaUrls urls, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IOptions<Caching.CacheOptions> cache)
{
    private readonly ConditionalWeakTable<ProductDetailData, RenderedProduct> _rendered = [];

    // Without a cache every read is a new copy, rendered once: nothing to remember.
    private readonly bool _remember = cache.Value.Provider != Caching.CacheProvider.None;

    public RenderedProduct Of(ProductDetailData data) => _remember ? _rendered.GetValue(data, Render) : Render(data);

    private RenderedProduct Render(ProductDetailData data)
    {
        var detail = new ProductDetail(data.Row, data.Variants, data.Images, urls);
        return new RenderedProduct(detail.ETag, new Utf8JsonResult(JsonSerializer.SerializeToUtf8Bytes(detail.ToResponse(), json.Value.SerializerOptions)));
    }
}

/// <summary>A brand or category as a product embeds it, with the version that says when its name or slug changed.</summary>
public sealed record EmbeddedRef(long Id, string Slug, string Name, int Version)
{
    public CatalogItemRef ToRef() => new(Id, Slug, Name);
}

/// <summary>
/// A product's entity tag covers everything its representation shows: its own row (id and version), the brand and live
/// categories it embeds, whose names and slugs can change without the product's row changing, and its live variants (each
/// variant's version, which every variant edit and stock change raises, and the attributes whose slugs they show), and its images
/// (each image's version, which every processing step, reorder and edit raises). Renaming
/// a brand, deleting a category or selling a unit therefore changes the tag of every product that shows it, with no write
/// to the product's row, which stays out of a checkout's locks.
/// </summary>
internal static class ProductTag
{
    public static string For(
        long id, int version, (long Id, int Version)? brand, IEnumerable<(long Id, int Version)> categories,
        IEnumerable<(char Kind, long Id, int Version)> variants)
    {
        var embedded = categories.OrderBy(c => c.Id).ToList();
        var shown = variants.ToList();
        if (brand is null && embedded.Count == 0 && shown.Count == 0)
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

        foreach (var (kind, shownId, shownVersion) in shown)
        {
            Add(hash, kind, shownId, shownVersion);
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
