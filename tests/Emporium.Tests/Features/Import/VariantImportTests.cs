using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog.Variants;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Import;

/// <summary>The CSV's optional variant columns: product_sku, stock and attribute:{slug} (issue 14, decision 0016).</summary>
public abstract class VariantImportTests(EmporiumApp app)
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    private static JsonElement Counts(JsonElement job) => job.GetProperty("result");

    [Fact]
    public async Task Variant_rows_of_a_rejected_product_row_point_at_that_row()
    {
        // They said "no product has the SKU": users looked for a typo in the variant rows, not at the product's bad price.
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var size = (await (await staff.PostJson("/api/attributes", new
        {
            name = $"Size {t}", values = new[] { new { name = "S", slug = "s" } },
        })).ShouldBe(HttpStatusCode.Created)).Str("slug");
        var header = $"sku,name,price,product_sku,stock,attribute:{size}\r\n";
        await Uploads.ImportAsync(staff, Uploads.Raw(header + $"TEE-{t},Tee {t},20,,5,\r\nTEE-{t}-S,,,TEE-{t},3,s\r\n"));
        var csv = header +
            $"CAP-{t},Cap {t},-3,,5,\r\n" + // refused as it is read
            $"TEE-{t}-S,Taken {t},5,,5,\r\n" + // refused by the look-up: a variant of another product holds the SKU
            $"CAP-{t}-S,,,cap-{t},3,s\r\n" +
            $"TEE-{t}-S-S,,,TEE-{t}-S,3,s\r\n" +
            $"HAT-{t}-S,,,HAT-{t},1,s\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        Counts(job).GetProperty("rejected").GetInt32().Should().Be(5);
        var errors = await (await staff.GetAsync(Counts(job).Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Should().Contain($"line 4, column product_sku: the row of the product 'cap-{t}' (line 2) was rejected")
            .And.Contain($"line 5, column product_sku: the row of the product 'TEE-{t}-S' (line 3) was rejected")
            .And.Contain($"line 6, column product_sku: no product has the SKU 'HAT-{t}'");
    }

    [Fact]
    public async Task Variant_rows_follow_their_product_with_attribute_values_prices_and_stock()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var size = (await (await staff.PostJson("/api/attributes", new
        {
            name = $"Size {t}", values = new[] { new { name = "S", slug = "s" }, new { name = "M", slug = "m" } },
        })).ShouldBe(HttpStatusCode.Created)).Str("slug");
        var csv = $"sku,name,price,product_sku,stock,attribute:{size}\r\n" +
            $"TEE-{t},Tee {t},20,,5,\r\n" +
            $"TEE-{t}-S,,,TEE-{t},3,s\r\n" +
            $"TEE-{t}-M,Tee {t},22.50,TEE-{t},0,M\r\n" +
            $"TEE-{t}-XL,,,TEE-{t},1,xl\r\n" +
            $"LOST-{t}-S,,,NOPE-{t},1,s\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        Counts(job).GetProperty("created").GetInt32().Should().Be(3);
        Counts(job).GetProperty("rejected").GetInt32().Should().Be(2);
        var errors = await (await staff.GetAsync(Counts(job).Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Should().Contain($"column attribute:{size}: the attribute '{size}' has no value 'xl'").And.Contain($"column product_sku: no product has the SKU 'NOPE-{t}'");

        var product = await (await staff.GetAsync($"/api/products?sku=TEE-{t}")).ShouldBe(HttpStatusCode.OK);
        var id = product.GetProperty("results")[0].GetProperty("id").GetInt64();
        var variants = await (await staff.GetAsync($"/api/products/{id}/variants")).ShouldBe(HttpStatusCode.OK);
        variants.EnumerateArray().Select(v => (v.Str("sku"), v.GetProperty("price").GetDecimal(), v.GetProperty("on_hand").GetInt32(),
                v.GetProperty("attributes").EnumerateObject().Select(a => a.Value.GetString()).FirstOrDefault()))
            .Should().Equal(($"TEE-{t}", 20m, 5, null), ($"TEE-{t}-S", 20m, 3, "s"), ($"TEE-{t}-M", 22.5m, 0, "m"));
        var reasonsOfMovements = await app.WithDbAsync(db => db.Set<StockMovement>()
            .Where(m => db.Set<Variant>().Any(v => v.Id == m.VariantId && v.ProductId == id)).Select(m => m.Reason).ToListAsync());
        reasonsOfMovements.Should().Equal("import", "import");

        // The same file again changes nothing; a new level for one variant updates that row alone.
        var again = await Uploads.ImportAsync(staff, Uploads.Raw(csv));
        Counts(again).GetProperty("unchanged").GetInt32().Should().Be(3);
        Counts(again).GetProperty("created").GetInt32().Should().Be(0);
        Counts(again).GetProperty("updated").GetInt32().Should().Be(0);
        var restocked = await Uploads.ImportAsync(staff, Uploads.Raw(csv.Replace($"TEE-{t}-S,,,TEE-{t},3,s", $"TEE-{t}-S,,,TEE-{t},8,s")));
        Counts(restocked).GetProperty("updated").GetInt32().Should().Be(1);
        Counts(restocked).GetProperty("unchanged").GetInt32().Should().Be(2);
        var small = $"TEE-{t}-S".ToUpperInvariant();
        var level = await app.WithDbAsync(db => db.Set<Variant>().Where(v => v.SkuKey == small).Select(v => v.OnHand).FirstAsync());
        level.Should().Be(8);
    }

    [Fact]
    public async Task Errors_csv_lists_rejected_rows_in_the_files_order_whichever_stage_refused_them()
    {
        // Line 2 is refused when variant rows are written, line 3 as it is read: errors.csv listed line 3 first.
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var csv = $"sku,name,price,product_sku\r\nORPHAN-{t}-S,,,NOPE-{t}\r\nBAD-{t},Bad {t},abc,\r\nGOOD-{t},Good {t},1,\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        Counts(job).GetProperty("rejected").GetInt32().Should().Be(2);
        var errors = await (await staff.GetAsync(Counts(job).Str("errors_url"))).Content.ReadAsStringAsync();
        var lines = errors.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        lines.Should().HaveCount(2);
        lines[0].Should().StartWith("\"line 2").And.Contain($"ORPHAN-{t}-S");
        lines[1].Should().StartWith("\"line 3").And.Contain($"BAD-{t}");
    }

    [Fact]
    public async Task An_import_keeps_the_APIs_variant_limits()
    {
        // More than 1,000 live variants, or a variant of more than 10 attributes (a signature past its column's width on
        // PostgreSQL, which failed every attempt of the job), are refused row by row as the API refuses them.
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var sizes = Enumerable.Range(1, 1_000).Select(n => new { name = $"N{n}", slug = $"n{n}" }).ToArray();
        var size = (await (await staff.PostJson("/api/attributes", new { name = $"Number {t}", values = sizes })).ShouldBe(HttpStatusCode.Created)).Str("slug");
        var many = string.Join("", Enumerable.Range(1, 11).Select(n => $",attribute:a{n}-{t}"));
        var csv = new System.Text.StringBuilder($"sku,name,price,product_sku,attribute:{size}{many}\r\n").Append($"BIG-{t},Big {t},1,,{new string(',', 11)}\r\n");
        for (var n = 1; n <= 1_000; n++)
        {
            csv.Append($"BIG-{t}-{n},,,BIG-{t},n{n}{new string(',', 11)}\r\n");
        }

        csv.Append($"WIDE-{t},,,BIG-{t},{string.Concat(Enumerable.Repeat(",x", 11))}\r\n");

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv.ToString()));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        Counts(job).GetProperty("created").GetInt32().Should().Be(1_000, "the product and 999 variants: with its default variant, 1,000");
        Counts(job).GetProperty("rejected").GetInt32().Should().Be(2);
        var errors = await (await staff.GetAsync(Counts(job).Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Should().Contain($"BIG-{t}-1000").And.Contain("already has 1,000 live variants").And.Contain("at most 10 attributes");
        var productKey = $"BIG-{t}".ToUpperInvariant();
        (await app.WithDbAsync(db => db.Set<Variant>().CountAsync(v => v.Product!.SkuKey == productKey && v.DeletedAt == null))).Should().Be(1_000);
    }

    [Fact]
    public async Task An_export_with_variants_and_stock_imports_again_unchanged()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var size = (await (await staff.PostJson("/api/attributes", new
        {
            name = $"Fit {t}", values = new[] { new { name = "S", slug = "s" }, new { name = "M", slug = "m" } },
        })).ShouldBe(HttpStatusCode.Created)).Str("slug");
        var csv = $"sku,name,price,product_sku,stock,attribute:{size}\r\n" +
            $"POLO-{t},Polo {t},20,,5,\r\n" +
            $"POLO-{t}-S,,,POLO-{t},3,s\r\n" +
            $"POLO-{t}-M,,22.50,POLO-{t},0,m\r\n" +
            $"CAP-{t},Cap {t},9,,2,\r\n";
        Counts(await Uploads.ImportAsync(staff, Uploads.Raw(csv))).GetProperty("created").GetInt32().Should().Be(4);

        var exported = await (await staff.GetAsync($"/api/products/export?name={t}&include=stock")).Content.ReadAsStringAsync();

        // Products in id order (the order the database gave them), each followed by its variants.
        exported.Should().StartWith($"sku,name,description,price,currency,active,brand,categories,product_sku,attribute:{size},stock\r\n")
            .And.Contain($"POLO-{t},Polo {t},,20.00,USD,true,,,,,5\r\nPOLO-{t}-S,,,,,,,,POLO-{t},s,3\r\nPOLO-{t}-M,,,22.50,,,,,POLO-{t},m,0\r\n")
            .And.Contain($"CAP-{t},Cap {t},,9.00,USD,true,,,,,2\r\n");
        exported.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(5);
        var again = await Uploads.ImportAsync(staff, Uploads.Raw(exported));
        Counts(again).GetProperty("unchanged").GetInt32().Should().Be(4, "the job was {0}", again);
        Counts(again).GetProperty("rejected").GetInt32().Should().Be(0);
        (await staff.GetAsync("/api/products/export?include=colour")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_file_without_a_price_or_an_attribute_column_leaves_a_variants_own_price_and_other_values_alone()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        var size = (await (await staff.PostJson("/api/attributes", new { name = $"Size {t}", values = new[] { new { name = "M", slug = "m" } } }))
            .ShouldBe(HttpStatusCode.Created)).Str("slug");
        var color = (await (await staff.PostJson("/api/attributes", new { name = $"Color {t}", values = new[] { new { name = "Red", slug = "red" } } }))
            .ShouldBe(HttpStatusCode.Created)).Str("slug");
        var first = await Uploads.ImportAsync(staff, Uploads.Raw(
            $"sku,name,price,product_sku,stock,attribute:{size},attribute:{color}\r\n" +
            $"TEE-{t},Tee {t},20,,,,\r\n" +
            $"TEE-{t}-M,,22.50,TEE-{t},1,m,red\r\n"));
        Counts(first).GetProperty("created").GetInt32().Should().Be(2, "the import was {0}", first);

        // A stock update with one attribute column, and a price update with none.
        var stock = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name,product_sku,stock,attribute:{size}\r\nTEE-{t}-M,,TEE-{t},7,m\r\n"));
        Counts(stock).GetProperty("updated").GetInt32().Should().Be(1, "the import was {0}", stock);
        var price = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name,price,product_sku\r\nTEE-{t}-M,,24,TEE-{t}\r\n"));
        Counts(price).GetProperty("updated").GetInt32().Should().Be(1, "the import was {0}", price);
        Counts(price).GetProperty("rejected").GetInt32().Should().Be(0);

        var key = $"TEE-{t}-M".ToUpperInvariant();
        var variant = await app.WithDbAsync(db => db.Set<Variant>().Include(v => v.Values).ThenInclude(v => v.Value).SingleAsync(v => v.SkuKey == key));
        variant.OnHand.Should().Be(7);
        variant.Price.Should().Be(24m);
        variant.Values.Select(v => v.Value!.Slug).Should().BeEquivalentTo("m", "red");
    }

    [Fact]
    public async Task A_variant_row_cannot_take_a_product_s_sku_and_a_dry_run_writes_nothing()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var t = Tag();
        await (await staff.PostJson("/api/products", new { sku = $"CUP-{t}", name = $"Cup {t}", price = 3m })).ShouldBe(HttpStatusCode.Created);
        await (await staff.PostJson("/api/products", new { sku = $"MUG-{t}", name = $"Mug {t}", price = 3m })).ShouldBe(HttpStatusCode.Created);
        var volume = (await (await staff.PostJson("/api/attributes", new { name = $"Volume {t}", values = new[] { new { name = "Big", slug = "big" } } }))
            .ShouldBe(HttpStatusCode.Created)).Str("slug");
        var csv = $"sku,name,product_sku,stock,attribute:{volume}\r\nMUG-{t},,CUP-{t},4,big\r\nCUP-{t}-BIG,,CUP-{t},2,big\r\n";
        var big = $"CUP-{t}-BIG".ToUpperInvariant();

        var dry = await Uploads.ImportAsync(staff, Uploads.Raw(csv), dryRun: true);
        Counts(dry).GetProperty("created").GetInt32().Should().Be(1, "the dry run was {0}", dry);
        Counts(dry).GetProperty("rejected").GetInt32().Should().Be(1);
        (await app.WithDbAsync(db => db.Set<Variant>().CountAsync(v => v.SkuKey == big))).Should().Be(0);

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));
        var errors = await (await staff.GetAsync(Counts(job).Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Should().Contain("a product's own SKU");
        (await app.WithDbAsync(db => db.Set<Variant>().Where(v => v.SkuKey == big).Select(v => v.OnHand).FirstAsync()))
            .Should().Be(2);
    }
}

public sealed class VariantImportTestsOnSqlite(SqliteApp app) : VariantImportTests(app), IClassFixture<SqliteApp>;

public sealed class VariantImportTestsOnPostgres(PostgresApp app) : VariantImportTests(app), IClassFixture<PostgresApp>;
