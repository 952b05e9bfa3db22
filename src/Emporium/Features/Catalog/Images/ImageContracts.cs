using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Images;

/// <summary>A product image as clients see it.</summary>
public sealed record ImageResponse(
    long Id,
    long ProductId,
    [property: Description("The variant this image shows, or null for the product as a whole.")] long? VariantId,
    [property: Description("Order among the product's images, from 0.")] int Position,
    string? AltText,
    [property: Description("pending and processing until the renditions exist; ready; or failed with failure_reason.")] ImageStatus Status,
    [property: Description("Why processing failed (status failed); null otherwise.")] string? FailureReason,
    [property: Description("The URL the image was downloaded from; null for an upload.")] string? SourceUrl,
    [property: Description("The stored original; null until it is stored (a URL image before its download).")] ImageOriginal? Original,
    [property: Description("What processing made, largest first, each as WebP and as JPEG; empty until ready.")] IReadOnlyList<ImageRendition> Renditions,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>The stored original of an image: kept as received, so not served to the public.</summary>
public sealed record ImageOriginal(
    [property: Description("Where the product's owner and staff fetch it (GET /api/images/{id}/original, signed in). It is kept as received, "
        + "metadata included (a phone photo's GPS position, camera serial, time taken), so /media does not serve it: shoppers get the renditions.")] string Url,
    [property: Description("Decided from the file's bytes.")] string ContentType,
    long Bytes,
    [property: Description("Pixels, known once processed; upright, as shown (a photo's EXIF orientation applied), as its renditions are.")] int? Width,
    int? Height);

/// <summary>One rendition of an image.</summary>
public sealed record ImageRendition(
    [property: Description("thumb, small, medium, large by default (Media:Renditions).")] string Name,
    [property: Description("webp or jpeg.")] string Format,
    string Url,
    int Width,
    int Height,
    long Bytes);

/// <summary>Body of PATCH /api/images/{id} (JSON merge patch): only the fields present change.</summary>
public sealed record ImageUpdateRequest
{
    [Description("Text for readers who cannot see the image, at most 500 characters; null clears it.")]
    public string? AltText { get; init; }

    [Description("A variant of the image's product that the image shows; null shows the product as a whole.")]
    public long? VariantId { get; init; }
}

/// <summary>Body of PUT /api/products/{ref}/images/order.</summary>
public sealed record ImageOrderRequest
{
    [Required]
    [Description("Every image id of the product, each once, in the new order.")]
    public IReadOnlyList<long>? ImageIds { get; init; }
}

/// <summary>Answer of an upload: the images created, pending until their jobs process them.</summary>
public sealed record ImagesAccepted(IReadOnlyList<ImageResponse> Images);

/// <summary>Data of the images.ready event.</summary>
public sealed record ImagesReady(long ProductId, IReadOnlyList<ImageResponse> Images);

/// <summary>A product's first ready thumbnail, as list items carry it with include=thumbnail.</summary>
public sealed record ThumbnailRef(string Url, int Width, int Height);
