using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Import;

/// <summary>GET /api/products/export: the product list's filters, written as a CSV the importer reads back unchanged.</summary>
public static class ProductExport
{
    /// <summary>Exactly the importer's columns, in its documented order.</summary>
    public const string Header = "sku,name,description,price,currency,active,brand,categories";

    /// <summary>The variant columns (decision 0016), written after <see cref="Header"/> when the exported products have variants.</summary>
    public const string VariantHeader = "product_sku";

    /// <summary>Rows per keyset query: memory stays at one batch whatever the catalog's size.</summary>
    public const int BatchSize = 1_000;

    private const string ContentType = "text/csv; charset=utf-8";

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IEndpointRouteBuilder MapProductExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/products/export", ExportProducts)
            .WithTags("Import")
            .RequireAuthorization(Policies.ManageProducts)
            .Produces<string>(StatusCodes.Status200OK, ContentType)
            .ProducesValidationProblem()
            .Documented("Export products as CSV", "Streams products.csv in the import format (sku,name,description,price,currency,active,brand,categories; brand "
                + "and categories as slugs, categories separated by |), ordered by id. When the exported products have variants beside their "
                + "default one, a product_sku column and one attribute:{slug} column per attribute in use follow, and each product's row is "
                + "followed by one row per variant (its SKU, its own price, its product's SKU, its values). include=stock adds a stock column "
                + "(the level when the file was written: importing it later sets the levels back to it). Takes the same filters as "
                + "GET /api/products but sort, cursor and include_deleted (the file is ordered by id, has no pages and holds live products only, since importing a deleted product restores it: each is 400). Cells starting with = + - @ tab or CR get a leading ' so spreadsheets do not "
                + "run them as formulas; the importer removes it, so re-importing the file changes nothing. Staff and admins export the "
                + "whole catalog, a seller only its own products (inactive ones included).");
        return app;
    }

    public static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ExportProducts(
        [AsParameters] ProductQuery query,
        [FromQuery(Name = "include"), Description("stock: add each product's and variant's stock level as a stock column.")] string? include,
        HttpContext http,
        EmporiumDbContext db,
        IProductSearch search,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var (filter, denied) = await ProductEndpoints.ProductFilter.ResolveAsync(query, null, http.User, db, errors, cancellationToken);
        errors.When(!string.IsNullOrWhiteSpace(query.Sort), "sort", "The export is always ordered by id; leave sort out.");
        errors.When(!string.IsNullOrWhiteSpace(query.Cursor), "cursor", "The export has no pages; leave cursor out.");
        // The file has no column that says deleted: importing it would bring every deleted product back.
        errors.When(!string.IsNullOrWhiteSpace(query.IncludeDeleted) && !query.IncludeDeleted.Trim().Equals("false", StringComparison.OrdinalIgnoreCase), "include_deleted",
            "The export holds live products only (importing a deleted product restores it); leave include_deleted out.");
        if (denied is not null)
        {
            return denied;
        }

        var withStock = false;
        if (include?.Trim() is { Length: > 0 } includeText)
        {
            withStock = includeText.Equals("stock", StringComparison.OrdinalIgnoreCase);
            errors.When(!withStock, "include", "include may only be stock.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        IQueryable<Product>? products = null;
        if (string.IsNullOrWhiteSpace(query.Search))
        {
            products = filter!.Apply(db.Set<Product>()).ChangeableBy(http.User);
        }
        else if (SearchTerms.Parse(query.Search).Count > 0)
        {
            products = filter!.Apply(search.Matching(query.Search, few: false, filter.IncludesDeleted)).ChangeableBy(http.User);
        }

        // Set here rather than through the result's download name, which would add a filename* parameter as well.
        http.Response.Headers.ContentDisposition = "attachment; filename=products.csv";
        var layout = products is null ? new Layout([], false, withStock) : await Layout.OfAsync(db, products, withStock, cancellationToken);
        return TypedResults.Stream(body => WriteAsync(db, products, layout, body, http.RequestAborted), ContentType);
    }

    /// <summary>
    /// The columns after <see cref="Header"/>: product_sku and the attribute:{slug} columns of the attributes the exported
    /// products' variants use, when any has a variant beside its default one; stock when asked for. A catalog without
    /// variants exports exactly as before.
    /// </summary>
    private sealed record Layout(IReadOnlyList<string> Attributes, bool Variants, bool Stock)
    {
        public static async Task<Layout> OfAsync(EmporiumDbContext db, IQueryable<Product> products, bool stock, CancellationToken cancellationToken)
        {
            var variants = db.Set<Variant>().Where(v => v.DeletedAt == null && products.Any(p => p.Id == v.ProductId));
            if (!await variants.AnyAsync(v => !v.IsDefault, cancellationToken))
            {
                return new Layout([], false, stock);
            }

            var attributes = await db.Set<ProductAttribute>()
                .Where(a => db.Set<VariantValue>().Any(vv => vv.AttributeId == a.Id && variants.Any(v => v.Id == vv.VariantId)))
                .OrderBy(a => a.Slug).Select(a => a.Slug).ToListAsync(cancellationToken);
            return new Layout(attributes, true, stock);
        }

        public string Header => ProductExport.Header
            + (Variants ? "," + VariantHeader + string.Concat(Attributes.Select(slug => "," + ImportHeader.AttributePrefix + slug)) : "")
            + (Stock ? ",stock" : "");

        /// <summary>Appends the variant and stock cells of one row.</summary>
        public void AppendCells(StringBuilder line, string productSku, IReadOnlyDictionary<string, string> values, int? onHand)
        {
            if (Variants)
            {
                CsvCells.Append(line.Append(','), productSku);
                foreach (var slug in Attributes)
                {
                    CsvCells.Append(line.Append(','), values.GetValueOrDefault(slug) ?? "");
                }
            }

            if (Stock)
            {
                line.Append(',').Append(onHand?.ToString(CultureInfo.InvariantCulture) ?? "");
            }
        }
    }

    /// <summary>Header, then keyset batches by id (never the whole set in memory), each flushed to the response.</summary>
    private static async Task WriteAsync(EmporiumDbContext db, IQueryable<Product>? products, Layout layout, Stream body, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true);
        writer.NewLine = "\r\n";
        await writer.WriteLineAsync(layout.Header);
        var line = new StringBuilder();
        var last = 0L;
        while (products is not null)
        {
            var after = last;
            var batch = await products
                .Where(p => p.Id > after)
                .OrderBy(p => p.Id)
                .Take(BatchSize)
                .Select(p => new
                {
                    p.Id,
                    p.Sku,
                    p.Name,
                    p.Description,
                    p.Price,
                    p.Currency,
                    p.IsActive,
                    Brand = p.Brand == null ? null : p.Brand.Slug,
                    // Live ones, as a product read shows them: a deleted category's slug would make the row refused on import.
                    Categories = p.Categories.Where(c => c.DeletedAt == null).OrderBy(c => c.Slug).Select(c => c.Slug).ToList(),
                })
                .ToListAsync(cancellationToken);
            var ids = batch.ConvertAll(p => p.Id);
            var variants = layout.Variants || layout.Stock
                ? (await db.Set<Variant>().AsNoTracking()
                    .Where(v => EF.Parameter(ids).Contains(v.ProductId) && v.DeletedAt == null)
                    .OrderBy(v => v.Id)
                    .Select(v => new
                    {
                        v.ProductId,
                        v.IsDefault,
                        v.Sku,
                        v.Price,
                        v.OnHand,
                        Values = v.Values.Select(x => new { Attribute = x.Attribute!.Slug, Value = x.Value!.Slug }).ToList(),
                    })
                    .ToListAsync(cancellationToken)).ToLookup(v => v.ProductId)
                : null;

            foreach (var row in batch)
            {
                line.Clear();
                CsvCells.Append(line, row.Sku).Append(',');
                CsvCells.Append(line, row.Name).Append(',');
                CsvCells.Append(line, row.Description ?? "").Append(',');
                CsvCells.Append(line, Money.Format(row.Price, row.Currency)).Append(',');
                CsvCells.Append(line, row.Currency).Append(',');
                CsvCells.Append(line, row.IsActive ? "true" : "false").Append(',');
                CsvCells.Append(line, row.Brand ?? "").Append(',');
                CsvCells.Append(line, string.Join('|', row.Categories));
                var own = variants?[row.Id].ToList() ?? [];
                var standard = own.Find(v => v.IsDefault);
                layout.AppendCells(line, "", Empty, standard?.OnHand);
                line.Append("\r\n");
                foreach (var variant in own.Where(v => !v.IsDefault && layout.Variants))
                {
                    // A variant row: its SKU, its own price (empty: the product's), the product's SKU and its values.
                    CsvCells.Append(line, variant.Sku).Append(",,,");
                    line.Append(variant.Price is { } price ? Money.Format(price, row.Currency) : "").Append(",,,,");
                    layout.AppendCells(line, row.Sku, variant.Values.ToDictionary(v => v.Attribute, v => v.Value, StringComparer.Ordinal), variant.OnHand);
                    line.Append("\r\n");
                }

                await writer.WriteAsync(line, cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
            if (batch.Count < BatchSize)
            {
                break;
            }

            last = batch[^1].Id;
        }
    }
}
