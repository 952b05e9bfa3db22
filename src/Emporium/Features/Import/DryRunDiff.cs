using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>
/// A dry run's before/after view of one batch: the stored products are read inside the batch's transaction, before the
/// upsert that is then rolled back, and each updated row is compared field by field over the columns the file has.
/// </summary>
internal sealed class DryRunDiff
{
    private readonly Dictionary<string, Stored> _before;
    private readonly ImportColumns _columns;
    private readonly ImportReferences _references;

    private DryRunDiff(Dictionary<string, Stored> before, ImportColumns columns, ImportReferences references)
    {
        _before = before;
        _columns = columns;
        _references = references;
    }

    public static async Task<DryRunDiff> ReadAsync(
        EmporiumDbContext db, List<ImportRow> rows, ImportColumns columns, ImportReferences references, CancellationToken cancellationToken)
    {
        var keys = rows.Select(row => row.SkuKey).ToList();
        var before = await db.Set<Product>().AsNoTracking()
            .Where(p => EF.Parameter(keys).Contains(p.SkuKey))
            .Select(p => new Stored(p.SkuKey, p.Sku, p.Name, p.Description, p.Price, p.Currency, p.IsActive, p.BrandId, p.DeletedAt))
            .ToDictionaryAsync(p => p.SkuKey, StringComparer.Ordinal, cancellationToken);
        return new DryRunDiff(before, columns, references);
    }

    /// <summary>The changes an updated row makes, or null when the product was not there before the batch.</summary>
    public ProductChange? Of(ImportRow after)
    {
        if (!_before.TryGetValue(after.SkuKey, out var before))
        {
            return null;
        }

        var changes = new List<FieldChange>();
        void Compare(string field, string? from, string? to)
        {
            if (!string.Equals(from, to, StringComparison.Ordinal))
            {
                changes.Add(new FieldChange(field, from, to));
            }
        }

        if (before.DeletedAt is not null)
        {
            changes.Add(new FieldChange("deleted", "true", "false"));
        }

        Compare("sku", before.Sku, after.Sku);
        Compare("name", before.Name, after.Name);
        if (_columns.Description)
        {
            Compare("description", before.Description, after.Description);
        }

        if (_columns.Price)
        {
            Compare("price", Price(before.Price), Price(after.Price));
        }

        if (_columns.Currency)
        {
            Compare("currency", before.Currency, after.Currency);
        }

        if (_columns.Active)
        {
            Compare("active", before.IsActive ? "true" : "false", after.IsActive ? "true" : "false");
        }

        if (_columns.Brand)
        {
            Compare("brand", _references.BrandName(before.BrandId), after.Brand is null ? null : _references.BrandName(after.BrandId) ?? after.Brand);
        }

        if (changes.Count == 0 && _columns.Categories)
        {
            changes.Add(new FieldChange("categories", null, string.Join("|", after.CategoryIds)));
        }

        return new ProductChange(after.Line, after.Sku, changes);

        static string Price(decimal price) => (price / 1.0000m).ToString("0.####", CultureInfo.InvariantCulture);
    }

    private sealed record Stored(
        string SkuKey, string Sku, string Name, string? Description, decimal Price, string Currency, bool IsActive, long? BrandId, DateTime? DeletedAt);
}
