using Emporium.Features.Catalog.Caching;
using System.Text.Json.Nodes;

namespace Emporium.Features.Catalog.Categories;

public static class CategoryEndpoints
{
    /// <summary>GET /api/categories/tree shadows a category whose slug is "tree", so no category may take it.</summary>
    private static readonly TaxonomyKind<Category, CategoryRequest, CategoryResponse> Categories = new(
        "category",
        "/api/categories",
        CategoryResponse.From,
        blank: now => new Category { Name = "", Slug = "", CreatedAt = now, UpdatedAt = now },
        current: category => new CategoryRequest
        {
            Name = category.Name,
            Slug = category.Slug,
            Description = category.Description,
            Parent = category.ParentId is { } parentId ? JsonSerializer.SerializeToElement(parentId) : null,
        },
        ApplyDescriptionAndParentAsync,
        ReservedSlug: "tree",
        writeLock: (TreeLock, _ => 0));

    /// <summary>
    /// Every write of a category holds it: a move checks the new parent's ancestors, a delete that no child is live, a
    /// create or restore that the parent is; two of them at once could each pass on what the other changes (a cycle, a
    /// live category under a deleted one).
    /// </summary>
    private const string TreeLock = "category-tree";

    /// <summary>
    /// The tree nests two JSON levels per category; the default depth limit (64) would turn a deep but legal
    /// tree into a 500, so the tree is written with a far larger one.
    /// </summary>
    private static readonly JsonSerializerOptions TreeJson = CreateTreeJson();

    public static IEndpointRouteBuilder MapCategories(this IEndpointRouteBuilder app)
    {
        var categories = app.MapGroup("/api/categories").WithTags("Categories");

        categories.MapGet("", ListCategories)
            .Documented("List categories", "Paged, flat; filter by name fragment or by parent (id, slug or 'root'); staff may add include_deleted=true.", 403);
        categories.MapGet("/tree", GetCategoryTree)
            .Produces<IReadOnlyList<CategoryNode>>()
            .Documented("The whole category tree", "Every live category nested under its parent; children ordered by name.");
        categories.MapGet("/{ref}", GetCategory)
            .Produces(StatusCodes.Status304NotModified)
            .Documented("Get a category by id or slug", "Answers with an ETag; If-None-Match with the current tag gives 304. Deleted categories are visible to staff only.", 404);

        var writes = categories.MapGroup("").RequireAuthorization(Policies.Staff);
        writes.MapPost("", CreateCategory)
            .ProducesETag()
            .Documented("Create a category", "parent is an id or slug of a live category, or null for top level; the tree has at most 30 levels (422 past them). The slug is generated from the name when absent. Staff or admin.", 409, 422);
        writes.MapPut("/{ref}", ReplaceCategory)
            .Documented("Replace a category", "Absent description and parent are cleared (parent_id is read as well); an absent slug keeps the current one. Moving a category under itself or one of its descendants, or past the tree's 30 levels, is 422. Honours If-Match.", 404, 409, 412, 422);
        writes.MapPatch("/{ref}", PatchCategory)
            .AcceptsMergePatch<CategoryRequest>()
            .Documented("Change some fields of a category", "JSON merge patch: only the fields present change; \"parent\": null moves it to the top level; \"slug\": null derives a new slug from the name. Honours If-Match.", 404, 409, 412, 422);
        writes.MapDelete("/{ref}", DeleteCategory)
            .Documented("Soft-delete a category", "Only a category without live subcategories can be deleted (409 otherwise). Honours If-Match.", 404, 409, 412);
        writes.MapPost("/{ref}/restore", RestoreCategory)
            .Documented("Undo a category's soft delete", "409 while its parent is deleted (restore the parent first). Honours If-Match.", 404, 409, 412);
        return app;
    }

    public static Task<Results<Ok<Paged<CategoryResponse>>, ValidationProblem, ProblemHttpResult>> ListCategories(
        [AsParameters] TaxonomyListQuery query,
        [AsParameters] CategoryParentQuery parent,
        [AsParameters] PageRequest paging,
        ListPager pager,
        CatalogCache cache,
        [AsParameters] RequestScope scope)
    {
        return Categories.ListAsync(scope, query, paging, pager, cache, UnderParent, "parent");

        // Only the direct subcategories of the parent named (among the rows the caller may see), or top-level ones for "root".
        async Task<(IQueryable<Category>?, ValidationProblem?)> UnderParent(IQueryable<Category> visible)
        {
            if (string.IsNullOrWhiteSpace(parent.Parent))
            {
                return (visible, null);
            }

            var given = parent.Parent.Trim();
            if (given.Equals("root", StringComparison.OrdinalIgnoreCase))
            {
                return (visible.Where(c => c.ParentId == null), null);
            }

            return await CatalogRows.FindAsync(visible, given, scope.Aborted) is { } found
                ? (visible.Where(c => c.ParentId == found.Id), null)
                : (null, Problems.Validation("parent", $"No category matches '{given}' (use an id, a slug or 'root')."));
        }
    }

    /// <summary>One query for every live category, assembled in memory: the tree is small next to its products.</summary>
    public static async Task<JsonHttpResult<IReadOnlyList<CategoryNode>>> GetCategoryTree(
        EmporiumDbContext db, CatalogCache cache, CancellationToken cancellationToken) =>
        TypedResults.Json(await cache.WholeAsync("category-tree", token => LoadTreeAsync(db, token), cancellationToken), TreeJson);

    private static async Task<IReadOnlyList<CategoryNode>> LoadTreeAsync(EmporiumDbContext db, CancellationToken cancellationToken)
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

        return Children(null);
    }

    public static Task<Results<Ok<CategoryResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetCategory(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Categories.GetAsync(scope, reference);

    public static Task<Results<Created<CategoryResponse>, ValidationProblem, ProblemHttpResult>> CreateCategory(
        CategoryRequest request, [AsParameters] RequestScope scope) =>
        Categories.CreateAsync(scope, request);

    public static Task<Results<Ok<CategoryResponse>, ValidationProblem, ProblemHttpResult>> ReplaceCategory(
        [FromRoute(Name = "ref")] string reference, CategoryRequest request, [AsParameters] RequestScope scope) =>
        Categories.ReplaceAsync(scope, reference, request);

    public static Task<Results<Ok<CategoryResponse>, ValidationProblem, ProblemHttpResult>> PatchCategory(
        [FromRoute(Name = "ref")] string reference, JsonElement patch, [AsParameters] RequestScope scope)
    {
        // parent_id is parent's alias: a patch that names only the alias moves the category as "parent" would.
        if (patch.ValueKind == JsonValueKind.Object && !patch.TryGetProperty("parent", out _) && patch.TryGetProperty("parent_id", out var alias))
        {
            var moved = JsonNode.Parse(patch.GetRawText())!.AsObject();
            moved["parent"] = JsonNode.Parse(alias.GetRawText());
            patch = JsonSerializer.SerializeToElement(moved);
        }

        return Categories.PatchAsync(scope, reference, patch);
    }

    /// <summary>Only a category without live subcategories goes, and that must still hold at the moment of the write.</summary>
    public static Task<Results<NoContent, ProblemHttpResult>> DeleteCategory(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Categories.DeleteAsync(
            scope,
            reference,
            still: c => !scope.Db.Set<Category>().Any(child => child.ParentId == c.Id && child.DeletedAt == null),
            refuse: async category => await LiveChildren(scope.Db, category.Id).CountAsync(scope.Aborted) is > 0 and var count
                ? HasChildren(category, count)
                : null);

    /// <summary>Not while its parent is deleted: a live category under a deleted one would be unreachable in the tree.</summary>
    public static Task<Results<Ok<CategoryResponse>, ProblemHttpResult>> RestoreCategory(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Categories.RestoreAsync(scope, reference, async category =>
        {
            var parent = category.ParentId is { } parentId
                ? await scope.Db.Set<Category>().AsNoTracking().Where(c => c.Id == parentId).Select(c => new { c.Slug, c.DeletedAt }).FirstOrDefaultAsync(scope.Aborted)
                : null;
            if (parent?.DeletedAt is not null)
            {
                return Problems.Conflict($"Its parent category '{parent.Slug}' is deleted; restore the parent first.");
            }

            // Its parent may have moved deeper while it was deleted.
            return category.ParentId is { } under && await CategoryTree.LevelAsync(scope.Db, under, scope.Aborted) + 1 > CategoryTree.MaxDepth
                ? Problems.Conflict($"Restored under its parent it would be past the tree's {CategoryTree.MaxDepth} levels; move the parent up first.")
                : null;
        });

    /// <summary>Description and parent; a parent that is missing, deleted or inside the category's own subtree refuses the write.</summary>
    private static async Task<IResult?> ApplyDescriptionAndParentAsync(
        EmporiumDbContext db, Category category, CategoryRequest request, ValidationErrors errors, CancellationToken cancellationToken)
    {
        Taxonomy.Description(request.Description, errors);
        var parent = ParseParent(request.Parent, request.ParentId, "parent", errors);
        var parentId = errors.IsEmpty ? await ResolveParentAsync(db, parent, errors, cancellationToken) : null;
        if (!errors.IsEmpty)
        {
            return null;
        }

        if (parentId is { } newParent && category.Id != 0 && newParent != category.ParentId
            && await WouldCycleAsync(db, category.Id, newParent, cancellationToken))
        {
            return Problems.OfField(
                StatusCodes.Status422UnprocessableEntity,
                "The category cannot move there.",
                "A category cannot be its own parent or sit under one of its own descendants.",
                "parent",
                "parent must not be the category itself or one of its descendants.");
        }

        if (parentId is { } under && under != category.ParentId
            && await CategoryTree.LevelAsync(db, under, cancellationToken) + 1
                + (category.Id == 0 ? 0 : await CategoryTree.HeightAsync(db, category.Id, cancellationToken)) > CategoryTree.MaxDepth)
        {
            return Problems.OfField(
                StatusCodes.Status422UnprocessableEntity,
                "The category cannot go there.",
                $"The tree has at most {CategoryTree.MaxDepth} levels, and the category (with its subcategories) would go past them there.",
                "parent",
                $"parent is too deep: the tree has at most {CategoryTree.MaxDepth} levels.");
        }

        category.Description = request.Description;
        category.ParentId = parentId;
        return null;
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

    private static IQueryable<Category> LiveChildren(EmporiumDbContext db, long id) =>
        db.Set<Category>().Where(c => c.ParentId == id && c.DeletedAt == null);

    private static ProblemHttpResult HasChildren(Category category, int count) =>
        Problems.Conflict(
            $"The category '{category.Slug}' still has {count} live subcategor{(count == 1 ? "y" : "ies")}; " +
            "delete or move them first.");

    private static JsonSerializerOptions CreateTreeJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { MaxDepth = 4096 };
        PlatformExtensions.ConfigureJson(options);
        return options;
    }
}
