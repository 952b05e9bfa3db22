using System.Linq.Expressions;

namespace Emporium.Features.Catalog.Variants;

/// <summary>What a read projects for a variant: the response's fields plus the versions its tag and its product's tag cover.</summary>
public sealed record VariantRow(
    long Id,
    long ProductId,
    string ProductName,
    string Sku,
    decimal? PriceOverride,
    decimal ProductPrice,
    string Currency,
    int OnHand,
    bool IsDefault,
    bool ProductSellable,
    int ProductVersion,
    List<VariantAttributeRow> Values,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? DeletedAt,
    int Version)
{
    internal static readonly Expression<Func<Variant, VariantRow>> Projection = v => new VariantRow(
        v.Id,
        v.ProductId,
        v.Product!.Name,
        v.Sku,
        v.Price,
        v.Product.Price,
        v.Product.Currency,
        v.OnHand,
        v.IsDefault,
        v.Product.IsActive && v.Product.DeletedAt == null,
        v.Product.Version,
        v.Values.Select(x => new VariantAttributeRow(x.AttributeId, x.Attribute!.Slug, x.Attribute.Version, x.Value!.Slug)).ToList(),
        v.CreatedAt,
        v.UpdatedAt,
        v.DeletedAt,
        v.Version);

    /// <summary>
    /// Covers what the variant shows: its own version (raised by every edit and stock change), its product's (whose price,
    /// currency and state it shows) and its attributes' (whose slugs it shows).
    /// </summary>
    public string ETag => Products.ProductTag.For(
        Id, Version, null, [], Values.Select(v => ('a', v.AttributeId, v.AttributeVersion)).Append(('p', ProductId, ProductVersion))
            .OrderBy(part => part.Item1).ThenBy(part => part.Item2));

    /// <summary>What one unit sells for now, in <see cref="Currency"/>.</summary>
    public decimal UnitPrice => Money.Normalize(PriceOverride ?? ProductPrice, Currency);

    /// <summary>Units a customer could buy now: the stock of a live variant of an active, live product, otherwise none.</summary>
    public int Sellable => DeletedAt is null && ProductSellable ? OnHand : 0;

    public IReadOnlyDictionary<string, string> AttributeMap =>
        Values.OrderBy(v => v.AttributeSlug, StringComparer.Ordinal).ToDictionary(v => v.AttributeSlug, v => v.ValueSlug, StringComparer.Ordinal);

    public VariantResponse ToResponse() => new(
        Id,
        ProductId,
        Sku,
        UnitPrice,
        PriceOverride is { } own ? Money.Normalize(own, Currency) : null,
        Currency,
        AttributeMap,
        OnHand,
        Sellable > 0,
        IsDefault,
        CreatedAt,
        UpdatedAt,
        DeletedAt);
}

/// <summary>One attribute value of a variant, with the attribute's version (its slugs show in the variant).</summary>
public sealed record VariantAttributeRow(long AttributeId, string AttributeSlug, int AttributeVersion, string ValueSlug);

internal static class VariantReads
{
    /// <summary>The variants with these ids, live or not, by id.</summary>
    public static async Task<Dictionary<long, VariantRow>> ByIdAsync(EmporiumDbContext db, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        return await db.Set<Variant>().AsNoTracking()
            .Where(v => EF.Parameter(list).Contains(v.Id))
            .Select(VariantRow.Projection)
            .ToDictionaryAsync(v => v.Id, cancellationToken);
    }

    /// <summary>A product's live variants, the default first, then in the order they were added.</summary>
    public static Task<List<VariantRow>> OfProductAsync(EmporiumDbContext db, long productId, CancellationToken cancellationToken) =>
        db.Set<Variant>().AsNoTracking()
            .Where(v => v.ProductId == productId && v.DeletedAt == null)
            .OrderByDescending(v => v.IsDefault).ThenBy(v => v.Id)
            .Select(VariantRow.Projection)
            .ToListAsync(cancellationToken);

    /// <summary>What of <paramref name="variants"/> a product's entity tag covers: each variant's version and each attribute's whose slugs they show.</summary>
    public static IEnumerable<(char Kind, long Id, int Version)> TagParts(IEnumerable<VariantRow> variants)
    {
        var attributes = new SortedDictionary<long, int>();
        foreach (var variant in variants.OrderBy(v => v.Id))
        {
            yield return ('v', variant.Id, variant.Version);
            foreach (var value in variant.Values)
            {
                attributes[value.AttributeId] = value.AttributeVersion;
            }
        }

        foreach (var (id, version) in attributes)
        {
            yield return ('a', id, version);
        }
    }
}
