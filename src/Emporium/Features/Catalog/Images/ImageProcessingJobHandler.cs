using Emporium.Features.Catalog.Caching;
using Emporium.Features.Events;
using Emporium.Features.Jobs;
using Emporium.Platform.Storage;

namespace Emporium.Features.Catalog.Images;

/// <summary>
/// image.process (decision 0017): downloads a URL image's original when it has none yet, renders the renditions, stores
/// them under the image's generated names and marks the image ready, announcing images.ready when none of its product's
/// images is left to process. Running again after a crash or a redelivery writes the same files and the same row. A
/// failure that retrying cannot fix fails the job at once; the job's last failure (FAILED or DEAD) marks the image failed
/// with its reason, in the transaction that records it (<see cref="IJobFailureRecorder"/>).
/// </summary>
internal sealed class ImageProcessingJobHandler(
    EmporiumDbContext db,
    IFileStore store,
    ImageRenderer renderer,
    ImageDownloader downloader,
    IEventOutbox events,
    MediaUrls urls,
    TimeProvider clock) : IJobHandler, IJobFailureRecorder
{
    public const string KindName = "image.process";

    /// <summary>The image, and where its files live (so a failure after the image was deleted can still clear them).</summary>
    public sealed record Payload(long ImageId, string? StoragePrefix = null);

    public sealed record Result(string Outcome, int Renditions);

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var payload = context.ReadPayload<Payload>();
        var id = payload.ImageId;
        var image = await db.Set<ProductImage>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null || image.Status == ImageStatus.READY)
        {
            // Deleted since it was queued, or a redelivery of work already done. A deleted image's files were cleared when
            // it was deleted, but an earlier attempt may have stored more after that (a download, renditions) before it
            // failed or was handed back: they go now.
            if (image is null && payload.StoragePrefix is { } prefix)
            {
                await ImageFiles.DeleteAsync(store, prefix, cancellationToken);
            }

            context.SetResult(new Result(image is null ? "deleted" : "already_ready", 0));
            return;
        }

        // Not over READY: a job that finds its image processed by an earlier run leaves it (see FinishAsync).
        db.ProductChanged(image.ProductId);
        await db.Set<ProductImage>().Where(i => i.Id == id && i.Status != ImageStatus.READY).ExecuteUpdateAsync(set => set
            .SetProperty(i => i.Status, ImageStatus.PROCESSING)
            .SetProperty(i => i.UpdatedAt, clock.GetUtcNow().UtcDateTime)
            .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);
        await context.ReportProgressAsync(0, 2, "fetching the original", cancellationToken);
        byte[] original;
        try
        {
            original = await OriginalAsync(image, cancellationToken);
            await context.ReportProgressAsync(1, 2, "rendering", cancellationToken);
            var rendered = renderer.Render(original);
            var stored = new List<StoredRendition>(rendered.Renditions.Count);
            foreach (var rendition in rendered.Renditions)
            {
                var key = $"{image.StoragePrefix}/{rendition.Name}.{rendition.Extension}";
                using var content = new MemoryStream(rendition.Bytes, writable: false);
                var bytes = await store.PutAsync(key, content, rendition.ContentType, cancellationToken);
                stored.Add(new StoredRendition(rendition.Name, rendition.Format, rendition.Width, rendition.Height, bytes, key));
            }

            switch (await FinishAsync(image, rendered, stored, cancellationToken))
            {
                case Finished.Deleted:
                    await ImageFiles.DeleteAsync(store, image.StoragePrefix, CancellationToken.None);
                    context.SetResult(new Result("deleted", 0));
                    return;
                case Finished.Elsewhere:
                    // Another run recorded the image first (a redelivery racing a slow worker): the same files, nothing to add.
                    context.SetResult(new Result("already_ready", stored.Count));
                    return;
            }

            await context.ReportProgressAsync(2, 2, "ready", cancellationToken);
            context.SetResult(new Result("ready", stored.Count));
        }
        catch (ImageRejectedException rejected)
        {
            throw new PermanentJobFailure(rejected.Message, rejected);
        }
    }

    /// <summary>Marks the image failed with the job's last error, in the transaction that records the job's end.</summary>
    public async Task RecordFailureAsync(Job job, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<Payload>(job.Payload, JobJson.Options);
        var id = payload?.ImageId;
        var productId = await db.Set<ProductImage>().Where(i => i.Id == id).Select(i => (long?)i.ProductId).FirstOrDefaultAsync(cancellationToken);
        if (productId is not { } product)
        {
            // Deleted while its job ran: what the job stored before failing (a downloaded original) goes too.
            if (payload?.StoragePrefix is { } prefix)
            {
                await ImageFiles.DeleteAsync(store, prefix, cancellationToken);
            }

            return;
        }

        await ImageEvents.LockImagesOfAsync(db, product, cancellationToken);
        var reason = Reason(job.LastError);
        var now = clock.GetUtcNow().UtcDateTime;
        db.ProductChanged(product);
        var changed = await db.Set<ProductImage>()
            .Where(i => i.Id == id && i.Status != ImageStatus.READY)
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.Status, ImageStatus.FAILED)
                .SetProperty(i => i.FailureReason, reason)
                .SetProperty(i => i.UpdatedAt, now)
                .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);
        if (changed > 0)
        {
            await ImageEvents.AnnounceIfSettledAsync(db, events, urls, product, cancellationToken);
        }
    }

    private async Task<byte[]> OriginalAsync(ProductImage image, CancellationToken cancellationToken)
    {
        if (image.OriginalKey is { } key)
        {
            await using var stream = await store.OpenReadAsync(key, cancellationToken)
                ?? throw new ImageRejectedException("The stored original is missing; upload the image again.");
            if (stream.CanSeek || image.OriginalBytes is not null)
            {
                // One array of the right size (libvips reads from it): no doubling buffer left on the large object heap.
                var bytes = new byte[stream.CanSeek ? stream.Length : image.OriginalBytes!.Value];
                await stream.ReadExactlyAsync(bytes, cancellationToken);
                return bytes;
            }

            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }

        if (!Uri.TryCreate(image.SourceUrl, UriKind.Absolute, out var url))
        {
            throw new ImageRejectedException("The image has neither a stored original nor a URL.");
        }

        var downloaded = await downloader.DownloadAsync(url, cancellationToken);
        var originalKey = ImageFiles.OriginalKey(image.StoragePrefix, downloaded.Format);
        using (var content = new MemoryStream(downloaded.Bytes, writable: false))
        {
            await store.PutAsync(originalKey, content, downloaded.Format.ContentType, cancellationToken);
        }

        var contentType = downloaded.Format.ContentType;
        long length = downloaded.Bytes.Length;
        db.ProductChanged(image.ProductId);
        await SetAsync(image.Id, set => set
            .SetProperty(i => i.OriginalKey, originalKey)
            .SetProperty(i => i.OriginalContentType, contentType)
            .SetProperty(i => i.OriginalBytes, length), cancellationToken);
        return downloaded.Bytes;
    }

    private enum Finished
    {
        Recorded,
        Deleted,
        Elsewhere,
    }

    /// <summary>Records the renditions and, when nothing of the product is left to process, images.ready.</summary>
    private async Task<Finished> FinishAsync(ProductImage image, RenderResult rendered, List<StoredRendition> stored, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var json = ImageReads.RenditionsJson(stored);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await ImageEvents.LockImagesOfAsync(db, image.ProductId, cancellationToken);
        db.ProductChanged(image.ProductId);
        var changed = await db.Set<ProductImage>()
            .Where(i => i.Id == image.Id && i.Status == ImageStatus.PROCESSING)
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.Status, ImageStatus.READY)
                .SetProperty(i => i.FailureReason, (string?)null)
                .SetProperty(i => i.Renditions, json)
                .SetProperty(i => i.Width, rendered.Width)
                .SetProperty(i => i.Height, rendered.Height)
                .SetProperty(i => i.ProcessedAt, now)
                .SetProperty(i => i.UpdatedAt, now)
                .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);
        if (changed == 0)
        {
            return await db.Set<ProductImage>().AnyAsync(i => i.Id == image.Id, cancellationToken) ? Finished.Elsewhere : Finished.Deleted;
        }

        await ImageEvents.AnnounceIfSettledAsync(db, events, urls, image.ProductId, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Finished.Recorded;
    }

    private Task<int> SetAsync(
        long id,
        Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<ProductImage>> change,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return db.Set<ProductImage>().Where(i => i.Id == id).ExecuteUpdateAsync(set =>
        {
            change(set);
            set.SetProperty(i => i.UpdatedAt, now).SetProperty(i => i.Version, i => i.Version + 1);
        }, cancellationToken);
    }

    /// <summary>The job's error as the image shows it: without the exception type the runner puts in front of a retried failure.</summary>
    private static string Reason(string? error)
    {
        var reason = error ?? "Processing failed.";
        var colon = reason.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && reason[..colon].EndsWith("Exception", StringComparison.Ordinal) && !reason[..colon].Contains(' ', StringComparison.Ordinal))
        {
            reason = reason[(colon + 2)..];
        }

        return reason.Length <= ImageLimits.ReasonLength ? reason : reason[..(ImageLimits.ReasonLength - 3)] + "...";
    }
}

/// <summary>images.ready, written exactly when a product's last unsettled image settles (or goes).</summary>
internal static class ImageEvents
{
    /// <summary>
    /// Holds the product (and so its images: every image write takes this first) until the transaction ends, so that of
    /// two images finishing at once the second sees the first as done and announces images.ready (each alone would see
    /// the other still processing), and two uploads cannot both take the last free places. Writes nothing visible.
    /// </summary>
    public static Task<int> LockImagesOfAsync(EmporiumDbContext db, long productId, CancellationToken cancellationToken) =>
        db.Set<Product>().Where(p => p.Id == productId)
            .ExecuteUpdateAsync(set => set.SetProperty(p => p.Version, p => p.Version), cancellationToken);

    /// <summary>Adds images.ready when the product has images and none is pending or processing.</summary>
    public static async Task AnnounceIfSettledAsync(
        EmporiumDbContext db, IEventOutbox events, MediaUrls urls, long productId, CancellationToken cancellationToken)
    {
        var images = await ImageReads.OfProductAsync(db, productId, cancellationToken);
        if (images.Count > 0 && images.All(i => i.Status is ImageStatus.READY or ImageStatus.FAILED))
        {
            events.Add(EventTypes.ImagesReady, new ImagesReady(productId, images.ConvertAll(urls.ToResponse)));
        }
    }
}

/// <summary>Names of an image's files: generated, never taken from an upload.</summary>
internal static class ImageFiles
{
    /// <summary>Where every image's files live: images/{product id}/{image's own folder}/{file}.</summary>
    public const string Root = "images/";

    /// <summary>The product and folder (the row's storage prefix) a file belongs to.</summary>
    public sealed record Owner(long ProductId, string Prefix);

    /// <summary>The owner a key names, or null for a key not laid out as the service writes them.</summary>
    public static Owner? OwnerOf(string key)
    {
        var segments = key.Split('/');
        return segments.Length >= 4 && segments[0] == "images"
            && long.TryParse(segments[1], NumberStyles.None, CultureInfo.InvariantCulture, out var productId)
            ? new Owner(productId, $"images/{segments[1]}/{segments[2]}")
            : null;
    }

    public static string OriginalKey(string prefix, ImageFormat format) => $"{prefix}/original.{Extension(format)}";

    /// <summary>An original's key: served through its image's API route to its owner and staff only, never under /media.</summary>
    public static bool IsOriginal(string key) => key[(key.LastIndexOf('/') + 1)..].StartsWith("original.", StringComparison.OrdinalIgnoreCase);

    public static string Extension(ImageFormat format) => format.Name switch
    {
        "jpeg" => "jpg",
        "tiff" => "tif",
        var name => name,
    };

    public static string? ContentTypeOf(string key) => Path.GetExtension(key) switch
    {
        ".jpg" => "image/jpeg",
        ".png" => "image/png",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".tif" => "image/tiff",
        ".avif" => "image/avif",
        ".heic" => "image/heic",
        _ => null,
    };

    /// <summary>Removes every file of an image (its original and renditions).</summary>
    public static async Task DeleteAsync(IFileStore store, string prefix, CancellationToken cancellationToken)
    {
        await foreach (var file in store.ListAsync(prefix + "/", cancellationToken))
        {
            await store.DeleteAsync(file.Key, cancellationToken);
        }
    }
}
