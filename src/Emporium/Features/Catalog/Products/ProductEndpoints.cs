using Emporium.Features.Catalog.Categories;

namespace Emporium.Features.Catalog.Products;

public static partial class ProductEndpoints
{
    public static IEndpointRouteBuilder MapProducts(this IEndpointRouteBuilder app)
    {
        var products = app.MapGroup("/api/products").WithTags("Products");

        products.MapGet("", ListProducts)
            .Documented("List products", "Paged, filtered and sorted. Everyone sees active, non-deleted products; staff and admins also see " +
                "inactive ones, sellers their own inactive ones; both may ask for deleted ones (sellers: their own) " +
                "with include_deleted=true.", 401, 403);

        products.MapGet("/{ref}", GetProduct)
            .Produces(StatusCodes.Status304NotModified)
            .Documented("Get a product by id or slug", "Answers with an ETag; If-None-Match with the current ETag gives 304. Inactive and deleted products " +
                "are visible to staff and to the owning seller only (404 for everyone else).", 404);

        app.MapGet("/api/categories/{ref}/products", ListCategoryProducts)
            .WithTags("Products", "Categories")
            .Documented("List the products of a category", "Same filters, sort and paging as GET /api/products; include_descendants=true adds the " +
                "products of every subcategory.", 401, 403, 404);

        var writes = products.MapGroup("").RequireAuthorization(Policies.ManageProducts);

        writes.MapPost("", CreateProduct)
            .ProducesETag()
            .Documented("Create a product", "Staff, admin or seller. The caller becomes the owner. The slug is generated from the name when absent.", 409);

        writes.MapPut("/{ref}", ReplaceProduct)
            .Documented("Replace a product", "Every field is replaced: absent optional fields get their defaults (an absent slug is kept). " +
                "Staff and admins (any product) or the owning seller (others get 404). Honours If-Match (412 on mismatch).", 404, 409, 412);

        writes.MapPatch("/{ref}", PatchProduct)
            .AcceptsMergePatch<ProductRequest>()
            .Documented("Update some fields of a product (JSON merge patch)", "RFC 7396: only the fields present change; null clears description, brand or categories. " +
                "Staff and admins (any product) or the owning seller (others get 404). Honours If-Match (412 on mismatch).", 404, 409, 412);

        writes.MapDelete("/{ref}", DeleteProduct)
            .Documented("Soft-delete a product", "Sets deleted_at; the product disappears from public reads and can be restored. " +
                "Staff and admins (any product) or the owning seller (others get 404). Honours If-Match (412 on mismatch).", 404, 412);

        writes.MapPost("/{ref}/restore", RestoreProduct)
            .Documented("Undo a soft delete", "Staff and admins (any product) or the owning seller (others get 404).", 404, 412);

        return app;
    }

    public static Task<Results<Ok<Paged<ProductResponse>>, ValidationProblem, ProblemHttpResult>> ListProducts(
        [AsParameters] ProductQuery query, [AsParameters] PageRequest paging, [AsParameters] ProductListIncludes includes, [AsParameters] ProductLists lists) =>
        ListAsync(query, paging, within: null, lists, includes.Include);

    public static async Task<Results<Ok<Paged<ProductResponse>>, ValidationProblem, ProblemHttpResult>> ListCategoryProducts(
        [FromRoute(Name = "ref")] string categoryRef,
        [FromQuery(Name = "include_descendants"), System.ComponentModel.Description("true: also the products of every subcategory.")]
        string? includeDescendants,
        [AsParameters] ProductQuery query,
        [AsParameters] PageRequest paging,
        [AsParameters] ProductListIncludes includes,
        [AsParameters] ProductLists lists)
    {
        var (db, cancellationToken) = (lists.Db, lists.Aborted);
        var errors = new ValidationErrors();
        var descendants = ParseBool(includeDescendants, "include_descendants", errors) ?? false;
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var categoryId = await FindCategoryIdAsync(db, CatalogRef.Parse(categoryRef), cancellationToken);
        if (categoryId is not { } id)
        {
            return Problems.NotFound("Category");
        }

        var within = descendants ? CategoryTree.SubtreeIds(db, id) : db.Set<Category>().Where(c => c.Id == id).Select(c => c.Id);
        return await ListAsync(query, paging, within, lists, includes.Include);
    }

    public static async Task<Results<Ok<ProductResponse>, Utf8JsonResult, StatusCodeHttpResult, ProblemHttpResult>> GetProduct(
        [FromRoute(Name = "ref")] string productRef,
        HttpContext http,
        Caching.CatalogCache cache,
        ProductRendering rendering,
        CancellationToken cancellationToken)
    {
        var data = await cache.VisibleProductAsync(CatalogRef.Parse(productRef), http.User, http.RequestServices, cancellationToken);
        if (data is null)
        {
            return Problems.NotFound("Product");
        }

        var rendered = rendering.Of(data);
        ETags.Set(http.Response, rendered.ETag);
        return ETags.IfNoneMatchSatisfied(http.Request, rendered.ETag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : rendered.Body;
    }

    internal static IQueryable<Product> WhereRef(this IQueryable<Product> products, CatalogRef reference) =>
        reference.Id is { } id ? products.Where(p => p.Id == id) : products.Where(p => p.Slug == reference.Slug);

    private static async Task<long?> FindCategoryIdAsync(EmporiumDbContext db, CatalogRef reference, CancellationToken cancellationToken)
    {
        var categories = db.Set<Category>().Where(c => c.DeletedAt == null);
        categories = reference.Id is { } id ? categories.Where(c => c.Id == id) : categories.Where(c => c.Slug == reference.Slug);
        return await categories.Select(c => (long?)c.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>A deleted brand too: its products keep it and show it (as categories, deleted ones are not shown or filtered by).</summary>
    private static async Task<long?> FindBrandIdAsync(EmporiumDbContext db, CatalogRef reference, CancellationToken cancellationToken)
    {
        var brands = db.Set<Brand>().AsQueryable();
        brands = reference.Id is { } id ? brands.Where(b => b.Id == id) : brands.Where(b => b.Slug == reference.Slug);
        return await brands.Select(b => (long?)b.Id).FirstOrDefaultAsync(cancellationToken);
    }

    private static bool? ParseBool(string? value, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (bool.TryParse(value, out var parsed))
        {
            return parsed;
        }

        errors.Add(field, $"{field} must be true or false.");
        return null;
    }

    private static decimal? ParseDecimal(string? value, string field, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            errors.Add(field, $"{field} must be a number such as 19.99.");
            return null;
        }

        // No price lies beyond Money.Max, and SQLite compares in stored units that a larger amount would overflow; none is
        // negative either (the OpenAPI document says minimum 0, and a client generated from it refuses less).
        if (parsed < 0 || parsed > Money.Max)
        {
            errors.Add(field, $"{field} must be between 0 and {Money.Max.ToString("N0", CultureInfo.InvariantCulture)}.");
            return null;
        }

        return parsed;
    }
}
