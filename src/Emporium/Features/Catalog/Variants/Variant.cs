using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Catalog.Variants;

/// <summary>
/// What a customer buys: one SKU of a product, with its own stock and an optional price of its own (decision 0016).
/// Every product has a default variant that holds the product's SKU; the database creates it with the product and keeps
/// its SKU equal to the product's, so the SKU namespace is one unique index over all variants.
/// </summary>
public sealed class Variant : ISoftDeletable, IVersioned
{
    public long Id { get; set; }

    public long ProductId { get; set; }

    public Product? Product { get; set; }

    public required string Sku { get; set; }

    /// <summary>Upper-cased SKU, unique over every variant (and so over every product, whose default variant holds its SKU).</summary>
    public required string SkuKey { get; set; }

    /// <summary>The variant's own price in the product's currency; null sells at the product's price.</summary>
    public decimal? Price { get; set; }

    /// <summary>Units in stock, never negative (a CHECK says so too); changed only by guarded updates that record a movement.</summary>
    public int OnHand { get; set; }

    public bool IsDefault { get; set; }

    /// <summary>The attribute values as sorted "attribute_id:value_id" pairs: unique per product among live variants.</summary>
    public string Signature { get; set; } = "";

    public List<VariantValue> Values { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public int Version { get; set; } = 1;

    /// <summary>Makes <see cref="Values"/> exactly <paramref name="values"/> (keeping the rows that stay) and the signature theirs.</summary>
    public void SetValues(IReadOnlyCollection<(long AttributeId, long ValueId)> values)
    {
        Signature = SignatureOf(values);
        var keep = values.ToHashSet();
        Values.RemoveAll(v => !keep.Contains((v.AttributeId, v.ValueId)));
        foreach (var (attributeId, valueId) in values.Where(pair => !Values.Exists(v => v.AttributeId == pair.AttributeId && v.ValueId == pair.ValueId)))
        {
            Values.Add(new VariantValue { AttributeId = attributeId, ValueId = valueId });
        }
    }

    public static string SignatureOf(IEnumerable<(long AttributeId, long ValueId)> values) =>
        string.Join(",", values.OrderBy(v => v.AttributeId).Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.AttributeId}:{v.ValueId}")));
}

/// <summary>A variant's value for one attribute ("size" = "m").</summary>
public sealed class VariantValue
{
    public long VariantId { get; set; }

    public long AttributeId { get; set; }

    public ProductAttribute? Attribute { get; set; }

    public long ValueId { get; set; }

    public AttributeValue? Value { get; set; }
}

/// <summary>One change of a variant's stock: who, when, by how much, why, and the level it left.</summary>
public sealed class StockMovement
{
    public long Id { get; set; }

    public long VariantId { get; set; }

    public int Delta { get; set; }

    /// <summary>The level right after this change.</summary>
    public int OnHand { get; set; }

    public required string Reason { get; set; }

    public long? UserId { get; set; }

    /// <summary>The order that sold or returned the units, if any.</summary>
    public long? OrderId { get; set; }

    public DateTime CreatedAt { get; set; }
}

internal sealed class VariantConfiguration : IEntityTypeConfiguration<Variant>
{
    public void Configure(EntityTypeBuilder<Variant> builder)
    {
        builder.ToTable("variants", table =>
        {
            table.HasCheckConstraint("ck_variants_on_hand_not_negative", "on_hand >= 0");
            table.HasCheckConstraint("ck_variants_price_not_negative", "price >= 0");
        });
        builder.Property(v => v.Sku).HasMaxLength(CatalogLimits.SkuLength);
        builder.Property(v => v.SkuKey).HasMaxLength(CatalogLimits.SkuLength);
        builder.HasIndex(v => v.SkuKey).IsUnique();
        builder.Property(v => v.Price).HasPrecision(18, 4);
        builder.Property(v => v.Signature).HasMaxLength(VariantLimits.SignatureLength);
        builder.HasIndex(v => new { v.ProductId, v.Signature }).IsUnique().HasFilter("deleted_at IS NULL");
        builder.HasIndex(v => v.ProductId);
        builder.Property(v => v.Version).IsConcurrencyToken();
        builder.HasOne(v => v.Product).WithMany(p => p.Variants).HasForeignKey(v => v.ProductId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Values).WithOne().HasForeignKey(v => v.VariantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class VariantValueConfiguration : IEntityTypeConfiguration<VariantValue>
{
    public void Configure(EntityTypeBuilder<VariantValue> builder)
    {
        builder.ToTable("variant_values");
        builder.HasKey(v => new { v.VariantId, v.AttributeId });
        builder.HasOne(v => v.Attribute).WithMany().HasForeignKey(v => v.AttributeId).OnDelete(DeleteBehavior.Cascade);
        // A value removed from its attribute leaves the deleted variants that used it (live ones keep it: the attribute's
        // PUT refuses to remove a value in use).
        builder.HasOne(v => v.Value).WithMany().HasForeignKey(v => v.ValueId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class StockMovementConfiguration : IEntityTypeConfiguration<StockMovement>
{
    public void Configure(EntityTypeBuilder<StockMovement> builder)
    {
        builder.ToTable("stock_movements");
        builder.Property(m => m.Reason).HasMaxLength(VariantLimits.ReasonLength);
        builder.HasOne<Variant>().WithMany().HasForeignKey(m => m.VariantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => new { m.VariantId, m.Id });
        builder.HasOne<User>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(m => m.OrderId);
    }
}

public static class VariantLimits
{
    /// <summary>Most attributes one variant may combine.</summary>
    public const int MaxAttributes = 10;

    /// <summary>Most live variants one product may have, its default variant included (the API's and the import's limit).</summary>
    public const int MaxVariantsPerProduct = 1_000;

    public const int SignatureLength = 500;

    public const int ReasonLength = 200;

    /// <summary>The most units one variant may hold (and one change may move): far beyond any shelf, well inside an int.</summary>
    public const int MaxOnHand = 1_000_000_000;
}
