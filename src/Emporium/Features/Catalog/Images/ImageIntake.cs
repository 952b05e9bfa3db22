using Emporium.Features.Jobs;

namespace Emporium.Features.Catalog.Images;

/// <summary>The product has no room for the images (Media:MaxImagesPerProduct); nothing was added.</summary>
public sealed class ImageRoomException(string message) : Exception(message);

/// <summary>
/// Adds images to a product: their rows and one image.process job each, in the caller's unit of work (and transaction), so
/// a write that rolls back leaves neither. Used by the upload endpoint and by products' image_urls.
/// </summary>
public sealed class ImageIntake(EmporiumDbContext db, IJobQueue queue, TimeProvider clock, IOptions<MediaOptions> options, MediaAddressGuard guard)
{
    /// <summary>An image to add: an upload whose original is stored already, or a URL to download.</summary>
    public sealed record NewImage(string StoragePrefix, string? OriginalKey, ImageFormat? Format, long? Bytes, string? SourceUrl);

    /// <summary>Why <paramref name="adding"/> more images do not fit the product (Media:MaxImagesPerProduct), or null.</summary>
    public async Task<string?> RoomProblemAsync(long productId, int adding, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxImagesPerProduct;
        var existing = productId == 0 ? 0 : await db.Set<ProductImage>().CountAsync(i => i.ProductId == productId, cancellationToken);
        return existing + adding > max
            ? $"A product has at most {max} images (Media:MaxImagesPerProduct); this one has {existing}, and {adding} more do not fit."
            : null;
    }

    /// <summary>
    /// Checks image_urls before anything is written (and before a transaction opens: names are resolved here): at most
    /// Media:MaxImagesPerProduct of them, each an http(s) URL whose host the SSRF guard allows, and room for them.
    /// </summary>
    public async Task CheckUrlsAsync(long productId, IReadOnlyList<string>? urls, ValidationErrors errors, CancellationToken cancellationToken)
    {
        if (urls is null || urls.Count == 0)
        {
            return;
        }

        var max = options.Value.MaxImagesPerProduct;
        if (urls.Count > max)
        {
            errors.Add("image_urls", $"At most {max} image URLs (Media:MaxImagesPerProduct).");
            return;
        }

        // Resolved side by side, each within a few seconds: a slow name server costs one timeout, not one per URL.
        var problems = await Task.WhenAll(urls.Distinct(StringComparer.Ordinal).Select(url => ImageDownloader.ProblemWithAsync(url, guard, cancellationToken)));
        foreach (var problem in problems.OfType<string>())
        {
            errors.Add("image_urls", problem);
        }

        var adding = (await NewUrlsAsync(productId, urls, cancellationToken)).Count;
        if (await RoomProblemAsync(productId, adding, cancellationToken) is { } full)
        {
            errors.Add("image_urls", full);
        }
    }

    /// <summary>Adds an image for each URL the product has no image from yet; none is ever removed here.</summary>
    public async Task<List<ProductImage>> AddUrlsAsync(long productId, IReadOnlyList<string>? urls, long? requestedBy, CancellationToken cancellationToken)
    {
        if (urls is null || urls.Count == 0)
        {
            return [];
        }

        var fresh = await NewUrlsAsync(productId, urls, cancellationToken);
        return await AddAsync(productId, [.. fresh.Select(url => new NewImage(ProductImage.NewPrefix(productId), null, null, null, url))], requestedBy, cancellationToken);
    }

    /// <summary>Writes the rows (after the product's last position) and their jobs, saving twice: a job names its image's id.</summary>
    public async Task<List<ProductImage>> AddAsync(long productId, IReadOnlyList<NewImage> images, long? requestedBy, CancellationToken cancellationToken)
    {
        if (images.Count == 0)
        {
            return [];
        }

        // Inside the caller's transaction: two uploads at once take their places (and the last free ones) in turn.
        await ImageEvents.LockImagesOfAsync(db, productId, cancellationToken);
        if (await RoomProblemAsync(productId, images.Count, cancellationToken) is { } full)
        {
            throw new ImageRoomException(full);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var next = (await db.Set<ProductImage>().Where(i => i.ProductId == productId).MaxAsync(i => (int?)i.Position, cancellationToken) ?? -1) + 1;
        var rows = images.Select((image, index) => new ProductImage
        {
            ProductId = productId,
            Position = next + index,
            StoragePrefix = image.StoragePrefix,
            OriginalKey = image.OriginalKey,
            OriginalContentType = image.Format?.ContentType,
            OriginalBytes = image.Bytes,
            SourceUrl = image.SourceUrl,
            Status = ImageStatus.PENDING,
            CreatedAt = now,
            UpdatedAt = now,
        }).ToList();
        db.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var row in rows)
        {
            queue.Enqueue(ImageProcessingJobHandler.KindName, new ImageProcessingJobHandler.Payload(row.Id, row.StoragePrefix), requestedBy: requestedBy);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var row in rows)
        {
            db.Entry(row).State = EntityState.Detached;
        }

        return rows;
    }

    private async Task<List<string>> NewUrlsAsync(long productId, IReadOnlyList<string> urls, CancellationToken cancellationToken)
    {
        var distinct = urls.Distinct(StringComparer.Ordinal).ToList();
        if (productId == 0)
        {
            return distinct;
        }

        var known = await db.Set<ProductImage>()
            .Where(i => i.ProductId == productId && i.SourceUrl != null && distinct.Contains(i.SourceUrl))
            .Select(i => i.SourceUrl!)
            .ToListAsync(cancellationToken);
        return [.. distinct.Except(known, StringComparer.Ordinal)];
    }
}
