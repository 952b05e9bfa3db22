using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Events;

namespace Emporium.Features.Catalog.Products;

public static partial class ProductEndpoints
{
    public static async Task<Results<Created<ProductResponse>, ValidationProblem, ProblemHttpResult>> CreateProduct(
        ProductRequest request,
        [AsParameters] RequestScope scope,
        [AsParameters] ProductWriteServices services)
    {
        var (db, clock, http, cancellationToken) = scope;
        var now = clock.GetUtcNow().UtcDateTime;
        var product = new Product
        {
            Sku = "",
            SkuKey = "",
            Slug = "",
            Name = "",
            OwnerId = http.User.UserId(),
            CreatedAt = now,
        };
        var errors = new ValidationErrors();
        await services.Images.CheckUrlsAsync(0, request.ImageUrls, errors, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var failure = await ApplyAndSaveAsync(db, product, request, now, errors, cancellationToken)
            ?? await AddImageUrlsAsync(services.Images, product.Id, request, http.User.UserId(), cancellationToken);
        if (failure is not null)
        {
            return failure.Invalid is { } invalid ? invalid : failure.Problem!;
        }

        var row = await AnnounceAsync(db, services, product.Id, EventTypes.ProductCreated, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        ETags.Set(http.Response, row.ETag);
        return TypedResults.Created($"/api/products/{row.Id}", row.ToResponse());
    }

    public static Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> ReplaceProduct(
        [FromRoute(Name = "ref")] string productRef,
        ProductRequest request,
        [AsParameters] RequestScope scope,
        [AsParameters] ProductWriteServices services) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => UpdateAsync(scope, services, productRef, (_, _) => request));

    public static Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> PatchProduct(
        [FromRoute(Name = "ref")] string productRef,
        JsonElement patch,
        [AsParameters] RequestScope scope,
        [AsParameters] ProductWriteServices services) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => UpdateAsync(
            scope, services, productRef, (current, errors) => MergePatch.Apply(current, patch, errors, "sku", "name", "slug", "price", "currency", "is_active")));

    public static Task<Results<NoContent, ProblemHttpResult>> DeleteProduct(
        [FromRoute(Name = "ref")] string productRef, [AsParameters] RequestScope scope, [AsParameters] ProductWriteServices services) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => DeleteOnceAsync(productRef, scope, services));

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteOnceAsync(string productRef, RequestScope scope, ProductWriteServices services)
    {
        var target = await FindForWriteAsync(scope, productRef);
        if (!target.Found)
        {
            return target.Problem;
        }

        // Deleting a deleted product is a no-op.
        return target.Row.DeletedAt is null && await SetDeletedAsync(scope, services, target.Row, deleted: true) is null
            ? Problems.PreconditionFailed()
            : TypedResults.NoContent();
    }

    public static Task<Results<Ok<ProductResponse>, ProblemHttpResult>> RestoreProduct(
        [FromRoute(Name = "ref")] string productRef, [AsParameters] RequestScope scope, [AsParameters] ProductWriteServices services) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => RestoreOnceAsync(productRef, scope, services));

    private static async Task<Results<Ok<ProductResponse>, ProblemHttpResult>> RestoreOnceAsync(
        string productRef, RequestScope scope, ProductWriteServices services)
    {
        var target = await FindForWriteAsync(scope, productRef);
        if (!target.Found)
        {
            return target.Problem;
        }

        // Restoring a live product is a no-op that answers with it.
        var row = target.Row.DeletedAt is null
            ? await LoadRowAsync(scope.Db, services, target.Row.Id, scope.Aborted)
            : await SetDeletedAsync(scope, services, target.Row, deleted: false);
        if (row is null)
        {
            return Problems.PreconditionFailed();
        }

        ETags.Set(scope.Http.Response, row.ETag);
        return TypedResults.Ok(row.ToResponse());
    }

    /// <summary>PUT and PATCH: <paramref name="build"/> turns the current representation into the new one, or says why not.</summary>
    private static async Task<Results<Ok<ProductResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        RequestScope scope, ProductWriteServices services, string productRef, Func<ProductRequest, ValidationErrors, ProductRequest> build)
    {
        var (db, clock, http, cancellationToken) = scope;
        var found = await FindForWriteAsync(scope, productRef);
        if (!found.Found)
        {
            return found.Problem;
        }

        var target = found.Row;
        if (target.DeletedAt is not null)
        {
            return Problems.Conflict("The product is deleted; restore it (POST /api/products/{ref}/restore) before changing it.");
        }

        var product = await db.Set<Product>().Include(p => p.Categories).FirstAsync(p => p.Id == target.Id, cancellationToken);
        if (product.Version != target.Version)
        {
            return Problems.PreconditionFailed();
        }

        var errors = new ValidationErrors();
        var request = build(CurrentOf(product), errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        await services.Images.CheckUrlsAsync(product.Id, request.ImageUrls, errors, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var failure = await ApplyAndSaveAsync(db, product, request, clock.GetUtcNow().UtcDateTime, errors, cancellationToken)
            ?? await AddImageUrlsAsync(services.Images, product.Id, request, http.User.UserId(), cancellationToken);
        if (failure is not null)
        {
            return failure.Invalid is { } invalidRequest ? invalidRequest : failure.Problem!;
        }

        var row = await AnnounceAsync(db, services, product.Id, EventTypes.ProductUpdated, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        ETags.Set(http.Response, row.ETag);
        return TypedResults.Ok(row.ToResponse());
    }

    /// <summary>What a product write needs besides its scope: the outbox its event goes to, image intake (image_urls) and media URLs.</summary>
    public readonly record struct ProductWriteServices(IEventOutbox Events, ImageIntake Images, MediaUrls Urls, IProductReads Reads);

    private sealed record ChangeTarget(long Id, int Version, DateTime? DeletedAt, string ETag);

    private sealed record WriteFailure(ValidationProblem? Invalid, ProblemHttpResult? Problem);

    /// <summary>
    /// The product the caller may change (<see cref="ProductVisibility.ChangeableBy"/>). Everyone else's product is reported
    /// as missing, so ids and slugs of others' products leak nothing.
    /// </summary>
    private static async Task<WriteTarget<ChangeTarget>> FindForWriteAsync(RequestScope scope, string productRef)
    {
        var (db, _, http, cancellationToken) = scope;
        var products = db.Set<Product>().AsNoTracking().WhereRef(CatalogRef.Parse(productRef)).ChangeableBy(http.User);
        var found = await products
            .Select(p => new
            {
                p.Id,
                p.Version,
                p.DeletedAt,
                Brand = p.Brand == null ? null : new { p.Brand.Id, p.Brand.Version },
                Categories = p.Categories.Where(c => c.DeletedAt == null).Select(c => new { c.Id, c.Version }).ToList(),
            })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return new WriteTarget<ChangeTarget>(null, Problems.NotFound("Product"));
        }

        var variants = await VariantReads.OfProductAsync(db, found.Id, cancellationToken);
        var images = await ImageReads.OfProductAsync(db, found.Id, cancellationToken);
        var etag = ProductTag.For(
            found.Id, found.Version, found.Brand is null ? null : (found.Brand.Id, found.Brand.Version), found.Categories.Select(c => (c.Id, c.Version)),
            VariantReads.TagParts(variants).Concat(ImageReads.TagParts(images)));
        return ETags.IfMatchSatisfied(http.Request, etag)
            ? new WriteTarget<ChangeTarget>(new ChangeTarget(found.Id, found.Version, found.DeletedAt, etag), null)
            : new WriteTarget<ChangeTarget>(null, Problems.PreconditionFailed());
    }

    /// <summary>
    /// Soft delete or restore in one statement guarded by the version If-Match allowed, with its event in the same
    /// transaction; null when the product changed in between.
    /// </summary>
    private static async Task<ProductDetail?> SetDeletedAsync(RequestScope scope, ProductWriteServices services, ChangeTarget target, bool deleted)
    {
        var (db, _, _, cancellationToken) = scope;
        var now = scope.UtcNow;
        DateTime? deletedAt = deleted ? now : null;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.ProductChanged(target.Id);
        var changed = await db.Set<Product>()
            .Where(p => p.Id == target.Id && p.Version == target.Version)
            .ExecuteUpdateAsync(set => set
                .SetProperty(p => p.DeletedAt, deletedAt)
                .SetProperty(p => p.UpdatedAt, now)
                .SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
        if (changed == 0)
        {
            return null;
        }

        var row = await AnnounceAsync(db, services, target.Id, deleted ? EventTypes.ProductDeleted : EventTypes.ProductRestored, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return row;
    }

    /// <summary>
    /// Adds the event for a write that is not committed yet, with the product as the API now shows it, to the same
    /// transaction: the caller commits both or neither (decision 0006).
    /// </summary>
    internal static async Task<ProductDetail> AnnounceAsync(EmporiumDbContext db, ProductWriteServices services, long id, string type, CancellationToken cancellationToken)
    {
        var row = await LoadRowAsync(db, services, id, cancellationToken);
        services.Events.Add(type, row.ToResponse());
        await db.SaveChangesAsync(cancellationToken);
        return row;
    }

    private static async Task<ProductDetail> LoadRowAsync(EmporiumDbContext db, ProductWriteServices services, long id, CancellationToken cancellationToken) =>
        await ProductDetail.LoadAsync(services.Reads, db, new CatalogRef(id, null), services.Urls, cancellationToken)
            ?? throw new InvalidOperationException($"Product {id} vanished inside its own write.");

    /// <summary>The stored product as a request body: the starting point a merge patch is applied to.</summary>
    private static ProductRequest CurrentOf(Product product) => new()
    {
        Sku = product.Sku,
        Name = product.Name,
        Slug = product.Slug,
        Description = product.Description,
        Price = product.Price,
        Currency = product.Currency,
        IsActive = product.IsActive,
        Brand = product.BrandId is { } brandId ? new IdOrSlug(brandId.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null,
        // Live ones only: links to deleted categories are in no read, are kept by the write, and count towards no limit.
        Categories = product.Categories.Where(c => c.DeletedAt is null).Select(c => new IdOrSlug(c.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList(),
    };

    /// <summary>
    /// Validates <paramref name="request"/> (adding to <paramref name="errors"/>, which may hold the image_urls checks made
    /// before the transaction), resolves brand and categories, checks SKU and slug, then saves <paramref name="product"/> in
    /// one SaveChanges guarded by its version. Null on success.
    /// </summary>
    private static async Task<WriteFailure?> ApplyAndSaveAsync(
        EmporiumDbContext db, Product product, ProductRequest request, DateTime now, ValidationErrors errors, CancellationToken cancellationToken)
    {
        request = ProductRules.Normalize(request);
        ProductRules.Check(request, errors);

        // A product may keep a brand or category that was deleted since it was linked; new links need live ones.
        var keptBrandId = product.BrandId;
        long? brandId = null;
        if (request.Brand is { } brandRef)
        {
            var reference = brandRef.Parse();
            var brands = db.Set<Brand>().Where(b => b.DeletedAt == null || b.Id == keptBrandId);
            brands = reference.Id is { } id ? brands.Where(b => b.Id == id) : brands.Where(b => b.Slug == reference.Slug);
            brandId = await brands.Select(b => (long?)b.Id).FirstOrDefaultAsync(cancellationToken);
            errors.When(brandId is null, "brand", $"No brand '{brandRef.Value}' exists.");
        }

        List<Category> categories = [];
        if (request.Categories is { Count: > 0 and <= ProductRules.MaxCategories } categoryRefs)
        {
            var references = categoryRefs.Select(r => (Ref: r, Parsed: r.Parse())).ToList();
            var ids = references.Where(r => r.Parsed.Id is not null).Select(r => r.Parsed.Id!.Value).Distinct().ToList();
            var slugs = references.Where(r => r.Parsed.Slug is not null).Select(r => r.Parsed.Slug!).Distinct().ToList();
            var keptCategoryIds = product.Categories.Select(c => c.Id).ToList();
            var found = await db.Set<Category>()
                .Where(c => c.DeletedAt == null || keptCategoryIds.Contains(c.Id))
                .Where(c => ids.Contains(c.Id) || slugs.Contains(c.Slug))
                .ToListAsync(cancellationToken);
            foreach (var (reference, parsed) in references)
            {
                var match = found.FirstOrDefault(c => parsed.Id is { } id ? c.Id == id : c.Slug == parsed.Slug);
                if (match is null)
                {
                    errors.Add("categories", $"No category '{reference.Value}' exists.");
                }
                else if (!categories.Contains(match))
                {
                    categories.Add(match);
                }
            }
        }

        // A variant's own price is in its product's currency: a new currency must allow every such price's decimal places.
        var currency = request.Currency ?? Money.DefaultCurrency;
        if (product.Id != 0 && currency != product.Currency && Money.CurrencyProblem(currency) is null)
        {
            var productId = product.Id;
            foreach (var own in await db.Set<Variant>().AsNoTracking()
                .Where(v => v.ProductId == productId && v.DeletedAt == null && v.Price != null)
                .Select(v => new { v.Sku, v.Price })
                .ToListAsync(cancellationToken))
            {
                if (Money.Problem(own.Price!.Value, currency, "price") is not null)
                {
                    errors.Add("currency", $"The variant {own.Sku} has its own price {own.Price.Value.ToString(CultureInfo.InvariantCulture)}, " +
                        $"which {currency} cannot express; change that price first.");
                }
            }
        }

        if (!errors.IsEmpty)
        {
            return new WriteFailure(errors.ToProblem(), null);
        }

        var sku = request.Sku!;
        var skuKey = Product.KeyOf(sku);
        if (await SkuTakenAsync(db, skuKey, product.Id, cancellationToken))
        {
            return new WriteFailure(null, SkuConflict(sku));
        }

        var slug = request.Slug;
        var generatedSlug = slug is null && product.Id == 0;
        if (generatedSlug)
        {
            slug = await Slugs.UniqueAsync(Slugs.FromName(request.Name!, "product"),
                candidate => db.Set<Product>().AnyAsync(p => p.Slug == candidate, cancellationToken));
        }
        else if (slug is not null && slug != product.Slug &&
                 await db.Set<Product>().AnyAsync(p => p.Slug == slug && p.Id != product.Id, cancellationToken))
        {
            return new WriteFailure(null, FieldConflict("slug", $"The slug '{slug}' is taken by another product."));
        }

        product.Sku = sku;
        product.SkuKey = skuKey;
        product.Slug = slug ?? product.Slug;
        product.Name = request.Name!;
        product.Description = request.Description;
        product.Price = request.Price!.Value;
        product.Currency = request.Currency ?? Money.DefaultCurrency;
        product.IsActive = request.IsActive ?? true;
        product.BrandId = brandId;
        // Links to deleted categories are in no read, so a PUT of what a read shows keeps them: a category restored holds
        // its products again.
        var hidden = product.Categories.Where(c => c.DeletedAt is not null && !categories.Contains(c)).ToList();
        product.Categories.Clear();
        product.Categories.AddRange(categories);
        product.Categories.AddRange(hidden);
        product.UpdatedAt = now;
        if (product.Id == 0)
        {
            db.Set<Product>().Add(product);
        }
        else
        {
            product.Version++;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Inside the caller's transaction EF saves to a savepoint, so a refused attempt leaves the transaction usable.
                await db.SaveChangesAsync(cancellationToken);
                return null;
            }
            catch (DbUpdateConcurrencyException)
            {
                return new WriteFailure(null, Problems.PreconditionFailed());
            }
            catch (DbUpdateException)
            {
                // Another request took the SKU or slug between our check and our save (the keys this write can collide on).
                if (await SkuTakenAsync(db, skuKey, product.Id, cancellationToken))
                {
                    return new WriteFailure(null, SkuConflict(sku));
                }

                var takenSlug = product.Slug;
                if (!await db.Set<Product>().AnyAsync(p => p.Slug == takenSlug && p.Id != product.Id, cancellationToken))
                {
                    throw;
                }

                if (!generatedSlug || attempt == Slugs.GeneratedSlugAttempts)
                {
                    return new WriteFailure(null, FieldConflict("slug", $"The slug '{product.Slug}' is taken by another product."));
                }

                // A slug we generated was taken by a concurrent create: step to the next free one.
                product.Slug = await Slugs.UniqueAsync(Slugs.FromName(request.Name!, "product"),
                    candidate => db.Set<Product>().AnyAsync(p => p.Slug == candidate, cancellationToken));
            }
        }
    }

    /// <summary>Adds an image for each new URL of image_urls (checked before the transaction); null on success.</summary>
    private static async Task<WriteFailure?> AddImageUrlsAsync(
        ImageIntake images, long productId, ProductRequest request, long? requestedBy, CancellationToken cancellationToken)
    {
        try
        {
            await images.AddUrlsAsync(productId, request.ImageUrls, requestedBy, cancellationToken);
            return null;
        }
        catch (ImageRoomException full)
        {
            return new WriteFailure(Problems.Validation("image_urls", full.Message), null);
        }
    }

    /// <summary>
    /// Whether another product or variant holds the SKU: every product's SKU is its default variant's, so one look at the
    /// variants covers both (decision 0016). The product's own default variant does not count.
    /// </summary>
    private static Task<bool> SkuTakenAsync(EmporiumDbContext db, string skuKey, long productId, CancellationToken cancellationToken) =>
        db.Set<Variant>().AnyAsync(v => v.SkuKey == skuKey && !(v.ProductId == productId && v.IsDefault), cancellationToken);

    private static ProblemHttpResult SkuConflict(string sku) =>
        FieldConflict("sku", $"The SKU '{sku}' is taken by another product or variant (SKUs are unique regardless of case).");

    /// <summary>A 409 that also names the field, so a form can show the message next to it.</summary>
    private static ProblemHttpResult FieldConflict(string field, string message) =>
        Problems.OfField(StatusCodes.Status409Conflict, "Conflict.", message, field, message);
}
