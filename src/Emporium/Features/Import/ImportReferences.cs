using System.Collections.Frozen;
using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>
/// The categories and brands an import's rows name, loaded once before the first pass. The reading stage resolves rows
/// against a frozen copy of the brands taken then (it runs beside the writing stage); the writing stage creates the brands
/// a row names for the first time, in its batch's transaction, and adds them to the live set.
/// </summary>
internal sealed class ImportReferences
{
    // Brands by slug, and by lower-cased name (prefixed with a NUL, which no slug or name holds, so that the two kinds of
    // key never meet: a slug always names its own brand, even where another brand's name lower-cases to it).
    private readonly Dictionary<string, BrandEntry> _brands = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _brandNames = [];
    // Keys of the brands the open transaction created: a dry run's rollback forgets them.
    private readonly List<string> _created = [];
    private FrozenDictionary<string, BrandEntry> _known = FrozenDictionary<string, BrandEntry>.Empty;

    private ImportReferences(CategoryLookup categories) => Categories = categories;

    public CategoryLookup Categories { get; }

    public static async Task<ImportReferences> LoadAsync(EmporiumDbContext db, ImportColumns columns, CancellationToken cancellationToken)
    {
        var categories = await db.Set<Category>().AsNoTracking()
            .Where(c => c.DeletedAt == null)
            .Select(c => new { c.Id, c.Name, c.Slug })
            .ToListAsync(cancellationToken);
        var references = new ImportReferences(new CategoryLookup(categories.Select(c => (c.Id, c.Name, c.Slug))));
        if (columns.Brand)
        {
            foreach (var brand in await db.Set<Brand>().AsNoTracking()
                .Select(b => new { b.Id, b.Name, b.Slug, b.DeletedAt })
                .ToListAsync(cancellationToken))
            {
                references.Remember(brand.Id, brand.Name, brand.Slug, brand.DeletedAt is not null);
            }

            references._known = references._brands.ToFrozenDictionary(StringComparer.Ordinal);
        }

        return references;
    }

    /// <summary>
    /// The reading stage's check: brands known before the import get their id now; others are left for the writing stage
    /// to create, unless the scope is a seller's (brands are the store's). A deleted brand is marked on the row: as in the
    /// API, a product may keep a brand deleted since it was linked (an exported file imports again), and the look-ahead,
    /// which reads the product, refuses it for any other (<see cref="DeletedBrand"/>).
    /// </summary>
    public RejectedRow? Resolve(ImportRow row, string brand, CatalogScope scope)
    {
        if (Find(_known, brand) is not { } entry)
        {
            return scope.OwnProductsOnly
                ? new RejectedRow(row.Line, "brand", brand, $"brand '{brand}' does not exist; ask the store's staff to create it, or name an existing brand.")
                : null;
        }

        row.BrandId = entry.Id;
        row.BrandDeleted = entry.Deleted;
        return null;
    }

    /// <summary>The rejection of a row naming a deleted brand that its product does not already have.</summary>
    public static RejectedRow DeletedBrand(ImportRow row) =>
        new(row.Line, "brand", row.Brand, $"brand '{row.Brand}' is deleted; restore it first or name another brand.");

    /// <summary>
    /// The writing stage's: creates each brand first named by these rows (name as written, slug from the name); returns
    /// the ids of those it created.
    /// </summary>
    public async Task<List<long>> CreateMissingAsync(EmporiumDbContext db, List<ImportRow> rows, DateTime now, CancellationToken cancellationToken)
    {
        var created = new List<long>();
        foreach (var row in rows)
        {
            if (row.Brand is not { } name || row.BrandId is not null)
            {
                continue;
            }

            // Unknown before the import, so never deleted: perhaps an earlier batch created it.
            if (Find(_brands, name) is { } known)
            {
                row.BrandId = known.Id;
                continue;
            }

            var slug = await Slugs.UniqueAsync(
                Slugs.FromName(name, "brand"),
                candidate => db.Set<Brand>().AnyAsync(b => b.Slug == candidate, cancellationToken));
            var brand = new Brand { Name = name, Slug = slug, CreatedAt = now, UpdatedAt = now };
            db.Add(brand);
            await db.SaveChangesAsync(cancellationToken);
            Remember(brand.Id, name, slug, deleted: false);
            _created.Add(NameKey(name));
            _created.Add(slug);
            row.BrandId = brand.Id;
            created.Add(brand.Id);
        }

        return created;
    }

    /// <summary>The transaction that created the latest brands ended: forget them if it rolled back.</summary>
    public void TransactionEnded(bool committed)
    {
        if (!committed)
        {
            foreach (var key in _created)
            {
                _brands.Remove(key);
            }
        }

        _created.Clear();
    }

    public string? BrandName(long? id) => id is { } value && _brandNames.TryGetValue(value, out var name) ? name : null;

    /// <summary>
    /// By slug as written (what the export writes), then by name in any case, then by the slug the name would get (which
    /// also finds a slug written in another case).
    /// </summary>
    private static BrandEntry? Find(IReadOnlyDictionary<string, BrandEntry> brands, string name) =>
        brands.TryGetValue(name, out var entry) || brands.TryGetValue(NameKey(name), out entry)
        || brands.TryGetValue(Slugs.FromName(name, "brand"), out entry)
            ? entry
            : null;

    private static string NameKey(string name) => "\0" + name.Trim().ToLowerInvariant();

    private void Remember(long id, string name, string slug, bool deleted)
    {
        var entry = new BrandEntry(id, deleted);
        foreach (var key in new[] { slug, NameKey(name) })
        {
            // A live brand wins over a deleted one of the same name.
            if (!_brands.TryGetValue(key, out var known) || (known.Deleted && !deleted))
            {
                _brands[key] = entry;
            }
        }

        _brandNames[id] = name;
    }

    private sealed record BrandEntry(long Id, bool Deleted);
}
