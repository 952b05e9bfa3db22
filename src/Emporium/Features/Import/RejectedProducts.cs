using System.Collections.Concurrent;
using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>
/// The product rows of a file with variant rows that the reading stage rejected, by SKU key, with their line: a variant row
/// naming such a product says that its product's row was rejected and where, not that no product has the SKU (which sent
/// users looking for a typo in the variant row). Read by the writer lanes while the reading stage adds to it; at most
/// <see cref="Kept"/> entries (past them, the general message).
/// </summary>
internal sealed class RejectedProducts(ImportHeader header)
{
    private const int Kept = 100_000;

    private readonly ConcurrentDictionary<string, long> _lines = new(StringComparer.Ordinal);

    /// <summary>A row the parser refused, from its cells: a product row when it has a SKU and no product_sku.</summary>
    public void Note(CsvRecord record, RejectedRow rejection)
    {
        if (header.Columns.ProductSku && record.Error is null && record.Fields.Length == header.FieldCount
            && header.Field(record, "sku")?.Trim() is { Length: > 0 } sku
            && string.IsNullOrWhiteSpace(header.Field(record, "product_sku")))
        {
            Add(Product.KeyOf(sku), rejection.Line);
        }
    }

    /// <summary>A parsed row the look-ahead refused.</summary>
    public void Note(ImportRow row)
    {
        if (header.Columns.ProductSku && !row.IsVariantRow && row.Rejection is { } rejection)
        {
            Add(row.SkuKey, rejection.Line);
        }
    }

    /// <summary>The line of the product row of <paramref name="skuKey"/> that was rejected, if one was.</summary>
    public long? LineOf(string skuKey) => _lines.TryGetValue(skuKey, out var line) ? line : null;

    private void Add(string key, long line)
    {
        if (_lines.Count < Kept)
        {
            // The first: the reading stage runs batches ahead of the writers, so a later rejection of the same SKU may already
            // be known when a variant row that follows the first is written.
            _lines.TryAdd(key, line);
        }
    }
}
