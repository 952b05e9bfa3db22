using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Jobs;

namespace Emporium.Features.Import;

/// <summary>Exactly one of the three selectors.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record BulkDeleteRequest
{
    [Description("true: every product the caller may delete (staff and admins: all; a seller: its own).")]
    public bool? All { get; init; }

    [Description("SKUs to delete, any case; at most BulkDelete:MaxSkus (10,000). SKUs not found are counted in the result, not errors.")]
    public IReadOnlyList<string?>? Skus { get; init; }

    [Description("The filters of GET /api/products; at least one field.")]
    public BulkDeleteFilter? Filter { get; init; }
}

/// <summary>The product list's filter fields (GET /api/products), as JSON; sort, paging and include_deleted do not apply.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record BulkDeleteFilter(
    [property: Description("Exact SKU, any case.")] string? Sku = null,
    [property: Description("true or false.")] bool? Active = null,
    [property: Description("Part of the name, any case.")] string? Name = null,
    [property: Description("Part of the description, any case.")] string? Description = null,
    [property: Description("Lowest price, inclusive.")] decimal? MinPrice = null,
    [property: Description("Highest price, inclusive.")] decimal? MaxPrice = null,
    [property: Description("Brand id or slug.")] string? Brand = null,
    [property: Description("Category id or slug; products of its subcategories are included.")] string? Category = null,
    [property: Description("'me' or a user id.")] string? Owner = null,
    [property: Description("Words to find in the SKU, name or description; each word matches as a prefix.")] string? Search = null)
{
    internal bool IsEmpty =>
        string.IsNullOrWhiteSpace(Sku) && Active is null && string.IsNullOrEmpty(Name) && string.IsNullOrEmpty(Description)
        && MinPrice is null && MaxPrice is null && string.IsNullOrWhiteSpace(Brand) && string.IsNullOrWhiteSpace(Category)
        && string.IsNullOrWhiteSpace(Owner) && string.IsNullOrWhiteSpace(Search);

    /// <summary>The same values as the list's query string, so the list's own filter code resolves them.</summary>
    internal ProductQuery ToQuery() => new(
        Sku,
        Active is { } active ? (active ? "true" : "false") : null,
        Name,
        Description,
        MinPrice?.ToString(CultureInfo.InvariantCulture),
        MaxPrice?.ToString(CultureInfo.InvariantCulture),
        Brand,
        Category,
        Owner,
        Search,
        Sort: null,
        IncludeDeleted: null,
        Cursor: null);
}

public static class BulkDeleteEndpoints
{
    private static readonly string[] Selectors = ["all", "skus", "filter"];

    public static IEndpointRouteBuilder MapBulkDelete(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/products/bulk_delete", BulkDeleteProducts)
            .WithTags("Import")
            .RequireAuthorization(Policies.ManageProducts)
            .ProducesValidationProblem()
            .Documented("Soft-delete many products in the background", "Send exactly one of {\"all\": true}, {\"skus\": [...]} (any case, at most BulkDelete:MaxSkus) or "
                + "{\"filter\": {...}} (the filters of GET /api/products). Answers 202 with a catalog.bulk_delete job that soft-deletes "
                + "in batches with progress. It deletes the products that existed when the request was accepted and still match "
                + "when the job reaches them; products created later are never swept. Staff and admins delete any product, a seller "
                + "only its own (another owner's SKU counts as not found). The result counts deleted, already deleted and not found SKUs (with a sample); deleted products can be "
                + "restored one by one with POST /api/products/{ref}/restore. Emits bulk_delete.completed. Staff, admin or seller.");
        return app;
    }

    public static async Task<Results<Accepted<JobAccepted>, ValidationProblem, ProblemHttpResult>> BulkDeleteProducts(
        BulkDeleteRequest request,
        HttpContext http,
        EmporiumDbContext db,
        IJobQueue queue,
        ICommittedProductIds committed,
        TimeProvider clock,
        IOptions<BulkDeleteSettings> settings,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var given = Selectors.Where((_, i) => i switch { 0 => request.All is not null, 1 => request.Skus is not null, _ => request.Filter is not null })
            .ToList();
        if (given.Count != 1)
        {
            var message = given.Count == 0
                ? "Send exactly one of all, skus or filter."
                : $"Send exactly one of all, skus or filter, not {string.Join(" and ", given)}.";
            foreach (var field in given.Count == 0 ? Selectors : [.. given])
            {
                errors.Add(field, message);
            }

            return errors.ToProblem();
        }

        errors.When(request.All == false, "all", "all must be true; to delete some products send skus or filter instead.");
        var skus = request.Skus is { } list ? CheckSkus(list, settings.Value.MaxSkus, errors) : null;
        if (request.Filter is { } filter)
        {
            if (filter.IsEmpty)
            {
                errors.Add("filter", "Give at least one filter field; to delete every product send {\"all\": true}.");
            }
            else
            {
                var filterErrors = new ValidationErrors();
                var (_, denied) = await ProductEndpoints.ProductFilter.ResolveAsync(filter.ToQuery(), null, http.User, db, filterErrors, cancellationToken);
                if (denied is not null)
                {
                    return denied;
                }

                foreach (var (field, messages) in filterErrors.ToDictionary())
                {
                    foreach (var message in messages)
                    {
                        errors.Add($"filter.{field}", message);
                    }
                }
            }
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        // The set is bounded now: products created after this request (a higher id) are never swept. Not created_at: it is
        // the clock of whichever process wrote the product, and on PostgreSQL a lower id may still be on its way to commit.
        var maxId = await committed.HighestAsync(cancellationToken);
        var scope = CatalogScope.Of(http.User);
        var payload = new BulkDeleteJobHandler.Payload(
            scope.UserId ?? 0,
            scope.OwnProductsOnly,
            clock.GetUtcNow().UtcDateTime,
            maxId,
            request.All == true,
            skus,
            request.Filter);
        var job = queue.Enqueue(BulkDeleteJobHandler.KindName, payload, requestedBy: scope.UserId);
        await db.SaveChangesAsync(cancellationToken);
        return JobAccepted.For(job);
    }

    /// <summary>Trimmed SKUs in the order sent, each SKU key once (the first spelling is kept for the not-found sample).</summary>
    private static List<string>? CheckSkus(IReadOnlyList<string?> list, int max, ValidationErrors errors)
    {
        if (list.Count == 0)
        {
            errors.Add("skus", "List at least one SKU.");
            return null;
        }

        if (list.Count > max)
        {
            errors.Add("skus", $"At most {max.ToString("N0", CultureInfo.InvariantCulture)} SKUs per request (BulkDelete:MaxSkus); "
                + "split the list, or delete by filter.");
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var skus = new List<string>(list.Count);
        var blank = 0;
        for (var i = 0; i < list.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(list[i]))
            {
                // A few positions are enough to find the mistake; a list of thousands of messages helps nobody.
                if (blank++ < 10)
                {
                    errors.Add("skus", $"skus[{i}] is empty.");
                }

                continue;
            }

            var sku = list[i]!.Trim();
            if (seen.Add(Product.KeyOf(sku)))
            {
                skus.Add(sku);
            }
        }

        return skus;
    }
}
