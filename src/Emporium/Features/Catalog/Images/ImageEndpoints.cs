using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Catalog.Variants;
using Emporium.Platform.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Emporium.Features.Catalog.Images;

/// <summary>
/// A product's images (decision 0017): uploaded or downloaded originals, processed into renditions in the background. Written
/// by those who may change the product; read by those who may see it; the files are served under /media.
/// </summary>
public static partial class ImageEndpoints
{
    private const string What = "Image";
    private const string FileField = "file";
    private const string Multipart = "multipart/form-data";

    // Boundaries and part headers around each file in a multipart body.
    private const long PartOverhead = 16 * 1024;

    public static IEndpointRouteBuilder MapImages(this IEndpointRouteBuilder app)
    {
        var ofProduct = app.MapGroup("/api/products/{ref}/images").WithTags("Images");

        ofProduct.MapGet("", ListImages)
            .Documented("List a product's images", "In order, with status and renditions. Visible to whoever may see the product (404 otherwise).", 404);

        ofProduct.MapPost("", UploadImages)
            .RequireAuthorization(Policies.ManageProducts)
            .AcceptsFileUpload(FileField, $"One or more image files ({ImageFormats.Accepted}); repeat the field for each.", repeated: true)
            .Documented("Upload images to a product", "multipart/form-data with one or more `file` fields. Each file's type is decided from its " +
                $"bytes ({ImageFormats.Accepted}), never from its name or Content-Type: anything else is 415. A file larger than Media:MaxUploadBytes " +
                "is 413; more files than Media:MaxFilesPerUpload, or more images than Media:MaxImagesPerProduct, is 400. On any refusal nothing of " +
                "the request is kept. Answers 202 with the images, pending: a background job per image makes the renditions (GET the product or " +
                "its images for status; images.ready is announced when none is left). 409 while the product is deleted (restore it first). " +
                "Staff and admins (any product) or the owning seller.", 404, 409, 413);

        ofProduct.MapPut("/order", ReorderImages)
            .RequireAuthorization(Policies.ManageProducts)
            .Documented("Reorder a product's images", "image_ids lists every image of the product exactly once, in the new order; answers with " +
                "the images in that order. Staff and admins (any product) or the owning seller (others get 404). 409 when an image changed meanwhile " +
                "(its processing finished, or another edit): read the images again and resend; 409 too while the product is deleted.", 404, 409);

        var images = app.MapGroup("/api/images").WithTags("Images");

        images.MapGet("/{id:long}", GetImage)
            .Produces(StatusCodes.Status304NotModified)
            .Documented("Get an image", "Answers with an ETag; If-None-Match with the current ETag gives 304. Visible to whoever may see its product.", 404);

        var writes = images.MapGroup("").RequireAuthorization(Policies.ManageProducts);

        writes.MapGet("/{id:long}/original", GetOriginal)
            .Produces<Stream>(StatusCodes.Status200OK, "image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/avif")
            .Produces(StatusCodes.Status302Found)
            .Documented("Download an image's original", "The file as it was received, with the content type its bytes showed (or, with S3, a "
                + "redirect to a short-lived presigned URL). It keeps its metadata (a photo's GPS position, camera serial, time taken), so only "
                + "staff, admins and the owning seller may fetch it (customers get 403, other sellers 404); it is never served under /media. "
                + "404 too before a URL image's download.", 404);

        writes.MapPatch("/{id:long}", PatchImage)
            .AcceptsMergePatch<ImageUpdateRequest>()
            .Documented("Change an image's alt text or variant (JSON merge patch)", "alt_text (at most 500 characters; null clears it) and " +
                "variant_id (a live variant of the image's product; null: the product as a whole). Honours If-Match (412 on mismatch). " +
                "409 while the product is deleted (restore it first).", 404, 409, 412);

        writes.MapDelete("/{id:long}", DeleteImage)
            .Documented("Delete an image", "Removes the image and its files (original and renditions). Honours If-Match (412 on mismatch). " +
                "409 while the product is deleted (restore it first).", 404, 409, 412);

        writes.MapPost("/{id:long}/retry", RetryImage)
            .Documented("Process an image again", "A failed image, or one left pending because its job was cancelled (409 otherwise): it " +
                "becomes pending and a new job processes it; a URL image whose download failed is downloaded again.", 404, 409);

        return app;
    }

    /// <summary>The stored files under /media: images only, never other files of the store (imports, reports).</summary>
    public static IEndpointRouteBuilder MapMedia(this IEndpointRouteBuilder app)
    {
        app.MapGet("/media/{**key}", ServeMedia).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    public static async Task<Results<Ok<List<ImageResponse>>, ProblemHttpResult>> ListImages(
        [FromRoute(Name = "ref")] string productRef, HttpContext http, MediaUrls urls, CatalogCache cache, CancellationToken cancellationToken)
    {
        return await cache.VisibleProductAsync(CatalogRef.Parse(productRef), http.User, http.RequestServices, cancellationToken) is { } product
            ? TypedResults.Ok(product.Images.ConvertAll(urls.ToResponse))
            : Problems.NotFound("Product");
    }

    public static async Task<Results<Accepted<ImagesAccepted>, ProblemHttpResult, ValidationProblem>> UploadImages(
        [FromRoute(Name = "ref")] string productRef,
        [AsParameters] RequestScope scope,
        IFileStore store,
        ImageIntake intake,
        MediaUrls urls,
        IOptions<MediaOptions> options)
    {
        var (db, _, http, cancellationToken) = scope;
        var settings = options.Value;
        var request = http.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media) || !media.MediaType.Equals(Multipart, StringComparison.OrdinalIgnoreCase))
        {
            return Unsupported($"Send the images as {Multipart} with one '{FileField}' field per file, not '{request.ContentType}'.");
        }

        var product = await db.Set<Product>().AsNoTracking().WhereRef(CatalogRef.Parse(productRef)).ChangeableBy(http.User)
            .Select(p => new { p.Id, p.DeletedAt }).FirstOrDefaultAsync(cancellationToken);
        if (product is null)
        {
            return Problems.NotFound("Product");
        }

        if (product.DeletedAt is not null)
        {
            return DeletedProduct();
        }

        var id = product.Id;

        var bodyLimit = settings.MaxFilesPerUpload * (settings.MaxUploadBytes + PartOverhead);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
        {
            return Problems.Validation(FileField, "The multipart body has no boundary.");
        }

        if (boundary.Length > 70)
        {
            // RFC 2046's limit; the reader refuses longer ones with an exception.
            return Problems.Validation(FileField, "The multipart boundary is longer than 70 characters (RFC 2046).");
        }

        var stored = new List<ImageIntake.NewImage>();
        var kept = false;
        try
        {
            var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
            try
            {
                while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                        || !disposition.Name.Equals(FileField, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    if (stored.Count == settings.MaxFilesPerUpload)
                    {
                        return Problems.Validation(FileField, $"At most {settings.MaxFilesPerUpload} files per upload (Media:MaxFilesPerUpload).");
                    }

                    var head = new byte[ImageFormats.SniffLength];
                    var headLength = await section.Body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
                    var format = ImageFormats.Detect(head.AsSpan(0, headLength));
                    if (format is null)
                    {
                        return Unsupported($"File {stored.Count + 1} is not a {ImageFormats.Accepted} image (judged by its content, not its name).");
                    }

                    var prefix = ProductImage.NewPrefix(id);
                    var key = ImageFiles.OriginalKey(prefix, format);
                    var content = new LengthLimitedStream(section.Body, settings.MaxUploadBytes, head.AsMemory(0, headLength));
                    var bytes = await FileStoreException.Guard(content, body => store.PutAsync(key, body, format.ContentType, cancellationToken));
                    stored.Add(new ImageIntake.NewImage(prefix, key, format, bytes, null));
                }
            }
            catch (ContentTooLargeException)
            {
                return TooLarge(settings.MaxUploadBytes);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(settings.MaxUploadBytes);
            }
            catch (InvalidDataException exception)
            {
                return Problems.Validation(FileField, $"The multipart body is malformed: {exception.Message}");
            }
            catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
            {
                return Problems.Validation(FileField, "The multipart body ends before its closing boundary: the upload was cut short; send it again.");
            }

            if (stored.Count == 0)
            {
                return Problems.Validation(FileField, $"The multipart body has no field named '{FileField}'.");
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            List<ProductImage> rows;
            try
            {
                rows = await intake.AddAsync(id, stored, http.User.UserId(), cancellationToken);
            }
            catch (ImageRoomException full)
            {
                return Problems.Validation(FileField, full.Message);
            }

            // Checked again now that the product is held (AddAsync took its lock): a delete that committed while the files
            // streamed in, which can take minutes, left images on a deleted product. Rolled back; the files go below.
            if (await db.Set<Product>().AnyAsync(p => p.Id == id && p.DeletedAt != null, cancellationToken))
            {
                return DeletedProduct();
            }

            await transaction.CommitAsync(cancellationToken);
            kept = true;
            return TypedResults.Accepted($"/api/products/{id}/images", new ImagesAccepted(rows.ConvertAll(urls.ToResponse)));
        }
        finally
        {
            if (!kept)
            {
                foreach (var image in stored)
                {
                    await ImageFiles.DeleteAsync(store, image.StoragePrefix, CancellationToken.None);
                }
            }
        }
    }

    public static async Task<Results<Ok<List<ImageResponse>>, ValidationProblem, ProblemHttpResult>> ReorderImages(
        [FromRoute(Name = "ref")] string productRef, ImageOrderRequest request, [AsParameters] RequestScope scope, MediaUrls urls)
    {
        var (db, _, http, cancellationToken) = scope;
        var product = await db.Set<Product>().AsNoTracking().WhereRef(CatalogRef.Parse(productRef)).ChangeableBy(http.User)
            .Select(p => new { p.Id, p.DeletedAt }).FirstOrDefaultAsync(cancellationToken);
        if (product is null)
        {
            return Problems.NotFound("Product");
        }

        if (product.DeletedAt is not null)
        {
            return DeletedProduct();
        }

        var id = product.Id;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // As every image write: a delete shifting the positions after its image must not interleave with a new order.
        await ImageEvents.LockImagesOfAsync(db, id, cancellationToken);
        if (await ProductDeletedAsync(db, id, cancellationToken))
        {
            return DeletedProduct();
        }

        var images = await db.Set<ProductImage>().Where(i => i.ProductId == id).ToListAsync(cancellationToken);
        var order = request.ImageIds ?? [];
        if (order.Count != images.Count || order.Distinct().Count() != order.Count || !order.All(imageId => images.Any(i => i.Id == imageId)))
        {
            return Problems.Validation("image_ids", $"List every image of the product exactly once ({images.Count} images: " +
                $"{string.Join(", ", images.OrderBy(i => i.Position).Select(i => i.Id))}).");
        }

        var now = scope.UtcNow;
        for (var position = 0; position < order.Count; position++)
        {
            var image = images.First(i => i.Id == order[position]);
            if (image.Position != position)
            {
                image.Position = position;
                image.UpdatedAt = now;
                image.Version++;
            }
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("An image of the product changed meanwhile; read the images and send the order again.");
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok((await ImageReads.OfProductAsync(db, id, cancellationToken)).ConvertAll(urls.ToResponse));
    }

    public static async Task<Results<Ok<ImageResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetImage(
        long id, [AsParameters] RequestScope scope, MediaUrls urls)
    {
        var (db, _, http, cancellationToken) = scope;
        var visible = db.Set<Product>().VisibleTo(http.User, includeDeleted: true);
        var image = await db.Set<ProductImage>().AsNoTracking()
            .Where(i => i.Id == id && visible.Any(p => p.Id == i.ProductId)).FirstOrDefaultAsync(cancellationToken);
        if (image is null)
        {
            return Problems.NotFound(What);
        }

        var etag = ETags.For(image.Id, image.Version);
        ETags.Set(http.Response, etag);
        return ETags.IfNoneMatchSatisfied(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(urls.ToResponse(image));
    }

    public static async Task<Results<Ok<ImageResponse>, ValidationProblem, ProblemHttpResult>> PatchImage(
        long id, JsonElement patch, [AsParameters] RequestScope scope, MediaUrls urls)
    {
        var (db, _, http, cancellationToken) = scope;
        var changeable = db.Set<Product>().ChangeableBy(http.User);
        var productId = await db.Set<ProductImage>().Where(i => i.Id == id && changeable.Any(p => p.Id == i.ProductId))
            .Select(i => (long?)i.ProductId).FirstOrDefaultAsync(cancellationToken);
        if (productId is null)
        {
            return Problems.NotFound(What);
        }

        // Read under the product's lock, which a variant's delete takes too: the image as it is after a delete that
        // committed meanwhile (unlinked), and the variant checked live below stays live until the link is written.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await ImageEvents.LockImagesOfAsync(db, productId.Value, cancellationToken);
        var target = await ChangeableAsync(scope, id);
        if (!target.Found)
        {
            return target.Problem;
        }

        var image = target.Row;
        if (!ETags.IfMatchSatisfied(http.Request, ETags.For(image.Id, image.Version)))
        {
            return Problems.PreconditionFailed();
        }

        var errors = new ValidationErrors();
        var request = MergePatch.Apply(new ImageUpdateRequest { AltText = image.AltText, VariantId = image.VariantId }, patch, errors);
        var altText = string.IsNullOrWhiteSpace(request.AltText) ? null : request.AltText.Trim();
        errors.When(altText?.Length > ImageLimits.AltTextLength, "alt_text", $"At most {ImageLimits.AltTextLength} characters.");
        if (request.VariantId is { } variantId && variantId != image.VariantId
            && !await db.Set<Variant>().AnyAsync(v => v.Id == variantId && v.ProductId == image.ProductId && v.DeletedAt == null, cancellationToken))
        {
            errors.Add("variant_id", $"The image's product has no live variant {variantId}.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        // Guarded by the version only when the caller sent If-Match: processing raises it too, and a caller who did not
        // ask for a precondition must not get 412 for the job's progress.
        var guarded = ETags.IfMatchNamesAVersion(http.Request);
        var version = image.Version;
        var variant = request.VariantId;
        db.ProductChanged(image.ProductId);
        var changed = await db.Set<ProductImage>()
            .Where(i => i.Id == id && (!guarded || i.Version == version))
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.AltText, altText)
                .SetProperty(i => i.VariantId, variant)
                .SetProperty(i => i.UpdatedAt, scope.UtcNow)
                .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);
        var saved = changed == 0 ? null : await db.Set<ProductImage>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (saved is null)
        {
            return changed == 0 && guarded ? Problems.PreconditionFailed() : Problems.NotFound(What);
        }

        await transaction.CommitAsync(cancellationToken);
        ETags.Set(http.Response, ETags.For(saved.Id, saved.Version));
        return TypedResults.Ok(urls.ToResponse(saved));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(
        long id, [AsParameters] RequestScope scope, IFileStore store, Events.IEventOutbox events, MediaUrls urls, ILoggerFactory loggers)
    {
        var (db, _, http, cancellationToken) = scope;
        var target = await ChangeableAsync(scope, id);
        if (!target.Found)
        {
            return target.Problem;
        }

        var image = target.Row;

        var guarded = ETags.IfMatchNamesAVersion(http.Request);
        if (!ETags.IfMatchSatisfied(http.Request, ETags.For(image.Id, image.Version)))
        {
            return Problems.PreconditionFailed();
        }

        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await ImageEvents.LockImagesOfAsync(db, image.ProductId, cancellationToken);
            var version = image.Version;
            var gone = await db.Set<ProductImage>().Where(i => i.Id == id && (!guarded || i.Version == version))
                .Select(i => new { i.Status, i.Position }).FirstOrDefaultAsync(cancellationToken);
            if (gone is null)
            {
                return guarded ? Problems.PreconditionFailed() : Problems.NotFound(What);
            }

            db.ProductChanged(image.ProductId);
            await db.Set<ProductImage>().Where(i => i.Id == id).ExecuteDeleteAsync(cancellationToken);
            // Positions stay 0 to n-1: the images after it move up (under the product's image lock, as uploads count).
            var productId = image.ProductId;
            await db.Set<ProductImage>().Where(i => i.ProductId == productId && i.Position > gone.Position).ExecuteUpdateAsync(set => set
                .SetProperty(i => i.Position, i => i.Position - 1)
                .SetProperty(i => i.UpdatedAt, scope.UtcNow)
                .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);
            if (gone.Status is ImageStatus.PENDING or ImageStatus.PROCESSING)
            {
                // The product's last unsettled image went: the rest are all it will have, announce them.
                await ImageEvents.AnnounceIfSettledAsync(db, events, urls, image.ProductId, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // After the row: a job still processing it finds the row gone and removes what it wrote itself.
        try
        {
            await ImageFiles.DeleteAsync(store, image.StoragePrefix, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // The image is deleted; what is left of its files is for an operator, not a 500 that makes the client retry a
            // delete that then finds nothing.
            LogFilesLeft(loggers.CreateLogger("Emporium.Images"), exception, id, image.StoragePrefix);
        }

        return TypedResults.NoContent();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Image {ImageId} was deleted but its files under {Prefix} could not all be removed")]
    private static partial void LogFilesLeft(ILogger logger, Exception exception, long imageId, string prefix);

    public static async Task<Results<Accepted<ImageResponse>, ProblemHttpResult>> RetryImage(
        long id, [AsParameters] RequestScope scope, Jobs.IJobQueue queue, MediaUrls urls)
    {
        var (db, _, http, cancellationToken) = scope;
        var target = await ChangeableAsync(scope, id);
        if (!target.Found)
        {
            return target.Problem;
        }

        var image = target.Row;

        // A failed image; or one left pending because its job was cancelled (or lost): no live job is working on it.
        var payload = JsonSerializer.Serialize(new ImageProcessingJobHandler.Payload(image.Id, image.StoragePrefix), Jobs.JobJson.Options);
        var stuck = image.Status is ImageStatus.PENDING or ImageStatus.PROCESSING
            && !await db.Set<Jobs.Job>().AnyAsync(j => j.Kind == ImageProcessingJobHandler.KindName && j.Payload == payload
                && (j.Status == Jobs.JobStatus.PENDING || j.Status == Jobs.JobStatus.PROCESSING), cancellationToken);
        if (image.Status != ImageStatus.FAILED && !stuck)
        {
            return Problems.Conflict($"Only a failed image is processed again; this one is {image.Status.ToString().ToLowerInvariant()}.");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        image.Status = ImageStatus.PENDING;
        image.FailureReason = null;
        image.UpdatedAt = scope.UtcNow;
        image.Version++;
        queue.Enqueue(ImageProcessingJobHandler.KindName, payload, requestedBy: http.User.UserId());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("The image changed meanwhile; read it and try again.");
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/api/images/{image.Id}", urls.ToResponse(image));
    }

    /// <summary>Where an image's original is fetched: the API, since it is not public.</summary>
    public static string OriginalPath(long imageId) => $"/api/images/{imageId}/original";

    public static async Task<IResult> ServeMedia(string key, HttpContext http, IFileStore store, IOptions<MediaOptions> options, CancellationToken cancellationToken)
    {
        if (!key.StartsWith(ImageFiles.Root, StringComparison.Ordinal) || ImageFiles.ContentTypeOf(key) is not { } contentType || !FileKeys.IsValid(key)
            || ImageFiles.IsOriginal(key))
        {
            return TypedResults.NotFound();
        }

        // Stored names are never reused for other content (each image has its own random prefix): safe to cache for good.
        return await ServeFileAsync(key, contentType, "public, max-age=31536000, immutable", http, store, options.Value, cancellationToken)
            ?? TypedResults.NotFound();
    }

    public static async Task<IResult> GetOriginal(long id, [AsParameters] RequestScope scope, IFileStore store, IOptions<MediaOptions> options)
    {
        var changeable = scope.Db.Set<Product>().ChangeableBy(scope.Http.User);
        var image = await scope.Db.Set<ProductImage>().AsNoTracking()
            .Where(i => i.Id == id && changeable.Any(p => p.Id == i.ProductId))
            .Select(i => new { i.OriginalKey, i.OriginalContentType })
            .FirstOrDefaultAsync(scope.Aborted);
        if (image?.OriginalKey is not { } key)
        {
            return Problems.NotFound(image is null ? What : "Original");
        }

        return await ServeFileAsync(
                key, image.OriginalContentType ?? "application/octet-stream", "private, no-store", scope.Http, store, options.Value, scope.Aborted)
            ?? Problems.NotFound("Original");
    }

    /// <summary>A stored file, or with S3 a redirect to a presigned URL (cached for a part of its life only, and privately); null when the file is missing.</summary>
    private static async Task<IResult?> ServeFileAsync(
        string key, string contentType, string cacheControl, HttpContext http, IFileStore store, MediaOptions options, CancellationToken cancellationToken)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        if (store.DirectUrl(key, options.PresignedUrlLifetime) is { } direct)
        {
            headers.CacheControl = cacheControl.StartsWith("private", StringComparison.Ordinal)
                ? cacheControl
                : $"private, max-age={(int)(options.PresignedUrlLifetime.TotalSeconds / 2)}";
            return TypedResults.Redirect(direct.ToString());
        }

        var stream = await store.OpenReadAsync(key, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        headers.CacheControl = cacheControl;
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.Stream(stream, contentType);
    }

    /// <summary>
    /// The image, tracked, when the caller may change its product: 404 otherwise, and 409 while the product is deleted
    /// (restore it first, as for its variants: its images stay as they were until then).
    /// </summary>
    private static async Task<WriteTarget<ProductImage>> ChangeableAsync(RequestScope scope, long id)
    {
        var changeable = scope.Db.Set<Product>().ChangeableBy(scope.Http.User);
        var image = await scope.Db.Set<ProductImage>().Where(i => i.Id == id && changeable.Any(p => p.Id == i.ProductId)).FirstOrDefaultAsync(scope.Aborted);
        return image is null ? new(null, Problems.NotFound(What))
            : await ProductDeletedAsync(scope.Db, image.ProductId, scope.Aborted) ? new(null, DeletedProduct())
            : new(image, null);
    }

    private static Task<bool> ProductDeletedAsync(EmporiumDbContext db, long productId, CancellationToken cancellationToken) =>
        db.Set<Product>().AnyAsync(p => p.Id == productId && p.DeletedAt != null, cancellationToken);

    private static ProblemHttpResult DeletedProduct() =>
        Problems.Conflict("The product is deleted; restore it before changing its images.");

    private static ProblemHttpResult Unsupported(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.", detail: detail);

    private static ProblemHttpResult TooLarge(long max) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "The file is too large.",
            detail: $"Each image is limited to {max:N0} bytes (Media:MaxUploadBytes); nothing of this upload was kept.");
}
