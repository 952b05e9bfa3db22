using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Catalog.Images;

/// <summary>Where an image is in its processing (decision 0017). Stored upper case; lower case on the wire.</summary>
public enum ImageStatus
{
    PENDING,
    PROCESSING,
    READY,
    FAILED,
}

/// <summary>
/// One image of a product: an upload or a URL, its stored original and, once processed, its renditions. Its files live
/// under <see cref="StoragePrefix"/> in the file store, under names the service generates.
/// </summary>
public sealed class ProductImage
{
    public long Id { get; set; }

    public long ProductId { get; set; }

    /// <summary>The variant this image shows (a colour, say); null for the product as a whole.</summary>
    public long? VariantId { get; set; }

    /// <summary>Order among the product's images, from 0.</summary>
    public int Position { get; set; }

    public string? AltText { get; set; }

    public ImageStatus Status { get; set; } = ImageStatus.PENDING;

    public string? FailureReason { get; set; }

    /// <summary>The URL the image is downloaded from; null for an upload.</summary>
    public string? SourceUrl { get; set; }

    /// <summary>images/{product}/{random}: every file of this image is below it.</summary>
    public required string StoragePrefix { get; set; }

    /// <summary>Set once the original is stored (at upload, or by the job after a download).</summary>
    public string? OriginalKey { get; set; }

    public string? OriginalContentType { get; set; }

    public long? OriginalBytes { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    /// <summary>JSON array of <see cref="StoredRendition"/>; null until processed.</summary>
    public string? Renditions { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? ProcessedAt { get; set; }

    /// <summary>Raised by every change; the product's ETag covers it.</summary>
    public int Version { get; set; } = 1;

    public static string NewPrefix(long productId) => $"{ImageFiles.Root}{productId}/{Guid.NewGuid():N}";
}

/// <summary>One stored rendition as the row keeps it.</summary>
public sealed record StoredRendition(string Name, string Format, int Width, int Height, long Bytes, string Key);

public static class ImageLimits
{
    public const int AltTextLength = 500;
    public const int UrlLength = 2048;
    public const int ReasonLength = 1000;
}

internal sealed class ProductImageConfiguration : IEntityTypeConfiguration<ProductImage>
{
    public void Configure(EntityTypeBuilder<ProductImage> builder)
    {
        builder.ToTable("product_images");
        builder.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.AltText).HasMaxLength(ImageLimits.AltTextLength);
        builder.Property(i => i.FailureReason).HasMaxLength(ImageLimits.ReasonLength);
        builder.Property(i => i.SourceUrl).HasMaxLength(ImageLimits.UrlLength);
        builder.Property(i => i.StoragePrefix).HasMaxLength(200);
        builder.Property(i => i.OriginalKey).HasMaxLength(300);
        builder.Property(i => i.OriginalContentType).HasMaxLength(100);
        builder.Property(i => i.Version).IsConcurrencyToken();
        builder.HasOne<Product>().WithMany().HasForeignKey(i => i.ProductId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Variants.Variant>().WithMany().HasForeignKey(i => i.VariantId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(i => new { i.ProductId, i.Position });
        builder.HasIndex(i => i.VariantId);
    }
}
