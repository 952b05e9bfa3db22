using System.IO.Compression;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog.Demo;

/// <summary>
/// Loads eShop's 101-product sample catalog (MIT, dotnet/eShop) so a newcomer sees a real catalog at
/// once: 13 brands, an "Outdoor" category with one child per product type, and the products with
/// SKUs ESHOP-001.. . Idempotent: rows that exist (by SKU or slug) are left alone; a SKU any variant holds is skipped, and
/// a brand or category someone deleted is not linked (nor made a parent) again.
/// </summary>
public sealed partial class DemoCatalogSeeder(
    EmporiumDbContext db,
    IConfiguration configuration,
    IOptions<EmporiumOptions> options,
    TimeProvider clock,
    ILogger<DemoCatalogSeeder> logger) : IStartupTask
{
    private sealed record DemoItem(int Id, string Type, string Brand, string Name, string Description, decimal Price);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDemo && !configuration.GetValue("seed-demo", false))
        {
            return;
        }

        var items = await ReadCatalogAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;

        var brands = await db.Set<Brand>().ToDictionaryAsync(b => b.Slug, cancellationToken);
        foreach (var name in items.Select(i => i.Brand).Distinct())
        {
            var slug = Slugs.FromName(name, "brand");
            if (!brands.ContainsKey(slug))
            {
                brands[slug] = db.Add(new Brand { Name = name, Slug = slug, CreatedAt = now, UpdatedAt = now }).Entity;
            }
        }

        var categories = await db.Set<Category>().ToDictionaryAsync(c => c.Slug, cancellationToken);
        // A deleted "outdoor" keeps its slug; the product types then go at the top level, not under a deleted parent.
        var root = categories.GetValueOrDefault("outdoor");
        if (root is null)
        {
            root = categories["outdoor"] = db.Add(new Category
            {
                Name = "Outdoor",
                Slug = "outdoor",
                Description = "Gear for the outdoors (eShop sample catalog).",
                CreatedAt = now,
                UpdatedAt = now,
            }).Entity;
        }
        else if (root.DeletedAt is not null)
        {
            root = null;
        }

        foreach (var type in items.Select(i => i.Type).Distinct())
        {
            var slug = Slugs.FromName(type, "category");
            if (!categories.ContainsKey(slug))
            {
                categories[slug] = db.Add(new Category { Name = type, Slug = slug, Parent = root, CreatedAt = now, UpdatedAt = now }).Entity;
            }
        }

        // Variants share the SKU namespace with products (a product's SKU is its default variant's).
        var existingSkus = (await db.Set<Variant>().Select(v => v.SkuKey).ToListAsync(cancellationToken))
            .Concat(await db.Set<Product>().Select(p => p.SkuKey).ToListAsync(cancellationToken))
            .ToHashSet();
        var existingSlugs = (await db.Set<Product>().Select(p => p.Slug).ToListAsync(cancellationToken)).ToHashSet();
        var added = 0;
        foreach (var item in items)
        {
            var sku = $"ESHOP-{item.Id:000}";
            if (existingSkus.Contains(Product.KeyOf(sku)))
            {
                continue;
            }

            // The sample has a few products that share a name; they get -2, -3 slugs.
            var slug = await Slugs.UniqueAsync(Slugs.FromName(item.Name, "product"), s => Task.FromResult(existingSlugs.Contains(s)));
            existingSlugs.Add(slug);

            db.Add(new Product
            {
                Sku = sku,
                SkuKey = Product.KeyOf(sku),
                Slug = slug,
                Name = item.Name,
                Description = item.Description,
                Price = item.Price,
                Currency = "USD",
                IsActive = true,
                Brand = brands[Slugs.FromName(item.Brand, "brand")] is { DeletedAt: null } brand ? brand : null,
                Categories = categories[Slugs.FromName(item.Type, "category")] is { DeletedAt: null } category ? [category] : [],
                CreatedAt = now,
                UpdatedAt = now,
            });
            added++;
        }

        await db.SaveChangesAsync(cancellationToken);
        LogSeeded(logger, added, items.Count - added);
    }

    private static async Task<List<DemoItem>> ReadCatalogAsync(CancellationToken cancellationToken)
    {
        await using var resource = typeof(DemoCatalogSeeder).Assembly.GetManifestResourceStream("demo/eshop-catalog.json.gz")
            ?? throw new InvalidOperationException("The demo catalog resource is missing from the build.");
        await using var json = new GZipStream(resource, CompressionMode.Decompress);
        return await JsonSerializer.DeserializeAsync<List<DemoItem>>(json, JsonSerializerOptions.Web, cancellationToken) ?? [];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo catalog loaded: {Added} products added, {Skipped} already present")]
    private static partial void LogSeeded(ILogger logger, int added, int skipped);
}
