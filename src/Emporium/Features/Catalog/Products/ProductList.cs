using Emporium.Features.Catalog.Categories;

namespace Emporium.Features.Catalog.Products;

public static partial class ProductEndpoints
{
    private static readonly string[] SortKeys =
        ["name", "-name", "price", "-price", "created_at", "-created_at", "updated_at", "-updated_at"];

    /// <summary>
    /// The list behind GET /api/products and GET /api/categories/{ref}/products (<paramref name="within"/>:
    /// the category ids whose products qualify). The page with brand and categories projected in, and the count when the
    /// page alone cannot tell it (a full first page, later pages, searches).
    /// </summary>
    private static async Task<Results<Ok<Paged<ProductResponse>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        ProductQuery query,
        PageRequest paging,
        IQueryable<long>? within,
        ProductLists lists,
        string? include)
    {
        var (http, db, search, options, counter, media, cancellationToken) = lists;
        var user = http.User;
        var errors = new ValidationErrors();
        var page = Pager.Resolve(paging, options, errors);
        var (filter, denied) = await ProductFilter.ResolveAsync(query, within, user, db, errors, cancellationToken);
        var sort = string.IsNullOrWhiteSpace(query.Sort) ? "-created_at" : query.Sort.Trim().ToLowerInvariant();
        errors.When(!SortKeys.Contains(sort), "sort", $"sort must be one of {string.Join(", ", SortKeys)}.");
        var cursor = ProductCursor.Parse(query.Cursor, sort, errors);
        var thumbnails = false;
        foreach (var part in (include ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            thumbnails |= part == "thumbnail";
            errors.When(part != "thumbnail", "include", $"include takes 'thumbnail', not '{part}'.");
        }

        errors.When(cursor is not null && !string.IsNullOrWhiteSpace(paging.Page), "cursor", "Send either page or cursor, not both.");
        if (denied is not null)
        {
            return denied;
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var searching = !string.IsNullOrWhiteSpace(query.Search);
        if (searching && SearchTerms.Parse(query.Search).Count == 0)
        {
            // Nothing searchable (only punctuation): no product can match, and that is not an error.
            return TypedResults.Ok(Pager.Create<ProductResponse>(http.Request, page, 0, [], options.MaxPageSize));
        }

        IQueryable<Product> Filtered(IQueryable<Product> source) => filter!.Apply(source);

        var products = Filtered(searching ? search.Matching(query.Search!, few: true, filter!.IncludesDeleted) : db.Set<Product>());
        // A search's count picks its plan, and a later page's count may show it is past the end: those count first. A first
        // page counts only when it is full (one that is not is the whole list).
        PageCount? counted = null;
        if (searching || cursor is not null || page.Skip > 0)
        {
            var count = await counter.CountAsync(products, cancellationToken);
            if (cursor is null && count.Exact && count.Value <= page.Skip)
            {
                return TypedResults.Ok(Pager.Create<ProductResponse>(http.Request, page, count, [], options.MaxPageSize));
            }

            if (searching && count.Value > FewMatches)
            {
                products = Filtered(search.Matching(query.Search!, few: false, filter!.IncludesDeleted));
            }

            counted = count;
        }

        // One row more than the page says whether another page follows in the reading direction.
        var window = cursor is null
            ? Sorted(products, sort).Skip(page.Skip)
            : Sorted(cursor.Apply(products), cursor.ReadingSort);
        var rows = await window.Take(page.PageSize + 1).Select(ProductRow.Projection).ToListAsync(cancellationToken);
        var more = rows.Count > page.PageSize;
        var total = counted ?? (more ? await counter.CountAsync(products, cancellationToken) : new PageCount(rows.Count, Exact: true));
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var backward = cursor is { Backward: true };
        if (backward)
        {
            rows.Reverse();
        }

        var items = rows.ConvertAll(row => row.ToResponse());
        if (thumbnails)
        {
            var found = await Images.ImageReads.FirstThumbnailsAsync(db, media, rows.ConvertAll(r => r.Id), cancellationToken);
            items = items.ConvertAll(item => found.TryGetValue(item.Id, out var thumbnail) ? item with { Thumbnail = thumbnail } : item);
        }

        var number = cursor?.Page ?? page.Page;
        var hasNext = rows.Count > 0 && (backward || more);
        var hasPrevious = rows.Count > 0 && (backward ? more : number > 1);
        return TypedResults.Ok(Pager.CreateWithCursors(
            http.Request,
            page with { Page = number },
            total,
            items,
            hasNext ? ProductCursor.After(sort, rows[^1], number + 1).Encode() : null,
            // Rows added ahead of the pages since the client started can leave more to read back from page 1: that link is
            // page 1 again (a page number below 1 is no cursor at all).
            hasPrevious ? ProductCursor.Before(sort, rows[0], Math.Max(number - 1, 1)).Encode() : null,
            options.MaxPageSize));
    }

    /// <summary>
    /// The list's filters (everything in <see cref="ProductQuery"/> but search, sort and paging), shared with the CSV
    /// export so both select the same products. Invalid values go to the caller's <see cref="ValidationErrors"/>;
    /// <c>Denied</c> is the 401/403 for a filter the caller may not use.
    /// </summary>
    internal sealed class ProductFilter
    {
        private ProductQuery _query = null!;
        private IQueryable<long>? _within;
        private ClaimsPrincipal _user = null!;
        private EmporiumDbContext _db = null!;
        private bool? _active;
        private bool _includeDeleted;
        private decimal? _minPrice;
        private decimal? _maxPrice;
        private long? _ownerId;
        private long? _brandId;
        private long? _categoryId;

        public static async Task<(ProductFilter? Filter, ProblemHttpResult? Denied)> ResolveAsync(
            ProductQuery query,
            IQueryable<long>? within,
            ClaimsPrincipal user,
            EmporiumDbContext db,
            ValidationErrors errors,
            CancellationToken cancellationToken)
        {
            var filter = new ProductFilter { _query = query, _within = within, _user = user, _db = db };
            filter._active = ParseBool(query.Active, "active", errors);
            filter._includeDeleted = ParseBool(query.IncludeDeleted, "include_deleted", errors) ?? false;
            // Prices are stored at Money.StoredDecimals places, so a bound with more is the nearest stored amount inside it:
            // the same products on both databases (SQLite compared rounded stored units, PostgreSQL the exact bound).
            // A range inside one stored step (1.00001 to 1.00009) selects nothing rather than reading as crossed bounds.
            var (min, max) = (ParseDecimal(query.MinPrice, "min_price", errors), ParseDecimal(query.MaxPrice, "max_price", errors));
            errors.When(min > max, "min_price", "min_price must not be greater than max_price.");
            filter._minPrice = min is { } low ? Money.Inward(low, MidpointRounding.ToPositiveInfinity) : null;
            filter._maxPrice = max is { } high ? Money.Inward(high, MidpointRounding.ToNegativeInfinity) : null;

            var ownerIsMe = false;
            if (!string.IsNullOrWhiteSpace(query.Owner))
            {
                if (query.Owner.Equals("me", StringComparison.OrdinalIgnoreCase))
                {
                    ownerIsMe = true;
                    filter._ownerId = user.UserId();
                }
                else if (long.TryParse(query.Owner, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    filter._ownerId = id;
                }
                else
                {
                    errors.Add("owner", "owner must be 'me' or a user id.");
                }
            }

            if (ownerIsMe && filter._ownerId is null)
            {
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Authentication required.",
                    detail: "owner=me lists the caller's own products; send an access token."));
            }

            if (filter._includeDeleted && !user.MaySeeDeleted())
            {
                return (null, user.UserId() is null
                    ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Authentication required.",
                        detail: "include_deleted=true is for staff and sellers; send an access token.")
                    : TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                        detail: "Only staff (any product) and sellers (their own) may list deleted products."));
            }

            if (!string.IsNullOrWhiteSpace(query.Brand))
            {
                filter._brandId = await FindBrandIdAsync(db, CatalogRef.Parse(query.Brand.Trim()), cancellationToken);
                errors.When(filter._brandId is null, "brand", $"No brand '{query.Brand}' exists.");
            }

            if (!string.IsNullOrWhiteSpace(query.Category))
            {
                filter._categoryId = await FindCategoryIdAsync(db, CatalogRef.Parse(query.Category.Trim()), cancellationToken);
                errors.When(filter._categoryId is null, "category", $"No category '{query.Category}' exists.");
            }

            return (filter, null);
        }

        /// <summary>Staff or a seller asked for deleted products too (include_deleted=true).</summary>
        public bool IncludesDeleted => _includeDeleted && _user.MaySeeDeleted();

        public IQueryable<Product> Apply(IQueryable<Product> source)
        {
            var query = _query;
            var within = _within;
            var db = _db;
            var products = source.AsNoTracking().VisibleTo(_user, IncludesDeleted);

            if (within is not null)
            {
                products = products.Where(p => p.Categories.Any(c => within.Contains(c.Id)));
            }

            if (!string.IsNullOrWhiteSpace(query.Sku))
            {
                var key = Product.KeyOf(query.Sku);
                products = products.Where(p => p.SkuKey == key);
            }

            if (_active is { } isActive)
            {
                products = products.Where(p => p.IsActive == isActive);
            }

            if (!string.IsNullOrEmpty(query.Name))
            {
                var pattern = ContainsPattern(query.Name);
                products = products.Where(p => EF.Functions.Like(p.Name.ToLower(), pattern, LikeEscape));
            }

            if (!string.IsNullOrEmpty(query.Description))
            {
                var pattern = ContainsPattern(query.Description);
                products = products.Where(p => p.Description != null && EF.Functions.Like(p.Description.ToLower(), pattern, LikeEscape));
            }

            if (_minPrice is { } min)
            {
                products = products.Where(p => p.Price >= min);
            }

            if (_maxPrice is { } max)
            {
                products = products.Where(p => p.Price <= max);
            }

            if (_brandId is { } brand)
            {
                products = products.Where(p => p.BrandId == brand);
            }

            if (_categoryId is { } category)
            {
                var subtree = CategoryTree.SubtreeIds(db, category);
                products = products.Where(p => p.Categories.Any(c => subtree.Contains(c.Id)));
            }

            if (_ownerId is { } owner)
            {
                products = products.Where(p => p.OwnerId == owner);
            }

            return products;
        }
    }

    private const string LikeEscape = "\\";

    /// <summary>Up to this many search matches, the page is taken from the matches gathered first.</summary>
    private const int FewMatches = 5_000;

    /// <summary>A LIKE pattern for "contains", lower-cased (matching lower(column), which the trigram index covers).</summary>
    private static string ContainsPattern(string text) =>
        "%" + text.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    /// <summary>The id breaks ties in the same direction, so pages are stable and each sort walks one (column, id) index.</summary>
    private static IQueryable<Product> Sorted(IQueryable<Product> products, string sort) => sort switch
    {
        "name" => products.OrderBy(p => p.Name).ThenBy(p => p.Id),
        "-name" => products.OrderByDescending(p => p.Name).ThenByDescending(p => p.Id),
        "price" => products.OrderBy(p => p.Price).ThenBy(p => p.Id),
        "-price" => products.OrderByDescending(p => p.Price).ThenByDescending(p => p.Id),
        "created_at" => products.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
        "updated_at" => products.OrderBy(p => p.UpdatedAt).ThenBy(p => p.Id),
        "-updated_at" => products.OrderByDescending(p => p.UpdatedAt).ThenByDescending(p => p.Id),
        _ => products.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id),
    };
}

/// <summary>What a product list needs besides its query and paging: the caller, the database, search, limits, the pager and media URLs.</summary>
public readonly record struct ProductLists(
    HttpContext Http, EmporiumDbContext Db, IProductSearch SearchIndex, PagingOptions Limits, ListPager Pager, Images.MediaUrls Media, CancellationToken Aborted);

/// <summary>What a product list may add to each item.</summary>
public sealed record ProductListIncludes(
    [FromQuery(Name = "include")]
    [property: Description("thumbnail: each item carries its first ready image's smallest rendition (one query for the whole page).")]
    string? Include);
