using Emporium.Features.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Catalog;

internal sealed class ProductConfiguration : IEntityTypeConfiguration<Product>
{
    /// <summary>The same text in SQLite and PostgreSQL, and what the queries say (p.deleted_at IS NULL), so both planners use the index.</summary>
    private const string LiveOnly = "deleted_at IS NULL";

    public void Configure(EntityTypeBuilder<Product> builder)
    {
        // Amounts are never negative: the database says so too (decision 0012).
        builder.ToTable("products", table => table.HasCheckConstraint("ck_products_price_not_negative", "price >= 0"));
        builder.Property(p => p.Sku).HasMaxLength(CatalogLimits.SkuLength);
        builder.Property(p => p.SkuKey).HasMaxLength(CatalogLimits.SkuLength);
        builder.HasIndex(p => p.SkuKey).IsUnique();
        builder.Property(p => p.Slug).HasMaxLength(CatalogLimits.SlugLength);
        builder.HasIndex(p => p.Slug).IsUnique();
        builder.Property(p => p.Name).HasMaxLength(CatalogLimits.NameLength);
        builder.Property(p => p.Description).HasMaxLength(CatalogLimits.DescriptionLength);
        builder.Property(p => p.Price).HasPrecision(18, 4);
        builder.Property(p => p.Currency).HasMaxLength(3).IsFixedLength(false);
        builder.Property(p => p.Version).IsConcurrencyToken();
        builder.HasOne(p => p.Brand).WithMany().HasForeignKey(p => p.BrandId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne<User>().WithMany().HasForeignKey(p => p.OwnerId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(p => p.OwnerId);
        builder.HasIndex(p => p.BrandId);
        // The sort indexes hold live products only (decision 0008): every list they serve excludes deleted products
        // (include_deleted=true sorts without them), and a soft delete then removes entries instead of adding them.
        builder.HasIndex(p => new { p.CreatedAt, p.Id }).HasFilter(LiveOnly);
        builder.HasIndex(p => new { p.UpdatedAt, p.Id }).HasFilter(LiveOnly);
        builder.HasIndex(p => new { p.Price, p.Id }).HasFilter(LiveOnly);
        builder.HasIndex(p => new { p.Name, p.Id }).HasFilter(LiveOnly);
        builder.HasMany(p => p.Categories).WithMany(c => c.Products).UsingEntity(
            "product_categories",
            right => right.HasOne(typeof(Category)).WithMany().HasForeignKey("category_id").OnDelete(DeleteBehavior.Cascade),
            left => left.HasOne(typeof(Product)).WithMany().HasForeignKey("product_id").OnDelete(DeleteBehavior.Cascade),
            join =>
            {
                join.HasKey("product_id", "category_id");
                join.HasIndex("category_id");
            });
    }
}

internal sealed class BrandConfiguration : IEntityTypeConfiguration<Brand>
{
    public void Configure(EntityTypeBuilder<Brand> builder)
    {
        builder.ToTable("brands");
        builder.Property(b => b.Name).HasMaxLength(CatalogLimits.NameLength);
        builder.Property(b => b.Slug).HasMaxLength(CatalogLimits.SlugLength);
        builder.HasIndex(b => b.Slug).IsUnique();
        builder.Property(b => b.Version).IsConcurrencyToken();
    }
}

internal sealed class CategoryConfiguration : IEntityTypeConfiguration<Category>
{
    public void Configure(EntityTypeBuilder<Category> builder)
    {
        builder.ToTable("categories");
        builder.Property(c => c.Name).HasMaxLength(CatalogLimits.NameLength);
        builder.Property(c => c.Slug).HasMaxLength(CatalogLimits.SlugLength);
        builder.Property(c => c.Description).HasMaxLength(CatalogLimits.DescriptionLength);
        builder.HasIndex(c => c.Slug).IsUnique();
        builder.HasIndex(c => c.ParentId);
        builder.HasOne(c => c.Parent).WithMany().HasForeignKey(c => c.ParentId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(c => c.Version).IsConcurrencyToken();
    }
}

public static class CatalogLimits
{
    public const int SkuLength = 64;
    public const int SlugLength = 160;
    public const int NameLength = 255;
    public const int DescriptionLength = 10_000;
}
