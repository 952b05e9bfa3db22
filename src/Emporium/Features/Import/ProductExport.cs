using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;

namespace Emporium.Features.Import;

/// <summary>GET /api/products/export: the product list's filters, written as a CSV the importer reads back unchanged.</summary>
public static class ProductExport
{
    /// <summary>Exactly the importer's columns, in its documented order.</summary>
    public const string Header = "sku,name,description,price,currency,active,brand,categories";

    /// <summary>Rows per keyset query: memory stays at one batch whatever the catalog's size.</summary>
    public const int BatchSize = 1_000;

    private const string ContentType = "text/csv; charset=utf-8";

    public static IEndpointRouteBuilder MapProductExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/products/export", ExportProducts)
            .WithTags("Import")
            .RequireAuthorization(Policies.ManageProducts)
            .Produces<string>(StatusCodes.Status200OK, ContentType)
            .ProducesValidationProblem()
            .Documented("Export products as CSV", "Streams products.csv in the import format (sku,name,description,price,currency,active,brand,categories; brand "
                + "and categories as slugs, categories separated by |), ordered by id. Takes the same filters as GET /api/products "
                + "(sort and cursor do not apply). Cells starting with = + - @ tab or CR get a leading ' so spreadsheets do not "
                + "run them as formulas; the importer removes it, so re-importing the file changes nothing. Staff and admins export the "
                + "whole catalog, a seller only its own products (inactive ones included).");
        return app;
    }

    public static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ExportProducts(
        [AsParameters] ProductQuery query,
        HttpContext http,
        EmporiumDbContext db,
        IProductSearch search,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var (filter, denied) = await ProductEndpoints.ProductFilter.ResolveAsync(query, null, http.User, db, errors, cancellationToken);
        errors.When(!string.IsNullOrWhiteSpace(query.Sort), "sort", "The export is always ordered by id; leave sort out.");
        errors.When(!string.IsNullOrWhiteSpace(query.Cursor), "cursor", "The export has no pages; leave cursor out.");
        if (denied is not null)
        {
            return denied;
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
        return TypedResults.Stream(body => WriteAsync(products, body, http.RequestAborted), ContentType);
    }

    /// <summary>Header, then keyset batches by id (never the whole set in memory), each flushed to the response.</summary>
    private static async Task WriteAsync(IQueryable<Product>? products, Stream body, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true);
        writer.NewLine = "\r\n";
        await writer.WriteLineAsync(Header);
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
                    Categories = p.Categories.OrderBy(c => c.Slug).Select(c => c.Slug).ToList(),
                })
                .ToListAsync(cancellationToken);

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
                line.Append("\r\n");
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
