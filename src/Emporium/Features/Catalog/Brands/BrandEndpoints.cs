using Emporium.Platform.OpenApi;

namespace Emporium.Features.Catalog.Brands;

public static class BrandEndpoints
{
    private const string What = "brand";

    public static IEndpointRouteBuilder MapBrands(this IEndpointRouteBuilder app)
    {
        var brands = app.MapGroup("/api/brands").WithTags("Brands");

        brands.MapGet("", ListBrands)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("List brands")
            .WithDescription("Paged; filter by name fragment; staff may add include_deleted=true.");
        brands.MapGet("/{ref}", GetBrand)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Get a brand by id or slug")
            .WithDescription("Answers with an ETag; If-None-Match with the current tag gives 304. Deleted brands are visible to staff only.");

        var writes = brands.MapGroup("")
            .RequireAuthorization(Policies.Staff);
        writes.MapPost("", CreateBrand)
            .ProducesETag()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Create a brand")
            .WithDescription("The slug is generated from the name when absent (brand-name, brand-name-2, ...). Staff or admin.");
        writes.MapPut("/{ref}", ReplaceBrand)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Replace a brand")
            .WithDescription("Honours If-Match (412 when the brand changed meanwhile). An absent slug keeps the current one.");
        writes.MapPatch("/{ref}", PatchBrand)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .AcceptsMergePatch<BrandRequest>()
            .WithSummary("Change some fields of a brand")
            .WithDescription("JSON merge patch: only the fields present change; \"slug\": null derives a new slug from the name. Honours If-Match.");
        writes.MapDelete("/{ref}", DeleteBrand)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Soft-delete a brand")
            .WithDescription("Products keep their brand reference. Honours If-Match. Deleting a deleted brand is a no-op.");
        writes.MapPost("/{ref}/restore", RestoreBrand)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Undo a brand's soft delete")
            .WithDescription("Restoring a live brand is a no-op. Honours If-Match.");
        return app;
    }

    public static async Task<Results<Ok<Paged<BrandResponse>>, ValidationProblem, ProblemHttpResult>> ListBrands(
        [AsParameters] BrandListQuery query,
        EmporiumDbContext db,
        PagingOptions paging,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = Pager.Resolve(new PageRequest(query.Page, query.PageSize), paging, errors);
        var sort = TaxonomySupport.Sort(query.Sort, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var includeDeleted = query.IncludeDeleted == true;
        if (includeDeleted && !http.User.IsStaffOrAdmin())
        {
            return TaxonomySupport.IncludeDeletedForbidden();
        }

        var brands = db.Set<Brand>().AsNoTracking();
        if (!includeDeleted)
        {
            brands = brands.Where(b => b.DeletedAt == null);
        }

        if (!string.IsNullOrWhiteSpace(query.Name))
        {
            var fragment = query.Name.Trim().ToLowerInvariant();
            // lower() on both sides is what both databases can translate; Contains(..., StringComparison) is not.
#pragma warning disable CA1862
            brands = brands.Where(b => b.Name.ToLower().Contains(fragment));
#pragma warning restore CA1862
        }

        var count = await brands.LongCountAsync(cancellationToken);

        // Names sort case-insensitively on both databases (their default collations disagree about case).
        brands = sort switch
        {
            TaxonomySort.NameDescending => brands.OrderByDescending(b => b.Name.ToLower()).ThenByDescending(b => b.Name).ThenByDescending(b => b.Id),
            TaxonomySort.CreatedAt => brands.OrderBy(b => b.CreatedAt).ThenBy(b => b.Id),
            TaxonomySort.CreatedAtDescending => brands.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id),
            _ => brands.OrderBy(b => b.Name.ToLower()).ThenBy(b => b.Name).ThenBy(b => b.Id),
        };
        var rows = await brands.Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(Pager.Create(http.Request, page, count, rows.ConvertAll(BrandResponse.From), paging.MaxPageSize));
    }

    public static async Task<Results<Ok<BrandResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetBrand(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var brand = await CatalogRows.FindAsync(db.Set<Brand>().AsNoTracking(), reference, cancellationToken);
        if (brand is null || (brand.DeletedAt is not null && !http.User.IsStaffOrAdmin()))
        {
            return Problems.NotFound("Brand");
        }

        var etag = ETags.For(brand.Id, brand.Version);
        ETags.Set(http.Response, etag);
        return TaxonomySupport.NotModified(http.Request, etag)
            ? TaxonomySupport.NotModifiedResult()
            : TypedResults.Ok(BrandResponse.From(brand));
    }

    public static async Task<Results<Created<BrandResponse>, ValidationProblem, ProblemHttpResult>> CreateBrand(
        BrandRequest request,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = TaxonomySupport.Name(request.Name, errors);
        TaxonomySupport.Slug(request.Slug, errors);
        if (name is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var brand = new Brand { Name = name, Slug = "", CreatedAt = now, UpdatedAt = now };
        db.Add(brand);
        if (await TaxonomySupport.CreateWithSlugAsync(
                request.Slug,
                () => AssignSlugAsync(db, brand, new SlugEdit(request.Slug, Regenerate: true), cancellationToken),
                () => SaveAsync(db, brand, cancellationToken)) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(brand.Id, brand.Version));
        return TypedResults.Created($"/api/brands/{brand.Id}", BrandResponse.From(brand));
    }

    public static async Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> ReplaceBrand(
        [FromRoute(Name = "ref")] string reference,
        BrandRequest request,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = TaxonomySupport.Name(request.Name, errors);
        TaxonomySupport.Slug(request.Slug, errors);
        if (name is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        return await UpdateAsync(db, reference, name, new SlugEdit(request.Slug, Regenerate: false), clock, http, cancellationToken);
    }

    public static async Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> PatchBrand(
        [FromRoute(Name = "ref")] string reference,
        JsonElement patch,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return TaxonomySupport.NotAnObject();
        }

        var errors = new ValidationErrors();
        string? name = null;
        if (TaxonomySupport.TryReadString(patch, "name", errors, out var givenName))
        {
            name = TaxonomySupport.Name(givenName, errors);
        }

        var slug = SlugEdit.Keep;
        if (TaxonomySupport.TryReadString(patch, "slug", errors, out var givenSlug))
        {
            TaxonomySupport.Slug(givenSlug, errors);
            slug = new SlugEdit(givenSlug, Regenerate: givenSlug is null);
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        return await UpdateAsync(db, reference, name, slug, clock, http, cancellationToken);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteBrand(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Brand>().AsNoTracking(), reference, "Brand", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var brand = target.Row;

        if (brand.DeletedAt is not null)
        {
            return TypedResults.NoContent();
        }

        // Guarded by the version read above, so a change made in between is reported instead of overwritten.
        var now = clock.GetUtcNow().UtcDateTime;
        var deleted = await db.Set<Brand>()
            .Where(b => b.Id == brand.Id && b.Version == brand.Version && b.DeletedAt == null)
            .ExecuteUpdateAsync(
                set => set.SetProperty(b => b.DeletedAt, now).SetProperty(b => b.UpdatedAt, now).SetProperty(b => b.Version, b => b.Version + 1),
                cancellationToken);
        return deleted == 0 ? Problems.PreconditionFailed() : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<BrandResponse>, ProblemHttpResult>> RestoreBrand(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Brand>(), reference, "Brand", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var brand = target.Row;

        if (brand.DeletedAt is not null)
        {
            brand.DeletedAt = null;
            brand.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            brand.Version++;
            if (await SaveAsync(db, brand, cancellationToken) is { } problem)
            {
                return problem;
            }
        }

        ETags.Set(http.Response, ETags.For(brand.Id, brand.Version));
        return TypedResults.Ok(BrandResponse.From(brand));
    }

    private static async Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        EmporiumDbContext db,
        string reference,
        string? name,
        SlugEdit slug,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Brand>(), reference, "Brand", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var brand = target.Row;

        if (brand.DeletedAt is not null)
        {
            return TaxonomySupport.IsDeleted(What);
        }

        brand.Name = name ?? brand.Name;
        if (await AssignSlugAsync(db, brand, slug, cancellationToken) is { } taken)
        {
            return taken;
        }

        brand.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        brand.Version++;
        if (await SaveAsync(db, brand, cancellationToken) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(brand.Id, brand.Version));
        return TypedResults.Ok(BrandResponse.From(brand));
    }

    /// <summary>Slugs stay unique across deleted brands too, so a restore can never collide.</summary>
    private static async Task<ProblemHttpResult?> AssignSlugAsync(
        EmporiumDbContext db, Brand brand, SlugEdit edit, CancellationToken cancellationToken)
    {
        var current = brand.Id == 0 ? null : brand.Slug;
        var slug = await TaxonomySupport.ResolveSlugAsync(
            edit,
            current,
            brand.Name,
            What,
            candidate => db.Set<Brand>().AnyAsync(b => b.Slug == candidate && b.Id != brand.Id, cancellationToken));
        if (slug is null)
        {
            return TaxonomySupport.SlugTaken(edit.Given!, What);
        }

        brand.Slug = slug;
        return null;
    }

    private static async Task<ProblemHttpResult?> SaveAsync(EmporiumDbContext db, Brand brand, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.PreconditionFailed();
        }
        catch (DbUpdateException)
        {
            // The one key this write can collide on: a slug taken by a concurrent write since it was checked.
            if (await db.Set<Brand>().AnyAsync(other => other.Slug == brand.Slug && other.Id != brand.Id, cancellationToken))
            {
                return TaxonomySupport.SlugTaken(brand.Slug, What);
            }

            throw;
        }
    }
}
