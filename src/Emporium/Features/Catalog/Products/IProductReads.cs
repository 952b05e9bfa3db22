using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog.Products;

/// <summary>What a product's own read loads, before anyone's visibility is applied: its row, its live variants, its images.</summary>
public sealed record ProductDetailData(ProductRow Row, List<VariantRow> Variants, List<ProductImage> Images)
{
    /// <summary>Its JSON form, as the PostgreSQL read builds it and the cache stores it.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}

/// <summary>
/// Loads one product with everything its representation shows (decision 0018), through <paramref name="db"/>'s connection
/// and transaction (writes read back what they are about to commit). The default is three EF Core queries; the PostgreSQL
/// adapter does it in one statement, because a round trip to the server costs more than any of the queries.
/// </summary>
public interface IProductReads
{
    /// <summary>The product with id <paramref name="id"/>, or else slug <paramref name="slug"/>; null when there is none.</summary>
    Task<ProductDetailData?> FindAsync(EmporiumDbContext db, long? id, string? slug, CancellationToken cancellationToken);

    /// <summary>
    /// The same, as committed, outside any transaction: what a read request (and the cache's miss) loads. An adapter may
    /// read it without a DbContext; <paramref name="services"/> (the request's) supplies one to those that need it.
    /// </summary>
    Task<ProductDetailData?> FindCommittedAsync(IServiceProvider services, long? id, string? slug, CancellationToken cancellationToken);
}

/// <summary>The portable read: the product with brand and categories, then its variants, then its images.</summary>
public sealed class EfProductReads : IProductReads
{
    public Task<ProductDetailData?> FindCommittedAsync(IServiceProvider services, long? id, string? slug, CancellationToken cancellationToken) =>
        FindAsync(services.GetRequiredService<EmporiumDbContext>(), id, slug, cancellationToken);

    public async Task<ProductDetailData?> FindAsync(EmporiumDbContext db, long? id, string? slug, CancellationToken cancellationToken)
    {
        var products = db.Set<Product>().AsNoTracking();
        products = id is { } key ? products.Where(p => p.Id == key) : products.Where(p => p.Slug == slug);
        var row = await products.Select(ProductRow.Projection).FirstOrDefaultAsync(cancellationToken);
        return row is null
            ? null
            : new ProductDetailData(
                row,
                await VariantReads.OfProductAsync(db, row.Id, cancellationToken),
                await ImageReads.OfProductAsync(db, row.Id, cancellationToken));
    }
}
