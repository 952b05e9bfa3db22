using System.Net;
using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Import;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Import;

public abstract class ProductExportTests(EmporiumApp app)
{
    private static string Unique() => Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Export_with_a_filter_returns_exactly_the_filtered_products_in_id_order_in_the_import_format()
    {
        var id = Unique();
        await CreateCategoryAsync($"shoes-{id}");
        var imported = await ImportAsync(
            "sku,name,description,price,active,brand,categories\r\n"
            + $"b1-{id},Boot {id},,12.5,true,Brand {id},shoes-{id}\r\n"
            + $"other-{id},Other {id},,1,true,,\r\n"
            + $"b2-{id},Slipper {id},,3,false,Brand {id},\r\n");
        imported.Counts.Created.Should().Be(3);

        var response = await (await StaffAsync()).GetAsync($"/api/products/export?brand=brand-{id.ToLowerInvariant()}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/csv; charset=utf-8");
        response.Content.Headers.ContentDisposition!.ToString().Should().Be("attachment; filename=products.csv");
        var text = await response.Content.ReadAsStringAsync();
        text.Should().Be(
            "sku,name,description,price,currency,active,brand,categories\r\n"
            + $"b1-{id},Boot {id},,12.50,USD,true,brand-{id},shoes-{id}\r\n"
            + $"b2-{id},Slipper {id},,3.00,USD,false,brand-{id},\r\n");
    }

    [Fact]
    public async Task Export_quotes_commas_quotes_and_line_breaks_and_neutralises_cells_that_look_like_formulas()
    {
        var id = Unique();
        await ImportAsync(
            "sku,name,description\r\n"
            + $"q-{id},\"Quoted, {id}\",\"Says \"\"hi\"\", twice\nand a second line\"\r\n"
            + $"f-{id},\"=SUM(1,2) {id}\",@cmd {id}\r\n");

        var text = await ExportAsync($"name={id}");

        text.Should().Contain($"q-{id},\"Quoted, {id}\",\"Says \"\"hi\"\", twice\nand a second line\",0.00,USD,true,,\r\n");
        text.Should().Contain($"f-{id},\"'=SUM(1,2) {id}\",'@cmd {id},0.00,USD,true,,\r\n");
    }

    [Fact]
    public async Task Export_then_reimport_of_the_same_file_reports_every_row_unchanged_and_keeps_every_value()
    {
        var id = Unique();
        await CreateCategoryAsync($"cat-{id}");
        await CreateCategoryAsync($"dog-{id}");
        var csv = new StringBuilder("sku,name,description,price,active,brand,categories\n");
        csv.Append($"eq-{id},\"=1+1 {id}\",\"-starts with a minus\r\nspans, \"\"lines\"\"\n\",19.99,true,Brand {id},cat-{id}|dog-{id}\n");
        csv.Append($"q-{id},''=kept quote {id},\"\ttab first\",0.5,false,,cat-{id}\n");
        csv.Append($"+plus-{id},@at {id},+plus,99999.99,true,Brand {id},\n");
        // More than one keyset batch.
        for (var i = 0; i < ProductExport.BatchSize + 5; i++)
        {
            csv.Append($"bulk-{i}-{id},Bulk {i} {id},,{i}.25,true,,\n");
        }

        var created = await ImportAsync(csv.ToString());
        created.Counts.Rejected.Should().Be(0, string.Join("; ", created.Rejections.Select(r => r.Reason)));
        var before = await SnapshotAsync(id);
        before.Should().HaveCount(ProductExport.BatchSize + 8);

        var exported = await ExportAsync($"name={id}");
        exported.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length.Should().BeGreaterThan(ProductExport.BatchSize + 8);
        var again = await ImportAsync(exported);

        again.Outcome.Should().Be(ImportOutcome.Completed);
        again.Counts.Should().Be(new ImportCounts(0, 0, ProductExport.BatchSize + 8, 0, 0));
        (await SnapshotAsync(id)).Should().Equal(before);
        before.Should().Contain(p => p.StartsWith($"eq-{id}|=1+1 {id}|-starts with a minus\r\nspans, \"lines\"\n|19.99|"));
        before.Should().Contain(p => p.StartsWith($"q-{id}|'=kept quote {id}|\ttab first|"));
    }

    [Fact]
    public async Task Products_written_through_the_API_export_and_import_again_unchanged_in_every_stored_field()
    {
        var id = Unique();
        await CreateCategoryAsync($"api-a-{id}");
        await CreateCategoryAsync($"api-b-{id}");
        var staff = await StaffAsync();
        var brand = await (await staff.PostJson("/api/brands", new { name = $"Api brand {id}" })).ShouldBe(HttpStatusCode.Created);
        object[] bodies =
        [
            new { sku = $"  pad-{id} ", name = $"  Padded {id}\t\r", description = "", price = 12.5m, currency = "EUR" },
            new { sku = $"yen-{id}", name = $"Yen {id}", description = "Ends with spaces   \r\n", price = 1500m, currency = "JPY", is_active = false },
            new
            {
                sku = $"tab-{id}", name = $"Tab\tinside {id}", description = " leading space, \"quotes\"\nand lines", price = 0.125m,
                currency = "KWD", brand = brand.Str("slug"), categories = new[] { $"api-b-{id}", $"api-a-{id}" },
            },
            new { sku = $"-minus-{id}", name = $"=formula {id}", description = "@at", price = 0m },
        ];
        foreach (var body in bodies)
        {
            await (await staff.PostJson("/api/products", body)).ShouldBe(HttpStatusCode.Created);
        }

        var before = await SnapshotAsync(id);
        before.Should().HaveCount(4);
        before.Should().Contain(p => p.StartsWith($"pad-{id}|Padded {id}||12.5|"), "the API trims SKU and name as the importer does");

        var again = await ImportAsync(await ExportAsync($"name={id}"));

        again.Counts.Should().Be(new ImportCounts(0, 0, 4, 0, 0), string.Join("; ", again.Rejections.Select(r => $"{r.Line}: {r.Reason}")));
        (await SnapshotAsync(id)).Should().Equal(before);
    }

    [Fact]
    public async Task Export_is_for_staff_anonymous_gets_401_and_a_customer_403()
    {
        (await app.Anonymous().GetAsync("/api/products/export")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var customer = await app.NewUserAsync(Roles.Customer);
        (await customer.Http.GetAsync("/api/products/export")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Export_rejects_bad_filters_with_400()
    {
        var response = await (await StaffAsync()).GetAsync("/api/products/export?min_price=abc&sort=name");
        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Export_refuses_deleted_products_since_importing_the_file_would_restore_them()
    {
        var problem = await (await (await StaffAsync()).GetAsync("/api/products/export?include_deleted=true")).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("include_deleted")[0].GetString().Should().Contain("restores");
    }

    [Fact]
    public async Task A_deleted_category_is_not_exported_so_the_file_imports_again()
    {
        var id = Unique();
        await CreateCategoryAsync($"kept-{id}");
        await CreateCategoryAsync($"gone-{id}");
        var staff = await StaffAsync();
        await (await staff.PostJson("/api/products", new { sku = $"two-{id}", name = $"Two cats {id}", price = 1m, categories = new[] { $"kept-{id}", $"gone-{id}" } }))
            .ShouldBe(HttpStatusCode.Created);
        (await staff.DeleteAsync($"/api/categories/gone-{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var exported = await ExportAsync($"name={id}");

        exported.Should().Contain($"kept-{id}").And.NotContain($"gone-{id}", "a product read does not show a deleted category either");
        var again = await ImportAsync(exported);
        again.Counts.Should().Be(new ImportCounts(0, 0, 1, 0, 0), string.Join("; ", again.Rejections.Select(r => r.Reason)));

        // The link to the deleted category, which the file could not show, is kept: restored, it holds the product again.
        (await staff.PostAsync($"/api/categories/gone-{id}/restore", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var product = (await (await staff.GetAsync($"/api/products?sku=two-{id}")).ShouldBe(HttpStatusCode.OK)).GetProperty("results")[0];
        product.GetProperty("categories").EnumerateArray().Select(c => c.Str("slug")).Should().BeEquivalentTo($"kept-{id}", $"gone-{id}");
    }

    [Fact]
    public async Task A_brand_deleted_since_its_products_were_linked_exports_and_imports_again_but_links_no_other_product()
    {
        var id = Unique();
        var staff = await StaffAsync();
        var brand = await (await staff.PostJson("/api/brands", new { name = $"Gone brand {id}" })).ShouldBe(HttpStatusCode.Created);
        await (await staff.PostJson("/api/products", new { sku = $"kept-{id}", name = $"Kept {id}", price = 1m, brand = brand.Str("slug") }))
            .ShouldBe(HttpStatusCode.Created);
        (await staff.DeleteAsync($"/api/brands/{brand.Str("slug")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var exported = await ExportAsync($"name={id}");
        exported.Should().Contain(brand.Str("slug"), "a product read still shows the brand it keeps");
        var again = await ImportAsync(exported);
        again.Counts.Should().Be(new ImportCounts(0, 0, 1, 0, 0), string.Join("; ", again.Rejections.Select(r => r.Reason)));

        // As in the API: a product may keep such a brand, but no product is newly linked to it.
        var other = await ImportAsync($"sku,name,price,brand\nnew-{id},New {id},1,{brand.Str("slug")}\n");
        other.Counts.Rejected.Should().Be(1);
        other.Rejections.Single().Reason.Should().Contain("is deleted");
    }

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    private async Task<string> ExportAsync(string filter)
    {
        var response = await (await StaffAsync()).GetAsync($"/api/products/export?{filter}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<ImportResult> ImportAsync(string csv)
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<CatalogImporter>().ImportAsync(stream, new ImportOptions());
    }

    private Task<int> CreateCategoryAsync(string slug) => app.WithDbAsync(async db =>
    {
        var now = DateTime.UtcNow;
        db.Add(new Category { Name = slug, Slug = slug, CreatedAt = now, UpdatedAt = now });
        await db.SaveChangesAsync();
        return 0;
    });

    /// <summary>Every stored value of the products whose name contains <paramref name="id"/>, version and timestamps included.</summary>
    private Task<List<string>> SnapshotAsync(string id) => app.WithDbAsync(async db =>
    {
        var rows = await db.Set<Product>().AsNoTracking()
            .Where(p => p.Name.Contains(id))
            .OrderBy(p => p.Id)
            .Select(p => new
            {
                p.Sku, p.Name, p.Description, p.Price, p.Currency, p.IsActive, p.Slug, p.OwnerId, p.Version, p.CreatedAt, p.UpdatedAt,
                p.DeletedAt, Brand = p.Brand == null ? null : p.Brand.Slug,
                Categories = p.Categories.OrderBy(c => c.Slug).Select(c => c.Slug).ToList(),
            })
            .ToListAsync();
        return rows.ConvertAll(r => string.Join('|',
            r.Sku, r.Name, r.Description, r.Price.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture), r.Currency, r.IsActive,
            r.Slug, r.OwnerId, r.Version, r.CreatedAt.ToString("O"), r.UpdatedAt.ToString("O"), r.DeletedAt, r.Brand, string.Join(',', r.Categories)));
    });
}

public sealed class ProductExportTestsOnSqlite(SqliteApp app) : ProductExportTests(app), IClassFixture<SqliteApp>;

public sealed class ProductExportTestsOnPostgres(PostgresApp app) : ProductExportTests(app), IClassFixture<PostgresApp>;
