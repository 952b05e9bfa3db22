using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Events;
using Emporium.Platform.Persistence;

namespace Emporium.Features.Catalog.Variants;

/// <summary>
/// A product's variants (decision 0016): each a SKU of its own in the one SKU namespace, an optional price of its own, stock,
/// and a combination of attribute values unique among the product's live variants. Written by those who may change the
/// product; read by those who may see it.
/// </summary>
public static class VariantEndpoints
{
    private const string What = "Variant";

    /// <summary>Most live variants one product may have.</summary>
    public const int MaxVariantsPerProduct = VariantLimits.MaxVariantsPerProduct;

    public static IEndpointRouteBuilder MapVariants(this IEndpointRouteBuilder app)
    {
        var ofProduct = app.MapGroup("/api/products/{ref}/variants").WithTags("Variants");

        ofProduct.MapGet("", ListVariants)
            .Documented("List a product's variants", "Its live variants, the default first, with attribute values, price and stock. " +
                "Visible to whoever may see the product (404 otherwise).", 404);

        ofProduct.MapPost("", CreateVariant)
            .RequireAuthorization(Policies.ManageProducts)
            .ProducesETag()
            .Documented("Add a variant to a product", "Staff and admins (any product) or the owning seller (others get 404). The SKU is unique " +
                $"regardless of case across every product and variant, and the attribute combination among the product's live variants (409 naming " +
                $"the field); at most {MaxVariantsPerProduct:N0} live variants per product. A starting stock is recorded as a movement.", 404, 409);

        var variants = app.MapGroup("/api/variants").WithTags("Variants");

        variants.MapGet("/{id:long}", GetVariant)
            .Produces(StatusCodes.Status304NotModified)
            .Documented("Get a variant", "Answers with an ETag; If-None-Match with the current ETag gives 304. Visible to whoever may see its product; " +
                "a deleted variant only to those who may change the product.", 404);

        // Every write below is 409 while the variant's product is deleted: restore the product first.
        var writes = variants.MapGroup("").RequireAuthorization(Policies.ManageProducts);

        writes.MapPatch("/{id:long}", PatchVariant)
            .AcceptsMergePatch<VariantRequest>()
            .Documented("Change a variant (JSON merge patch)", "sku, price (null: sell at the product's price) and attributes (replace the whole " +
                "combination). A default variant's SKU is its product's: change it there. Stock changes go through the stock endpoints. " +
                "Honours If-Match (412 on mismatch). 409 while its product is deleted.", 404, 409, 412);

        writes.MapDelete("/{id:long}", DeleteVariant)
            .Documented("Soft-delete a variant", "It is no longer listed or sold; its SKU stays taken and its movements stay. A product's default " +
                "variant cannot be deleted (409): delete the product instead. Images that showed it then show the product as a whole. 409 while " +
                "its product is deleted. Honours If-Match (412 on mismatch).", 404, 409, 412);

        writes.MapPut("/{id:long}/stock", SetStock)
            .Documented("Set a variant's stock to a counted level", "on_hand sets the units available to sell; counted takes a shelf count and " +
                "sets on_hand to it less the units of orders pending or paid (sold, still on the shelf until fulfilled; 409 when fewer were " +
                "counted). Records a movement with the difference (none when the level already is that). " +
                "Honours If-Match with the variant's ETag (412 on mismatch); without it, the level is set whatever sold meanwhile. 409 while its " +
                "product is deleted.", 404, 409, 412);

        writes.MapPost("/{id:long}/stock/adjustments", AdjustStock)
            .ProducesETag()
            .Documented("Add or remove units", "A guarded change: removing more than is on hand is 409 with the level available, and nothing changes. " +
                "Recorded as a movement; concurrent adjustments and sales never lose an update. Honours If-Match with the variant's ETag (412 on " +
                "mismatch); without it, the units are added to or removed from whatever the level is. 409 while its product is deleted.", 404, 409, 412);

        writes.MapGet("/{id:long}/stock/movements", ListStockMovements)
            .Documented("List a variant's stock movements", "Every change with who, when, delta, reason, the order if any, and the level it left; " +
                "newest first, paged. Those who may change the product only.", 404);

        return app;
    }

    public static async Task<Results<Ok<List<VariantResponse>>, ProblemHttpResult>> ListVariants(
        [FromRoute(Name = "ref")] string productRef, HttpContext http, CatalogCache cache, CancellationToken cancellationToken)
    {
        return await cache.VisibleProductAsync(CatalogRef.Parse(productRef), http.User, http.RequestServices, cancellationToken) is { } product
            ? TypedResults.Ok(product.Variants.ConvertAll(row => row.ToResponse()))
            : Problems.NotFound("Product");
    }

    public static async Task<Results<Ok<VariantResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetVariant(long id, [AsParameters] RequestScope scope)
    {
        var (db, _, http, cancellationToken) = scope;
        var visible = db.Set<Product>().VisibleTo(http.User, includeDeleted: true);
        var changeable = db.Set<Product>().ChangeableBy(http.User);
        var row = await db.Set<Variant>().AsNoTracking()
            .Where(v => v.Id == id && visible.Any(p => p.Id == v.ProductId) && (v.DeletedAt == null || changeable.Any(p => p.Id == v.ProductId)))
            .Select(VariantRow.Projection)
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return Problems.NotFound(What);
        }

        ETags.Set(http.Response, row.ETag);
        return ETags.IfNoneMatchSatisfied(http.Request, row.ETag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(row.ToResponse());
    }

    public static async Task<Results<Created<VariantResponse>, ValidationProblem, ProblemHttpResult>> CreateVariant(
        [FromRoute(Name = "ref")] string productRef, VariantRequest request, [AsParameters] RequestScope scope, [AsParameters] ProductEndpoints.ProductWriteServices events)
    {
        var (db, _, http, cancellationToken) = scope;
        var product = await db.Set<Product>().AsNoTracking().WhereRef(CatalogRef.Parse(productRef)).ChangeableBy(http.User)
            .Select(p => new { p.Id, p.Currency, p.DeletedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (product is null)
        {
            return Problems.NotFound("Product");
        }

        if (product.DeletedAt is not null)
        {
            return Problems.Conflict("The product is deleted; restore it before adding variants.");
        }

        var errors = new ValidationErrors();
        request = request with { Sku = request.Sku?.Trim() };
        errors.When(Skus.Problem(request.Sku) is not null, "sku", Skus.Problem(request.Sku) ?? "");
        CheckPrice(request.Price, product.Currency, errors);
        errors.When(request.Stock is < 0 or > VariantLimits.MaxOnHand, "stock", $"stock must be 0 to {VariantLimits.MaxOnHand:N0}.");
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var values = await ResolveAttributesAsync(scope, request.Attributes, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        if (await db.Set<Variant>().CountAsync(v => v.ProductId == product.Id && v.DeletedAt == null, cancellationToken) >= MaxVariantsPerProduct)
        {
            return Problems.Conflict($"The product already has {MaxVariantsPerProduct:N0} variants, the most one product may have.");
        }

        var now = scope.UtcNow;
        var variant = new Variant
        {
            ProductId = product.Id,
            Sku = request.Sku!,
            SkuKey = Product.KeyOf(request.Sku!),
            Price = request.Price,
            CreatedAt = now,
            UpdatedAt = now,
        };
        variant.SetValues(values);

        db.Set<Variant>().Add(variant);
        if (await SaveOrConflictAsync(db, variant, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        if (request.Stock is > 0 and var stock)
        {
            await StockLedger.AdjustAsync(db, events.Events, variant.Id, stock, new StockLedger.Cause("initial stock", http.User.UserId(), null, now), cancellationToken);
        }

        await ProductEndpoints.AnnounceAsync(db, events, product.Id, EventTypes.ProductUpdated, cancellationToken);
        var row = await LoadAsync(db, variant.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        ETags.Set(http.Response, row.ETag);
        return TypedResults.Created($"/api/variants/{row.Id}", row.ToResponse());
    }

    public static Task<Results<Ok<VariantResponse>, ValidationProblem, ProblemHttpResult>> PatchVariant(
        long id, JsonElement patch, [AsParameters] RequestScope scope, [AsParameters] ProductEndpoints.ProductWriteServices events) =>
        UnlessStaleAsync(scope, () => PatchOnceAsync(id, patch, scope, events));

    public static Task<Results<NoContent, ProblemHttpResult>> DeleteVariant(long id, [AsParameters] RequestScope scope, [AsParameters] ProductEndpoints.ProductWriteServices events) =>
        UnlessStaleAsync(scope, () => DeleteOnceAsync(id, scope, events));

    /// <summary>Every sale raises a variant's version: a price edit without If-Match must not fail because a unit sold meanwhile.</summary>
    private static Task<TResult> UnlessStaleAsync<TResult>(RequestScope scope, Func<Task<TResult>> write)
        where TResult : INestedHttpResult =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, write);

    private static async Task<Results<Ok<VariantResponse>, ValidationProblem, ProblemHttpResult>> PatchOnceAsync(
        long id, JsonElement patch, RequestScope scope, ProductEndpoints.ProductWriteServices events)
    {
        var (db, _, http, cancellationToken) = scope;
        var found = await FindLiveForWriteAsync(scope, id);
        if (!found.Found)
        {
            return found.Problem;
        }

        var variant = found.Row;

        var errors = new ValidationErrors();
        errors.When(patch.ValueKind == JsonValueKind.Object && patch.TryGetProperty("stock", out _), "stock",
            "stock is changed through PUT /api/variants/{id}/stock or POST /api/variants/{id}/stock/adjustments, which record why.");
        var current = new VariantRequest
        {
            Sku = variant.Sku,
            Price = variant.Price,
            Attributes = await CurrentAttributesAsync(db, variant.Id, cancellationToken),
        };
        var request = MergePatch.Apply(current, patch, errors, "sku", "attributes");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        request = request with { Sku = request.Sku?.Trim() };
        errors.When(Skus.Problem(request.Sku) is not null, "sku", Skus.Problem(request.Sku) ?? "");
        var currency = await db.Set<Product>().Where(p => p.Id == variant.ProductId).Select(p => p.Currency).FirstAsync(cancellationToken);
        CheckPrice(request.Price, currency, errors);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var values = await ResolveAttributesAsync(scope, request.Attributes, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        if (variant.IsDefault && !string.Equals(request.Sku, variant.Sku, StringComparison.Ordinal))
        {
            return FieldConflict("sku", "A default variant's SKU is its product's SKU: change it on the product (PATCH /api/products/{ref}).");
        }

        variant.Sku = request.Sku!;
        variant.SkuKey = Product.KeyOf(request.Sku!);
        variant.Price = request.Price;
        variant.UpdatedAt = scope.UtcNow;
        variant.Version++;
        await db.Entry(variant).Collection(v => v.Values).LoadAsync(cancellationToken);
        variant.SetValues(values);

        if (await SaveOrConflictAsync(db, variant, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        await ProductEndpoints.AnnounceAsync(db, events, variant.ProductId, EventTypes.ProductUpdated, cancellationToken);
        var row = await LoadAsync(db, variant.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        ETags.Set(http.Response, row.ETag);
        return TypedResults.Ok(row.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteOnceAsync(long id, RequestScope scope, ProductEndpoints.ProductWriteServices events)
    {
        var (db, _, _, cancellationToken) = scope;
        var found = await FindForWriteAsync(scope, id);
        if (!found.Found)
        {
            return found.Problem;
        }

        var variant = found.Row;
        if (variant.IsDefault)
        {
            return Problems.Conflict("A product's default variant cannot be deleted; delete the product, or give the default variant attribute values.");
        }

        if (variant.DeletedAt is not null)
        {
            return TypedResults.NoContent();
        }

        variant.DeletedAt = scope.UtcNow;
        variant.UpdatedAt = scope.UtcNow;
        variant.Version++;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The product's image lock first, as an image's PATCH takes it before checking the variant it links is live.
        await ImageEvents.LockImagesOfAsync(db, variant.ProductId, cancellationToken);
        if (await VersionedRows.SaveAsync(db, cancellationToken) is { } stale)
        {
            return stale;
        }

        // Its images show the product as a whole from now on: an image links only a live variant.
        var variantId = variant.Id;
        await db.Set<ProductImage>().Where(i => i.VariantId == variantId).ExecuteUpdateAsync(set => set
            .SetProperty(i => i.VariantId, (long?)null)
            .SetProperty(i => i.UpdatedAt, scope.UtcNow)
            .SetProperty(i => i.Version, i => i.Version + 1), cancellationToken);

        await ProductEndpoints.AnnounceAsync(db, events, variant.ProductId, EventTypes.ProductUpdated, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static Task<Results<Ok<StockResponse>, ValidationProblem, ProblemHttpResult>> SetStock(
        long id, StockLevelRequest request, [AsParameters] RequestScope scope, IEventOutbox events, IUnshippedUnits unshipped)
    {
        var errors = new ValidationErrors();
        var (field, level) = request.Counted is { } counted ? ("counted", counted) : ("on_hand", request.OnHand);
        errors.When(request.OnHand is not null && request.Counted is not null, "counted", "Give on_hand (units to sell) or counted (units on the shelf), not both.");
        errors.When(level is not (>= 0 and <= VariantLimits.MaxOnHand), field, $"on_hand or counted is required, 0 to {VariantLimits.MaxOnHand:N0}.");
        return ChangeStockAsync(scope, id, request.Reason, errors, async (variant, cause) =>
        {
            // With If-Match the count replaces exactly the level the caller saw: a sale in between makes it stale (412).
            int? seen = ETags.IfMatchNamesAVersion(scope.Http.Request) ? variant.Version : null;
            var onHand = level!.Value;
            if (request.Counted is not null)
            {
                // The variant's row first: a checkout taking units waits until this count is set, and one that took them
                // before is among the orders read next.
                await scope.Db.Set<Variant>().Where(v => v.Id == id).ExecuteUpdateAsync(set => set.SetProperty(v => v.Version, v => v.Version), scope.Aborted);
                var sold = await unshipped.OfAsync(id, scope.Aborted);
                if (onHand < sold)
                {
                    return (null, Problems.OfField(StatusCodes.Status409Conflict, "Fewer units counted than sold.",
                        $"{onHand} units were counted, but orders not yet fulfilled hold {sold}: find the missing units, or cancel orders. Nothing changed.",
                        "counted", $"at least {sold} units, the orders pending or paid, must be on the shelf."));
                }

                onHand -= sold;
            }

            var (applied, movement) = await StockLedger.SetAsync(scope.Db, events, id, onHand, seen, cause, scope.Aborted);
            return applied ? (movement, null) : (null, Problems.PreconditionFailed());
        });
    }

    public static Task<Results<Ok<StockResponse>, ValidationProblem, ProblemHttpResult>> AdjustStock(
        long id, StockAdjustmentRequest request, [AsParameters] RequestScope scope, IEventOutbox events)
    {
        var errors = new ValidationErrors();
        errors.When(request.Delta is not { } delta || delta == 0 || Math.Abs((long)delta) > VariantLimits.MaxOnHand, "delta",
            $"delta is required: a number of units to add (positive) or remove (negative), not 0, at most {VariantLimits.MaxOnHand:N0} either way.");
        return ChangeStockAsync(scope, id, request.Reason, errors, async (variant, cause) =>
        {
            var delta = request.Delta!.Value;
            // With If-Match the adjustment applies to exactly the level the caller saw: a sale in between makes it stale (412).
            int? seen = ETags.IfMatchNamesAVersion(scope.Http.Request) ? variant.Version : null;
            if (await StockLedger.AdjustAsync(scope.Db, events, id, delta, cause, scope.Aborted, seenVersion: seen) is { } movement)
            {
                return (movement, null);
            }

            var now = await scope.Db.Set<Variant>().Where(v => v.Id == id).Select(v => new { v.OnHand, v.Version }).FirstAsync(scope.Aborted);
            if (seen is not null && now.Version != seen)
            {
                return (null, Problems.PreconditionFailed());
            }

            var level = now.OnHand;
            return (null, delta < 0
                ? Problems.OfField(StatusCodes.Status409Conflict, "Not enough stock.",
                    $"Only {level} units are on hand; removing {-delta} would take the stock below 0. Nothing changed.", "delta",
                    $"at most {level} units can be removed.")
                : Problems.OfField(StatusCodes.Status409Conflict, "Too much stock.",
                    $"{level} units are on hand; adding {delta} would pass {VariantLimits.MaxOnHand:N0}. Nothing changed.", "delta",
                    // A cancelled order's units may have taken the level past the cap (they go back whole).
                    level >= VariantLimits.MaxOnHand ? "no units can be added: the stock is at or past the cap." : $"at most {VariantLimits.MaxOnHand - level} units can be added."));
        });
    }

    public static async Task<Results<Ok<Paged<StockMovementResponse>>, ValidationProblem, ProblemHttpResult>> ListStockMovements(
        long id, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var (db, _, http, cancellationToken) = scope;
        var errors = new ValidationErrors();
        var page = pager.Resolve(paging, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var changeable = db.Set<Product>().ChangeableBy(http.User);
        if (!await db.Set<Variant>().AnyAsync(v => v.Id == id && changeable.Any(p => p.Id == v.ProductId), cancellationToken))
        {
            return Problems.NotFound(What);
        }

        var movements = db.Set<StockMovement>().AsNoTracking().Where(m => m.VariantId == id);
        return TypedResults.Ok(await pager.PageAsync(movements, page, m => m.OrderByDescending(x => x.Id), StockMovementResponse.From, http.Request, cancellationToken));
    }

    /// <summary>
    /// The variant the caller may change, tracked: its product is changeable by the caller (everyone else gets 404, so ids
    /// leak nothing), and If-Match, when sent, names its current version (412 otherwise).
    /// </summary>
    private static async Task<WriteTarget<Variant>> FindForWriteAsync(RequestScope scope, long id)
    {
        var (db, _, http, cancellationToken) = scope;
        var changeable = db.Set<Product>().ChangeableBy(http.User);
        var shown = await db.Set<Variant>().AsNoTracking().Where(v => v.Id == id && changeable.Any(p => p.Id == v.ProductId))
            .Select(VariantRow.Projection).FirstOrDefaultAsync(cancellationToken);
        if (shown is null)
        {
            return new WriteTarget<Variant>(null, Problems.NotFound(What));
        }

        // As adding a variant to it is: a deleted product's variants stay as they were until it is restored.
        if (await db.Set<Product>().AnyAsync(p => p.Id == shown.ProductId && p.DeletedAt != null, cancellationToken))
        {
            return new WriteTarget<Variant>(null, Problems.Conflict("The variant's product is deleted; restore it before changing its variants."));
        }

        if (!ETags.IfMatchSatisfied(http.Request, shown.ETag))
        {
            return new WriteTarget<Variant>(null, Problems.PreconditionFailed());
        }

        // With If-Match, the row must still be the one the tag described (a sale in between makes it stale).
        var variant = await db.Set<Variant>().FirstAsync(v => v.Id == id, cancellationToken);
        return ETags.IfMatchNamesAVersion(http.Request) && variant.Version != shown.Version
            ? new WriteTarget<Variant>(null, Problems.PreconditionFailed())
            : new WriteTarget<Variant>(variant, null);
    }

    /// <summary>As <see cref="FindForWriteAsync"/>, for a change only a live variant takes (409 for a deleted one).</summary>
    private static async Task<WriteTarget<Variant>> FindLiveForWriteAsync(RequestScope scope, long id)
    {
        var found = await FindForWriteAsync(scope, id);
        return found.Row is { DeletedAt: not null } ? new WriteTarget<Variant>(null, Problems.Conflict("The variant is deleted.")) : found;
    }

    /// <summary>
    /// What both stock changes share: the reason checked along with the caller's <paramref name="errors"/> (one 400 for all),
    /// the live variant the caller may change, and <paramref name="change"/> in a transaction that commits only when it
    /// recorded a movement or found nothing to change; the answer is the level then.
    /// </summary>
    private static async Task<Results<Ok<StockResponse>, ValidationProblem, ProblemHttpResult>> ChangeStockAsync(
        RequestScope scope, long id, string? reason, ValidationErrors errors,
        Func<Variant, StockLedger.Cause, Task<(StockMovement? Movement, ProblemHttpResult? Refusal)>> change)
    {
        var why = reason?.Trim() ?? "";
        errors.When(why.Length is 0 or > VariantLimits.ReasonLength, "reason", $"reason is required, 1-{VariantLimits.ReasonLength} characters.");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var found = await FindLiveForWriteAsync(scope, id);
        if (!found.Found)
        {
            return found.Problem;
        }

        await using var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        StockMovement? movement;
        ProblemHttpResult? refusal;
        try
        {
            (movement, refusal) = await change(found.Row, new StockLedger.Cause(why, scope.Http.User.UserId(), null, scope.UtcNow));
        }
        catch (KeyNotFoundException)
        {
            return Problems.Conflict("The variant was deleted while its stock was being set.");
        }

        if (refusal is not null)
        {
            return refusal;
        }

        var row = await LoadAsync(scope.Db, id, scope.Aborted);
        await transaction.CommitAsync(scope.Aborted);
        ETags.Set(scope.Http.Response, row.ETag);
        return TypedResults.Ok(new StockResponse(row.Id, row.Sku, row.OnHand, movement is null ? null : StockMovementResponse.From(movement)));
    }

    private static void CheckPrice(decimal? price, string currency, ValidationErrors errors)
    {
        if (price is { } amount && Money.Problem(amount, currency, "price") is { } problem)
        {
            errors.Add("price", problem);
        }
    }

    private static Task<VariantRow> LoadAsync(EmporiumDbContext db, long id, CancellationToken cancellationToken) =>
        db.Set<Variant>().AsNoTracking().Where(v => v.Id == id).Select(VariantRow.Projection).FirstAsync(cancellationToken);

    private static async Task<IReadOnlyDictionary<string, string>> CurrentAttributesAsync(EmporiumDbContext db, long variantId, CancellationToken cancellationToken) =>
        await db.Set<VariantValue>().AsNoTracking()
            .Where(v => v.VariantId == variantId)
            .Select(v => new { Attribute = v.Attribute!.Slug, Value = v.Value!.Slug })
            .ToDictionaryAsync(v => v.Attribute, v => v.Value, StringComparer.Ordinal, cancellationToken);

    /// <summary>
    /// The attribute values <paramref name="given"/> names (attribute slug to value slug), as ids; each unknown attribute or
    /// value is an error on attributes.{slug}.
    /// </summary>
    /// <summary>
    /// The attribute and value ids a body's attributes name, holding each named attribute's lock for the caller's
    /// transaction (in ascending order), and read again once held: a value removed meanwhile is then a field error here, and
    /// none can be removed before the variant commits.
    /// </summary>
    private static async Task<List<(long AttributeId, long ValueId)>> ResolveAttributesAsync(
        RequestScope scope, IReadOnlyDictionary<string, string>? given, ValidationErrors errors)
    {
        var (db, _, http, cancellationToken) = scope;
        if (given is not { Count: > 0 })
        {
            return [];
        }

        if (given.Count > VariantLimits.MaxAttributes)
        {
            errors.Add("attributes", $"A variant combines at most {VariantLimits.MaxAttributes} attributes.");
            return [];
        }

        var slugs = given.Keys.ToList();
        Task<List<ProductAttribute>> LoadAsync() => db.Set<ProductAttribute>().AsNoTracking()
            .Where(a => EF.Parameter(slugs).Contains(a.Slug) && a.DeletedAt == null)
            .Include(a => a.Values)
            .ToListAsync(cancellationToken);
        var attributes = await LoadAsync();
        if (attributes.Count > 0)
        {
            var locks = http.RequestServices.GetRequiredService<IWriteLocks>();
            foreach (var id in attributes.Select(a => a.Id).Order())
            {
                await locks.HoldAsync(AttributeEndpoints.ValuesLock, id, cancellationToken);
            }

            attributes = await LoadAsync();
        }

        var resolved = new List<(long, long)>(given.Count);
        foreach (var (attributeSlug, valueSlug) in given)
        {
            var field = $"attributes.{attributeSlug}";
            var attribute = attributes.Find(a => a.Slug == attributeSlug);
            var value = attribute?.Values.Find(v => v.Slug == valueSlug);
            if (attribute is null)
            {
                errors.Add(field, $"No attribute '{attributeSlug}' exists.");
            }
            else if (value is null)
            {
                var known = string.Join(", ", attribute.Values.OrderBy(v => v.Position).Take(20).Select(v => v.Slug));
                errors.Add(field, $"The attribute '{attributeSlug}' has no value '{valueSlug}'" + (known.Length == 0 ? "; it has no values yet." : $"; it has {known}."));
            }
            else
            {
                resolved.Add((attribute.Id, value.Id));
            }
        }

        return resolved;
    }

    /// <summary>
    /// Saves the variant; a SKU another product or variant holds, or a combination another live variant of the product has,
    /// is a 409 naming the field, whether seen before the save or raced in by a concurrent write (the unique indexes decide).
    /// </summary>
    private static async Task<ProblemHttpResult?> SaveOrConflictAsync(EmporiumDbContext db, Variant variant, CancellationToken cancellationToken) =>
        await ConflictAsync(db, variant, cancellationToken)
            // Inside the caller's transaction EF saves to a savepoint, so a refused save leaves the transaction usable.
            ?? await VersionedRows.SaveAsync(db, () => ConflictAsync(db, variant, cancellationToken), cancellationToken);

    private static async Task<ProblemHttpResult?> ConflictAsync(EmporiumDbContext db, Variant variant, CancellationToken cancellationToken)
    {
        var (id, skuKey) = (variant.Id, variant.SkuKey);
        if (await db.Set<Variant>().AnyAsync(v => v.SkuKey == skuKey && v.Id != id, cancellationToken))
        {
            return FieldConflict("sku", $"The SKU '{variant.Sku}' is taken by another product or variant (SKUs are unique regardless of case).");
        }

        var (productId, signature) = (variant.ProductId, variant.Signature);
        var twin = await db.Set<Variant>().AsNoTracking()
            .Where(v => v.ProductId == productId && v.Signature == signature && v.DeletedAt == null && v.Id != id)
            .Select(v => v.Sku)
            .FirstOrDefaultAsync(cancellationToken);
        return twin is null
            ? null
            : FieldConflict("attributes", signature.Length == 0
                ? $"The variant {twin} of this product already has no attribute values; give this one a combination of its own."
                : $"The variant {twin} of this product already has these attribute values.");
    }

    private static ProblemHttpResult FieldConflict(string field, string message) =>
        Problems.OfField(StatusCodes.Status409Conflict, "Conflict.", message, field, message);
}
