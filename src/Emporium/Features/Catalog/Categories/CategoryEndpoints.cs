using Emporium.Platform.OpenApi;

namespace Emporium.Features.Catalog.Categories;

public static class CategoryEndpoints
{
    private const string What = "category";

    /// <summary>GET /api/categories/tree shadows a category whose slug is "tree", so no category may take it.</summary>
    private const string ReservedSlug = "tree";

    /// <summary>
    /// The tree nests two JSON levels per category; the default depth limit (64) would turn a deep but legal
    /// tree into a 500, so the tree is written with a far larger one.
    /// </summary>
    private static readonly JsonSerializerOptions TreeJson = CreateTreeJson();

    public static IEndpointRouteBuilder MapCategories(this IEndpointRouteBuilder app)
    {
        var categories = app.MapGroup("/api/categories").WithTags("Categories");

        categories.MapGet("", ListCategories)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("List categories")
            .WithDescription("Paged, flat; filter by name fragment or by parent (id, slug or 'root'); staff may add include_deleted=true.");
        categories.MapGet("/tree", GetCategoryTree)
            .Produces<IReadOnlyList<CategoryNode>>()
            .WithSummary("The whole category tree")
            .WithDescription("Every live category nested under its parent; children ordered by name.");
        categories.MapGet("/{ref}", GetCategory)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Get a category by id or slug")
            .WithDescription("Answers with an ETag; If-None-Match with the current tag gives 304. Deleted categories are visible to staff only.");

        var writes = categories.MapGroup("")
            .RequireAuthorization(Policies.Staff);
        writes.MapPost("", CreateCategory)
            .ProducesETag()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Create a category")
            .WithDescription("parent is an id or slug of a live category, or null for top level. The slug is generated from the name when absent. Staff or admin.");
        writes.MapPut("/{ref}", ReplaceCategory)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Replace a category")
            .WithDescription("Absent description and parent are cleared (parent_id is read as well); an absent slug keeps the current one. Moving a category under itself or one of its descendants is 422. Honours If-Match.");
        writes.MapPatch("/{ref}", PatchCategory)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .AcceptsMergePatch<CategoryRequest>()
            .WithSummary("Change some fields of a category")
            .WithDescription("JSON merge patch: only the fields present change; \"parent\": null moves it to the top level; \"slug\": null derives a new slug from the name. Honours If-Match.");
        writes.MapDelete("/{ref}", DeleteCategory)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Soft-delete a category")
            .WithDescription("Only a category without live subcategories can be deleted (409 otherwise). Honours If-Match.");
        writes.MapPost("/{ref}/restore", RestoreCategory)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Undo a category's soft delete")
            .WithDescription("409 while its parent is deleted (restore the parent first). Honours If-Match.");
        return app;
    }

    public static async Task<Results<Ok<Paged<CategoryResponse>>, ValidationProblem, ProblemHttpResult>> ListCategories(
        [AsParameters] CategoryListQuery query,
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

        var visible = db.Set<Category>().AsNoTracking();
        if (!includeDeleted)
        {
            visible = visible.Where(c => c.DeletedAt == null);
        }

        var categories = visible;
        if (!string.IsNullOrWhiteSpace(query.Parent))
        {
            if (query.Parent.Trim().Equals("root", StringComparison.OrdinalIgnoreCase))
            {
                categories = categories.Where(c => c.ParentId == null);
            }
            else
            {
                var parent = await CatalogRows.FindAsync(visible, query.Parent.Trim(), cancellationToken);
                if (parent is null)
                {
                    return Problems.Validation("parent", $"No category matches '{query.Parent}' (use an id, a slug or 'root').");
                }

                categories = categories.Where(c => c.ParentId == parent.Id);
            }
        }

        if (!string.IsNullOrWhiteSpace(query.Name))
        {
            var fragment = query.Name.Trim().ToLowerInvariant();

            // lower() on both sides is what both databases can translate; Contains(..., StringComparison) is not.
#pragma warning disable CA1862
            categories = categories.Where(c => c.Name.ToLower().Contains(fragment));
#pragma warning restore CA1862
        }

        var count = await categories.LongCountAsync(cancellationToken);

        // Names sort case-insensitively on both databases (their default collations disagree about case).
        categories = sort switch
        {
            TaxonomySort.NameDescending => categories.OrderByDescending(c => c.Name.ToLower()).ThenByDescending(c => c.Name).ThenByDescending(c => c.Id),
            TaxonomySort.CreatedAt => categories.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id),
            TaxonomySort.CreatedAtDescending => categories.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id),
            _ => categories.OrderBy(c => c.Name.ToLower()).ThenBy(c => c.Name).ThenBy(c => c.Id),
        };
        var rows = await categories.Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(Pager.Create(http.Request, page, count, rows.ConvertAll(CategoryResponse.From), paging.MaxPageSize));
    }

    /// <summary>One query for every live category, assembled in memory: the tree is small next to its products.</summary>
    public static async Task<JsonHttpResult<IReadOnlyList<CategoryNode>>> GetCategoryTree(
        EmporiumDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Set<Category>()
            .AsNoTracking()
            .Where(c => c.DeletedAt == null)
            .Select(c => new { c.Id, c.ParentId, c.Name, c.Slug, c.Description })
            .ToListAsync(cancellationToken);
        var childrenOf = rows.ToLookup(r => r.ParentId);

        // Only rows reachable from a root are emitted, so even a cycle that slipped in through a race cannot loop.
        IReadOnlyList<CategoryNode> Children(long? parentId) =>
            childrenOf[parentId]
                .OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase)
                .ThenBy(r => r.Name, StringComparer.Ordinal)
                .ThenBy(r => r.Id)
                .Select(r => new CategoryNode(r.Id, r.Name, r.Slug, r.Description, Children(r.Id)))
                .ToList();

        return TypedResults.Json(Children(null), TreeJson);
    }

    public static async Task<Results<Ok<CategoryResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetCategory(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var category = await CatalogRows.FindAsync(db.Set<Category>().AsNoTracking(), reference, cancellationToken);
        if (category is null || (category.DeletedAt is not null && !http.User.IsStaffOrAdmin()))
        {
            return Problems.NotFound("Category");
        }

        var etag = ETags.For(category.Id, category.Version);
        ETags.Set(http.Response, etag);
        return TaxonomySupport.NotModified(http.Request, etag)
            ? TaxonomySupport.NotModifiedResult()
            : TypedResults.Ok(CategoryResponse.From(category));
    }

    public static async Task<Results<Created<CategoryResponse>, ValidationProblem, ProblemHttpResult>> CreateCategory(
        CategoryRequest request,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = TaxonomySupport.Name(request.Name, errors);
        ValidateSlug(request.Slug, errors);
        TaxonomySupport.Description(request.Description, errors);
        var parentRef = ParseParent(request.Parent, request.ParentId, "parent", errors);
        if (name is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var parentId = await ResolveParentAsync(db, parentRef, errors, cancellationToken);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var category = new Category
        {
            Name = name,
            Slug = "",
            Description = request.Description,
            ParentId = parentId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(category);
        if (await TaxonomySupport.CreateWithSlugAsync(
                request.Slug,
                () => AssignSlugAsync(db, category, new SlugEdit(request.Slug, Regenerate: true), cancellationToken),
                () => SaveAsync(db, category, cancellationToken)) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(category.Id, category.Version));
        return TypedResults.Created($"/api/categories/{category.Id}", CategoryResponse.From(category));
    }

    public static async Task<Results<Ok<CategoryResponse>, ValidationProblem, ProblemHttpResult>> ReplaceCategory(
        [FromRoute(Name = "ref")] string reference,
        CategoryRequest request,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = TaxonomySupport.Name(request.Name, errors);
        ValidateSlug(request.Slug, errors);
        TaxonomySupport.Description(request.Description, errors);
        var parent = ParseParent(request.Parent, request.ParentId, "parent", errors);
        if (name is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var changes = new CategoryChanges(
            name,
            new SlugEdit(request.Slug, Regenerate: false),
            DescriptionChanges: true,
            request.Description,
            ParentChanges: true,
            parent);
        return await UpdateAsync(db, reference, changes, clock, http, cancellationToken);
    }

    public static async Task<Results<Ok<CategoryResponse>, ValidationProblem, ProblemHttpResult>> PatchCategory(
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
            ValidateSlug(givenSlug, errors);
            slug = new SlugEdit(givenSlug, Regenerate: givenSlug is null);
        }

        var descriptionChanges = TaxonomySupport.TryReadString(patch, "description", errors, out var description);
        TaxonomySupport.Description(description, errors);

        CatalogRef? parent = null;
        var parentChanges = false;
        if (patch.TryGetProperty("parent", out var parentValue))
        {
            parentChanges = true;
            parent = ParseParent(parentValue, null, "parent", errors);
        }
        else if (patch.TryGetProperty("parent_id", out var parentIdValue))
        {
            parentChanges = true;
            if (parentIdValue.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null))
            {
                errors.Add("parent_id", "parent_id must be a category id or null.");
            }
            else
            {
                parent = ParseParent(parentIdValue, null, "parent_id", errors);
            }
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var changes = new CategoryChanges(name, slug, descriptionChanges, description, parentChanges, parent);
        return await UpdateAsync(db, reference, changes, clock, http, cancellationToken);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteCategory(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Category>().AsNoTracking(), reference, "Category", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var category = target.Row;

        if (category.DeletedAt is not null)
        {
            return TypedResults.NoContent();
        }

        var liveChildren = LiveChildren(db, category.Id);
        if (await liveChildren.CountAsync(cancellationToken) is > 0 and var count)
        {
            return HasChildren(category, count);
        }

        // One guarded statement: the version read above and "still no live subcategory" hold at the moment of the write.
        var now = clock.GetUtcNow().UtcDateTime;
        var deleted = await db.Set<Category>()
            .Where(c => c.Id == category.Id && c.Version == category.Version && c.DeletedAt == null)
            .Where(c => !db.Set<Category>().Any(child => child.ParentId == c.Id && child.DeletedAt == null))
            .ExecuteUpdateAsync(
                set => set.SetProperty(c => c.DeletedAt, now).SetProperty(c => c.UpdatedAt, now).SetProperty(c => c.Version, c => c.Version + 1),
                cancellationToken);
        if (deleted > 0)
        {
            return TypedResults.NoContent();
        }

        return await liveChildren.CountAsync(cancellationToken) is > 0 and var raced
            ? HasChildren(category, raced)
            : Problems.PreconditionFailed();
    }

    public static async Task<Results<Ok<CategoryResponse>, ProblemHttpResult>> RestoreCategory(
        [FromRoute(Name = "ref")] string reference,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Category>(), reference, "Category", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var category = target.Row;

        if (category.DeletedAt is not null)
        {
            var parent = category.ParentId is { } parentId
                ? await db.Set<Category>().AsNoTracking().Where(c => c.Id == parentId).Select(c => new { c.Slug, c.DeletedAt }).FirstOrDefaultAsync(cancellationToken)
                : null;
            if (parent?.DeletedAt is not null)
            {
                return Problems.Conflict($"Its parent category '{parent.Slug}' is deleted; restore the parent first.");
            }

            category.DeletedAt = null;
            category.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            category.Version++;
            if (await SaveAsync(db, category, cancellationToken) is { } problem)
            {
                return problem;
            }
        }

        ETags.Set(http.Response, ETags.For(category.Id, category.Version));
        return TypedResults.Ok(CategoryResponse.From(category));
    }

    private static async Task<Results<Ok<CategoryResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        EmporiumDbContext db,
        string reference,
        CategoryChanges changes,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await CatalogRows.FindForWriteAsync(db.Set<Category>(), reference, "Category", http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var category = target.Row;

        if (category.DeletedAt is not null)
        {
            return TaxonomySupport.IsDeleted(What);
        }

        if (changes.ParentChanges)
        {
            var errors = new ValidationErrors();
            var parentId = await ResolveParentAsync(db, changes.Parent, errors, cancellationToken);
            if (!errors.IsEmpty)
            {
                return errors.ToProblem();
            }

            if (parentId is { } newParent && newParent != category.ParentId && await WouldCycleAsync(db, category.Id, newParent, cancellationToken))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "The category cannot move there.",
                    detail: "A category cannot be its own parent or sit under one of its own descendants.",
                    extensions: new Dictionary<string, object?>
                    {
                        ["errors"] = new Dictionary<string, string[]>
                        {
                            ["parent"] = ["parent must not be the category itself or one of its descendants."],
                        },
                    });
            }

            category.ParentId = parentId;
        }

        category.Name = changes.Name ?? category.Name;
        if (changes.DescriptionChanges)
        {
            category.Description = changes.Description;
        }

        if (await AssignSlugAsync(db, category, changes.Slug, cancellationToken) is { } taken)
        {
            return taken;
        }

        category.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        category.Version++;
        if (await SaveAsync(db, category, cancellationToken) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(category.Id, category.Version));
        return TypedResults.Ok(CategoryResponse.From(category));
    }

    private static async Task<bool> WouldCycleAsync(EmporiumDbContext db, long categoryId, long newParentId, CancellationToken cancellationToken) =>
        newParentId == categoryId
        || await CategoryTree.SubtreeIds(db, categoryId).AnyAsync(id => id == newParentId, cancellationToken);

    /// <summary>The parent a body names: an id (number or digits) or a slug; null means top level.</summary>
    private static CatalogRef? ParseParent(JsonElement? value, long? alias, string field, ValidationErrors errors)
    {
        switch (value?.ValueKind)
        {
            case null or JsonValueKind.Null or JsonValueKind.Undefined:
                return alias is { } aliasId ? new CatalogRef(aliasId, null) : null;
            case JsonValueKind.Number when value.Value.TryGetInt64(out var id):
                return new CatalogRef(id, null);
            case JsonValueKind.String when value.Value.GetString() is { } text && !string.IsNullOrWhiteSpace(text):
                return CatalogRef.Parse(text.Trim());
            default:
                errors.Add(field, $"{field} must be a category id, a category slug or null.");
                return null;
        }
    }

    private static async Task<long?> ResolveParentAsync(
        EmporiumDbContext db, CatalogRef? parent, ValidationErrors errors, CancellationToken cancellationToken)
    {
        if (parent is not { } key)
        {
            return null;
        }

        var found = await CatalogRows.FindAsync(db.Set<Category>().AsNoTracking(), key, cancellationToken);
        if (found is null)
        {
            errors.Add("parent", $"No category matches '{key.Id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? key.Slug}'.");
            return null;
        }

        if (found.DeletedAt is not null)
        {
            errors.Add("parent", $"The category '{found.Slug}' is deleted and cannot be a parent; restore it first.");
            return null;
        }

        return found.Id;
    }

    private static void ValidateSlug(string? slug, ValidationErrors errors)
    {
        TaxonomySupport.Slug(slug, errors);
        errors.When(slug == ReservedSlug, "slug", $"slug '{ReservedSlug}' is reserved (it would clash with /api/categories/tree).");
    }

    private static IQueryable<Category> LiveChildren(EmporiumDbContext db, long id) =>
        db.Set<Category>().Where(c => c.ParentId == id && c.DeletedAt == null);

    private static ProblemHttpResult HasChildren(Category category, int count) =>
        Problems.Conflict(
            $"The category '{category.Slug}' still has {count} live subcategor{(count == 1 ? "y" : "ies")}; " +
            "delete or move them first.");

    /// <summary>Slugs stay unique across deleted categories too, so a restore can never collide.</summary>
    private static async Task<ProblemHttpResult?> AssignSlugAsync(
        EmporiumDbContext db, Category category, SlugEdit edit, CancellationToken cancellationToken)
    {
        var current = category.Id == 0 ? null : category.Slug;
        var slug = await TaxonomySupport.ResolveSlugAsync(
            edit,
            current,
            category.Name,
            What,
            async candidate => candidate == ReservedSlug
                               || await db.Set<Category>().AnyAsync(c => c.Slug == candidate && c.Id != category.Id, cancellationToken));
        if (slug is null)
        {
            return TaxonomySupport.SlugTaken(edit.Given!, What);
        }

        category.Slug = slug;
        return null;
    }

    private static async Task<ProblemHttpResult?> SaveAsync(EmporiumDbContext db, Category category, CancellationToken cancellationToken)
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
            if (await db.Set<Category>().AnyAsync(other => other.Slug == category.Slug && other.Id != category.Id, cancellationToken))
            {
                return TaxonomySupport.SlugTaken(category.Slug, What);
            }

            throw;
        }
    }

    private static JsonSerializerOptions CreateTreeJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { MaxDepth = 4096 };
        PlatformExtensions.ConfigureJson(options);
        return options;
    }

    private sealed record CategoryChanges(
        string? Name,
        SlugEdit Slug,
        bool DescriptionChanges,
        string? Description,
        bool ParentChanges,
        CatalogRef? Parent);
}
