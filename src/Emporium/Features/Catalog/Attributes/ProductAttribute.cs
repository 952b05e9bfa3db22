using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Catalog.Attributes;

/// <summary>
/// What variants of a product differ by ("Size", "Color"), with the values it allows in the order shown (decision 0016).
/// Named ProductAttribute because System.Attribute owns the shorter name.
/// </summary>
public sealed class ProductAttribute : ITaxonomyRow
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Slug { get; set; }

    public List<AttributeValue> Values { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public int Version { get; set; } = 1;
}

/// <summary>One value an attribute allows, named by its slug inside the attribute ("m" of "size").</summary>
public sealed class AttributeValue
{
    public long Id { get; set; }

    public long AttributeId { get; set; }

    public required string Slug { get; set; }

    public required string Name { get; set; }

    /// <summary>0, 1, ...: the order the values were given in, which is the order they are shown in.</summary>
    public int Position { get; set; }
}

internal sealed class ProductAttributeConfiguration : IEntityTypeConfiguration<ProductAttribute>
{
    public void Configure(EntityTypeBuilder<ProductAttribute> builder)
    {
        builder.ToTable("attributes");
        builder.Property(a => a.Name).HasMaxLength(CatalogLimits.NameLength);
        builder.Property(a => a.Slug).HasMaxLength(CatalogLimits.SlugLength);
        builder.HasIndex(a => a.Slug).IsUnique();
        builder.Property(a => a.Version).IsConcurrencyToken();
        builder.HasMany(a => a.Values).WithOne().HasForeignKey(v => v.AttributeId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AttributeValueConfiguration : IEntityTypeConfiguration<AttributeValue>
{
    public void Configure(EntityTypeBuilder<AttributeValue> builder)
    {
        builder.ToTable("attribute_values");
        builder.Property(v => v.Name).HasMaxLength(CatalogLimits.NameLength);
        builder.Property(v => v.Slug).HasMaxLength(CatalogLimits.SlugLength);
        builder.HasIndex(v => new { v.AttributeId, v.Slug }).IsUnique();
    }
}
