using System.Net;
using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Import;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// The import service against a real database. The fixtures use a tiny batch size, each committed on its own, so that
/// duplicates, slugs and checkpoints are exercised across batch boundaries, as they are in a 500,000-row file.
/// </summary>
public abstract class CatalogImporterTests(EmporiumApp app)
{
    public const string BatchSize = "4";

    [Fact]
    public async Task The_acme_file_imports_exactly_and_a_second_import_changes_nothing()
    {
        var dryRun = await ImportAsync(ImportData.Gzipped("acme-products-head2000.csv.gz"), new ImportOptions { DryRun = true });
        dryRun.Counts.Should().Be(new ImportCounts(Created: 1998, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 2));
        (await CountAsync(["INSTITUTION", "INVOLVE-AVAILABLE", "DO-MANY-AVOID"])).Should().Be(0, "a dry run writes nothing");

        var progress = new List<ImportProgress>();
        var result = await ImportAsync(
            ImportData.Gzipped("acme-products-head2000.csv.gz"), new ImportOptions(), new SyncProgress(progress.Add));

        result.Outcome.Should().Be(ImportOutcome.Completed);
        result.Counts.Should().Be(new ImportCounts(Created: 1998, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 2));
        result.Counts.DataRows.Should().Be(2000);
        result.UnknownColumns.Should().BeEmpty();
        var acmeKeys = await AcmeKeysAsync();
        (await CountAsync(acmeKeys)).Should().Be(1998);

        var institution = await ProductAsync("institution");
        institution.Name.Should().Be("Carrie Lamb", "the later row for a SKU wins");
        (await ProductAsync("involve-available")).Name.Should().Be("Alexander Mendez");
        var manyLines = await ProductAsync("do-many-avoid");
        manyLines.Description.Should().Be(
            "Born tree wind.\nBoy marriage begin value. Record health laugh ask under notice federal. Hard lose need sell treatment.\n" +
            "Certain throw executive front late. Because truth risk.");
        manyLines.Name.Should().Be("Tiffany Johnson");
        manyLines.Slug.Should().Be("tiffany-johnson");
        manyLines.Price.Should().Be(0m);
        manyLines.IsActive.Should().BeTrue();
        manyLines.Version.Should().Be(1);
        var slugs = await app.WithDbAsync(db => db.Set<Product>().Where(p => acmeKeys.Contains(p.SkuKey)).Select(p => p.Slug).ToListAsync());
        slugs.Should().OnlyHaveUniqueItems().And.HaveCount(1998);

        var again = await ImportAsync(ImportData.Gzipped("acme-products-head2000.csv.gz"), new ImportOptions());

        again.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 0, Unchanged: 1998, Rejected: 0, Duplicates: 2));
        var after = await ProductAsync("do-many-avoid");
        after.Version.Should().Be(1, "an unchanged row keeps its version");
        after.UpdatedAt.Should().Be(manyLines.UpdatedAt);
        progress.Should().NotBeEmpty();
        var last = progress[^1];
        last.RowsProcessed.Should().Be(2000);
        last.TotalRows.Should().Be(2000);
        last.TotalBytes.Should().Be(358_976);
        progress.Select(p => p.RowsProcessed).Should().BeInAscendingOrder();
        last.BytesRead.Should().Be(358_976);
        last.Counts.Should().Be(result.Counts);
    }

    [Fact]
    public async Task The_opm_edge_cases_keep_the_last_row_per_sku_in_any_case_and_quotes_and_unicode_intact()
    {
        var result = await ImportAsync(ImportData.Gzipped("opm-edge-cases.csv.gz"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 5, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 3));
        var gadget = await ProductAsync("gadget-999");
        gadget.Sku.Should().Be("GaDgEt-999", "the SKU is kept as entered in the winning row");
        gadget.Name.Should().Be("Gadget Mixed");
        (await ProductAsync("sku-001")).Name.Should().Be("Widget Duplicate Exact");
        var quoted = await ProductAsync("QUOTED-\"SPECIAL\"-01");
        quoted.Sku.Should().Be("QUOTED-\"SPECIAL\"-01");
        quoted.Description.Should().Be("Description with \"quotes\" and commas, in text.");
        var unicode = await ProductAsync("UNICODE-ÜBER-01");
        unicode.Sku.Should().Be("UNICODE-ÜBER-01");
        unicode.Description.Should().Be("Café, naïve, façade, résumé characters");
        unicode.Slug.Should().Be("product-with-unicode");
    }

    [Fact]
    public async Task Upsert_matches_existing_products_whatever_the_sku_case_and_counts_updated_and_unchanged()
    {
        var id = Unique();
        var changing = await SeedAsync($"chg-{id}", "Old name");
        var same = await SeedAsync($"same-{id}", "Same name", description: "Kept", price: 12.5m);

        var result = await ImportAsync(
            $"SKU,Name,Description,Price\nCHG-{id},New name,,0\nSAME-{id},Same name,Kept,12.50\nnew-{id},Brand new,,3");

        result.Counts.Should().Be(new ImportCounts(Created: 1, Updated: 2, Unchanged: 0, Rejected: 0, Duplicates: 0),
            "the second row differs only in the SKU's case, which is kept as entered");
        var updated = await ProductAsync($"chg-{id}");
        updated.Id.Should().Be(changing.Id);
        updated.Sku.Should().Be($"CHG-{id}");
        updated.Name.Should().Be("New name");
        updated.Version.Should().Be(2);
        updated.Slug.Should().Be(changing.Slug, "an update never moves a product's URL");

        var again = await ImportAsync($"sku,name,description,price\nSAME-{id},Same name,Kept,12.5");
        again.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 0, Unchanged: 1, Rejected: 0, Duplicates: 0));
        var unchanged = await ProductAsync($"same-{id}");
        unchanged.Id.Should().Be(same.Id);
        unchanged.Version.Should().Be(2);
        (await ProductAsync($"new-{id}")).Price.Should().Be(3m);
    }

    [Fact]
    public async Task Columns_absent_from_the_file_keep_their_values()
    {
        var id = Unique();
        await SeedAsync($"keep-{id}", "Name", description: "A description", price: 9.99m, active: false);

        var result = await ImportAsync($"sku,name\nkeep-{id},Name");

        result.Counts.Unchanged.Should().Be(1);
        var product = await ProductAsync($"keep-{id}");
        product.Description.Should().Be("A description");
        product.Price.Should().Be(9.99m);
        product.IsActive.Should().BeFalse();
    }

    [Fact]
    public async Task A_sku_of_a_deleted_product_restores_it()
    {
        var id = Unique();
        var deleted = await SeedAsync($"gone-{id}", "Same", deletedAt: DateTime.UtcNow);

        var result = await ImportAsync($"sku,name\ngone-{id},Same");

        result.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 1, Unchanged: 0, Rejected: 0, Duplicates: 0));
        var restored = await ProductAsync($"gone-{id}");
        restored.Id.Should().Be(deleted.Id);
        restored.DeletedAt.Should().BeNull();
        restored.Version.Should().Be(2);
    }

    [Fact]
    public async Task Malformed_rows_are_rejected_with_line_column_and_reason_while_good_rows_land()
    {
        var id = Unique();
        var csv = new List<byte>();
        void Text(string text) => csv.AddRange(Encoding.UTF8.GetBytes(text));
        Text($"sku,name,description,price,active,colour\r\n");
        Text($"ok1-{id},Good one,,1.5,yes,red\r\n");                                 // line 2
        Text($"short-{id},Missing fields\r\n");                                       // line 3
        Text($"utf-{id},Bad ");                                                       // line 4
        csv.AddRange(new byte[] { 0xC3, 0x28 });
        Text(",,,,\r\n");
        Text(",No sku,,,,\r\n");                                                      // line 5
        Text($"long-{id},{new string('n', CatalogLimits.NameLength + 1)},,,,\r\n");   // line 6
        Text($"price-{id},Bad price,,12.34567,,\r\n");                                // line 7
        Text($"active-{id},Bad active,,,maybe,\r\n");                                 // line 8
        Text($"ok2-{id},\"Good, two\",\"two\nlines\",,0,\r\n");                       // line 9
        Text($"open-{id},Unterminated,\"runs to the end\r\nof the file,,,");          // line 11

        var result = await ImportAsync(new MemoryStream(csv.ToArray()), new ImportOptions());

        result.Outcome.Should().Be(ImportOutcome.Completed);
        result.Counts.Should().Be(new ImportCounts(Created: 2, Updated: 0, Unchanged: 0, Rejected: 7, Duplicates: 0));
        result.UnknownColumns.Should().Equal("colour");
        result.Rejections.Select(r => (r.Line, r.Column)).Should().Equal(
            (3, null), (4, null), (5, "sku"), (6, "name"), (7, "price"), (8, "active"), (11, null));
        result.Rejections[0].Reason.Should().Contain("2 field(s) but the header has 6");
        result.Rejections[1].Reason.Should().Contain("UTF-8");
        result.Rejections[2].Reason.Should().Be("sku is required.");
        result.Rejections[3].Reason.Should().Contain("at most 255");
        result.Rejections[4].Value.Should().Be("12.34567");
        result.Rejections[4].Reason.Should().Contain("decimal places");
        result.Rejections[6].Reason.Should().Contain("unterminated");

        var good = await ProductAsync($"ok2-{id}");
        good.Name.Should().Be("Good, two");
        good.Description.Should().Be("two\nlines");
        good.IsActive.Should().BeFalse();
        (await ProductAsync($"ok1-{id}")).Price.Should().Be(1.5m);
        (await CountAsync([$"SHORT-{id}", $"UTF-{id}", $"LONG-{id}", $"PRICE-{id}", $"ACTIVE-{id}", $"OPEN-{id}"])).Should().Be(0);
    }

    [Fact]
    public async Task Over_long_skus_and_descriptions_are_rejected()
    {
        var id = Unique();
        var result = await ImportAsync(
            $"sku,name,description\n{new string('S', CatalogLimits.SkuLength + 1)},Long sku,\n" +
            $"desc-{id},Long description,{new string('d', CatalogLimits.DescriptionLength + 1)}\n" +
            $"has space-{id},Space,\n");

        result.Counts.Rejected.Should().Be(3);
        result.Rejections.Select(r => r.Column).Should().Equal("sku", "description", "sku");
        result.Rejections[1].Value!.Length.Should().BeLessThan(300, "reported values are cut short");
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("\uFEFF", "empty")]
    [InlineData("name,description\nsku-less,row\n", "sku")]
    [InlineData("sku,description\nname-less,row\n", "name")]
    public async Task File_level_problems_fail_the_import_and_write_nothing(string csv, string mentioned)
    {
        var result = await ImportAsync(csv);

        result.Outcome.Should().Be(ImportOutcome.Failed);
        result.Error.Should().Contain(mentioned);
        result.Counts.DataRows.Should().Be(0);
        (await CountAsync(["SKU-LESS", "NAME-LESS"])).Should().Be(0);
    }

    [Fact]
    public async Task A_binary_file_fails_as_not_text()
    {
        var bytes = Encoding.UTF8.GetBytes("sku,name\nbin-1,x\n").Concat(new byte[] { 0, 1, 2, 3 }).ToArray();

        var result = await ImportAsync(new MemoryStream(bytes), new ImportOptions());

        result.Outcome.Should().Be(ImportOutcome.Failed);
        result.Error.Should().Contain("not text");
        (await CountAsync(["BIN-1"])).Should().Be(0);
    }

    [Fact]
    public async Task A_dry_run_counts_a_variant_row_whose_product_an_earlier_transaction_created_as_the_real_run_does()
    {
        var id = Unique();
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.Add(new Emporium.Features.Catalog.Attributes.ProductAttribute
            {
                Name = $"Size {id}", Slug = $"size-{id}", CreatedAt = now, UpdatedAt = now,
                Values = [new() { Name = "S", Slug = "s" }, new() { Name = "M", Slug = "m" }],
            });
            await db.SaveChangesAsync();
            return 0;
        });
        // Batches of 4 rows, each its own transaction here: the product TEE ends the first; its variants start the second.
        var csv = $"sku,name,price,product_sku,attribute:size-{id}\n" +
            $"p1-{id},P1,1,,\np2-{id},P2,1,,\ncap-{id},Cap,5,,\ncap-{id}-s,,,cap-{id},s\n" +
            // A combination the product's own (rolled-back) batch gave, given again in the next batch: refused by the real run.
            $"cap-{id}-s2,,,cap-{id},s\np3-{id},P3,1,,\np4-{id},P4,1,,\ntee-{id},Tee,20,,\n" +
            $"tee-{id}-s,,,tee-{id},s\ntee-{id}-m,,,tee-{id},m\ntee-{id}-xl,,,tee-{id},xl\n" +
            // The default variant's combination (none), and a combination another row gave: both refused by the real run.
            $"tee-{id}-none,,,tee-{id},\ntee-{id}-s2,,,tee-{id},s\n";

        var dry = await ImportAsync(ImportData.Text(csv), new ImportOptions { DryRun = true });
        var real = await ImportAsync(ImportData.Text(csv), new ImportOptions());

        real.Counts.Should().Be(new ImportCounts(Created: 9, Updated: 0, Unchanged: 0, Rejected: 4, Duplicates: 0));
        dry.Counts.Should().Be(real.Counts, "a dry run reports what the import would do");
        dry.Rejections.Select(r => (r.Line, r.Column)).Should().Equal(real.Rejections.Select(r => (r.Line, r.Column)));
    }

    [Fact]
    public async Task A_dry_run_writes_nothing_but_reports_the_same_counts_and_the_changes()
    {
        var id = Unique();
        var existing = await SeedAsync($"dry-{id}", "Before", price: 5m);
        var csv = $"sku,name,price,brand\ndry-{id},After,6,Brand {id}\nnew-{id},New,1,\nnew-{id},New again,1,\n,bad,,\n";

        var dry = await ImportAsync(ImportData.Text(csv), new ImportOptions { DryRun = true });

        dry.DryRun.Should().BeTrue();
        dry.Counts.Should().Be(new ImportCounts(Created: 1, Updated: 1, Unchanged: 0, Rejected: 1, Duplicates: 1));
        var change = dry.ChangeSample.Should().ContainSingle().Subject;
        change.Sku.Should().Be($"dry-{id}");
        change.Line.Should().Be(2);
        change.Changes.Should().BeEquivalentTo(new[]
        {
            new FieldChange("name", "Before", "After"),
            new FieldChange("price", "5", "6"),
            new FieldChange("brand", null, $"Brand {id}"),
        });
        var untouched = await ProductAsync($"dry-{id}");
        untouched.Name.Should().Be("Before");
        untouched.Version.Should().Be(existing.Version);
        (await CountAsync([$"NEW-{id}"])).Should().Be(0);
        (await app.WithDbAsync(db => db.Set<Brand>().CountAsync(b => b.Name == $"Brand {id}"))).Should().Be(0);

        var real = await ImportAsync(ImportData.Text(csv), new ImportOptions());

        real.Counts.Should().Be(dry.Counts);
        real.ChangeSample.Should().BeEmpty();
        (await ProductAsync($"new-{id}")).Name.Should().Be("New again");
    }

    [Fact]
    public async Task Brands_are_matched_by_name_or_slug_or_created_and_categories_by_slug_or_name()
    {
        var id = Unique();
        var (shoes, boots) = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var brand = new Brand { Name = $"Acme {id}", Slug = $"acme-{id}", CreatedAt = now, UpdatedAt = now };
            var first = new Category { Name = $"Shoes {id}", Slug = $"shoes-{id}", CreatedAt = now, UpdatedAt = now };
            var second = new Category { Name = $"Boots {id}", Slug = $"boots-{id}", CreatedAt = now, UpdatedAt = now };
            db.AddRange(brand, first, second);
            await db.SaveChangesAsync();
            return (first.Id, second.Id);
        });

        var result = await ImportAsync(
            $"sku,name,brand,categories\n" +
            $"b1-{id},By slug,acme-{id},shoes-{id}\n" +
            $"b2-{id},By name,ACME {id},Shoes {id}|boots-{id}\n" +
            $"b3-{id},New brand,Zenith {id},\n" +
            $"b4-{id},Unknown category,,nowhere-{id}\n");

        result.Counts.Should().Be(new ImportCounts(Created: 3, Updated: 0, Unchanged: 0, Rejected: 1, Duplicates: 0));
        result.Rejections.Single().Should().Match<RejectedRow>(r => r.Line == 5 && r.Column == "categories" && r.Reason.Contains("unknown category"));
        var products = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking().Include(p => p.Brand).Include(p => p.Categories)
            .Where(p => p.SkuKey.EndsWith(id.ToUpperInvariant())).ToDictionaryAsync(p => p.Sku));
        products[$"b1-{id}"].Brand!.Slug.Should().Be($"acme-{id}");
        products[$"b2-{id}"].Brand!.Slug.Should().Be($"acme-{id}");
        products[$"b3-{id}"].Brand!.Name.Should().Be($"Zenith {id}");
        products[$"b1-{id}"].Categories.Select(c => c.Id).Should().BeEquivalentTo([shoes]);
        products[$"b2-{id}"].Categories.Select(c => c.Id).Should().BeEquivalentTo([shoes, boots]);

        var recategorised = await ImportAsync($"sku,name,brand,categories\nb1-{id},By slug,acme-{id},boots-{id}\nb2-{id},By name,ACME {id},boots-{id};shoes-{id}");

        recategorised.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 1, Unchanged: 1, Rejected: 0, Duplicates: 0));
        var moved = await ProductAsync($"b1-{id}");
        moved.Version.Should().Be(2, "a change of categories alone is an update");
    }

    [Fact]
    public async Task Duplicates_across_batches_still_let_the_last_row_win_and_new_slugs_stay_unique()
    {
        var id = Unique();
        var rows = Enumerable.Range(1, 10).Select(i => $"dup-{id}-{i % 3},Same Name {id},row {i}");
        var result = await ImportAsync($"sku,name,description\n{string.Join("\n", rows)}");

        result.Counts.Should().Be(new ImportCounts(Created: 3, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 7));
        (await ProductAsync($"dup-{id}-1")).Description.Should().Be("row 10");
        (await ProductAsync($"dup-{id}-0")).Description.Should().Be("row 9");
        var slugs = await app.WithDbAsync(db => db.Set<Product>().Where(p => p.SkuKey.StartsWith($"DUP-{id.ToUpperInvariant()}-")).Select(p => p.Slug).ToListAsync());
        slugs.Should().OnlyHaveUniqueItems().And.HaveCount(3).And.Contain($"same-name-{id}");
    }

    [Fact]
    public async Task Slugs_held_before_the_import_or_given_by_an_earlier_batch_are_not_given_again()
    {
        // The look-ahead asks the database only about keys its sketch of the catalog may hold, and remembers slugs it found
        // taken: a name an existing product's slug holds, and a name repeated in every batch, must still get new slugs.
        var id = Unique();
        await SeedAsync($"holder-{id}", "Holder", slug: $"held-{id}");
        var rows = Enumerable.Range(1, 30).Select(i => $"slug-{id}-{i:00},{(i % 2 == 0 ? "Held" : "Repeated")} {id},row {i}");
        using var scope = app.Services.CreateScope();

        var result = await NewImporter(scope, batchSize: 4).ImportAsync(ImportData.Text($"sku,name,description\n{string.Join("\n", rows)}"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 30, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        var slugs = await app.WithDbAsync(db => db.Set<Product>().Where(p => p.SkuKey.StartsWith($"SLUG-{id.ToUpperInvariant()}-"))
            .ToDictionaryAsync(p => p.SkuKey, p => p.Slug));
        slugs.Values.Should().OnlyHaveUniqueItems().And.HaveCount(30).And.NotContain($"held-{id}");
        slugs[$"SLUG-{id.ToUpperInvariant()}-01"].Should().Be($"repeated-{id}", "the first row of a free name gets the name's slug");
        slugs.Values.Should().ContainSingle(slug => slug == $"repeated-{id}");
        slugs[$"SLUG-{id.ToUpperInvariant()}-02"].Should().Be($"held-{id}-slug-{id}-02", "a slug held before the import is not given");
    }

    [Fact]
    public async Task A_stored_product_among_new_ones_is_still_checked_against_its_own_currency()
    {
        // The first batch is all new, so the look-ahead loads its sketch of the catalog: the yen product's SKU must be in
        // it, or its row would be taken for a new USD product and a price with cents written to it.
        var id = Unique();
        await SeedAsync($"yen-{id}", "Yen", price: 1500m, currency: "JPY");
        var rows = Enumerable.Range(1, 6).Select(i => $"cur-{id}-{i},Cur {i},1.25").Append($"yen-{id},Yen,12.50");
        using var scope = app.Services.CreateScope();

        var result = await NewImporter(scope, batchSize: 3).ImportAsync(ImportData.Text($"sku,name,price\n{string.Join("\n", rows)}"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 6, Updated: 0, Unchanged: 0, Rejected: 1, Duplicates: 0));
        result.Rejections.Should().ContainSingle().Which.Column.Should().Be("price");
        (await ProductAsync($"yen-{id}")).Price.Should().Be(1500m);
    }

    [Fact]
    public async Task A_new_currency_that_cannot_express_the_kept_price_or_a_variant_s_own_price_is_refused_as_the_API_refuses_it()
    {
        var id = Unique();
        await SeedAsync($"mug-{id}", "Mug", price: 12.50m);
        var cup = await SeedAsync($"cup-{id}", "Cup", price: 10m);
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.Add(new Variant { ProductId = cup.Id, Sku = $"cup-{id}-big", SkuKey = Product.KeyOf($"cup-{id}-big"), Price = 9.99m, Signature = "size:big", CreatedAt = now, UpdatedAt = now });
            return await db.SaveChangesAsync();
        });
        await SeedAsync($"pen-{id}", "Pen", price: 3m);

        var result = await ImportAsync($"sku,name,currency\nmug-{id},Mug,JPY\ncup-{id},Cup,JPY\npen-{id},Pen,JPY");

        result.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 1, Unchanged: 0, Rejected: 2, Duplicates: 0));
        result.Rejections.Should().OnlyContain(r => r.Column == "currency");
        result.Rejections.Select(r => r.Reason).Should().Contain(r => r.Contains("12.50") || r.Contains("12.5"))
            .And.Contain(r => r.Contains($"cup-{id}-big"));
        (await ProductAsync($"mug-{id}")).Currency.Should().Be("USD", "12.50 yen does not exist");
        (await ProductAsync($"cup-{id}")).Currency.Should().Be("USD");
        (await ProductAsync($"pen-{id}")).Currency.Should().Be("JPY", "3 is a price in yen");
    }

    [Fact]
    public async Task A_slug_as_the_export_writes_it_names_its_own_category_or_brand_even_where_it_is_another_s_name()
    {
        // Men > Shoes took the slug shoes-{id}; a category named "Shoes-{id}" (another branch) has a slug of its own. The
        // export writes slugs, so shoes-{id} must name the first, not be called ambiguous or taken for the second.
        var id = Unique();
        var (bySlug, byName, brandBySlug) = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var first = new Category { Name = $"Men shoes {id}", Slug = $"shoes-{id}", CreatedAt = now, UpdatedAt = now };
            var second = new Category { Name = $"Shoes-{id}", Slug = $"women-shoes-{id}", CreatedAt = now, UpdatedAt = now };
            var brand = new Brand { Name = $"Old acme {id}", Slug = $"acme-{id}", CreatedAt = now, UpdatedAt = now };
            var other = new Brand { Name = $"Acme-{id}", Slug = $"acme-{id}-2", CreatedAt = now, UpdatedAt = now };
            // Each kind in both orders of loading: the slug's holder first, then the one whose name is that slug.
            db.AddRange(first, brand);
            await db.SaveChangesAsync();
            db.AddRange(second, other);
            await db.SaveChangesAsync();
            return (first.Id, second.Id, brand.Id);
        });

        var result = await ImportAsync($"sku,name,brand,categories\nsl-{id},Slugged,acme-{id},shoes-{id}\nnm-{id},Named,Old ACME {id},Shoes-{id}");

        result.Counts.Should().Be(new ImportCounts(Created: 2, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        var products = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking().Include(p => p.Categories)
            .Where(p => p.SkuKey.EndsWith(id.ToUpperInvariant())).ToDictionaryAsync(p => p.Sku));
        products[$"sl-{id}"].Categories.Select(c => c.Id).Should().BeEquivalentTo([bySlug]);
        products[$"sl-{id}"].BrandId.Should().Be(brandBySlug);
        products[$"nm-{id}"].Categories.Select(c => c.Id).Should().BeEquivalentTo([byName], "a name written in its own case finds it");
        products[$"nm-{id}"].BrandId.Should().Be(brandBySlug);
    }

    [Fact]
    public async Task A_SKU_bearing_slug_given_in_a_committed_batch_is_not_given_again()
    {
        // tw-1.x and tw-1-x differ as SKUs but give the same slug after the name's: the second, three batches later, must
        // find the first's slug taken although it was given after the catalog's sketch was loaded.
        var id = Unique();
        var rows = new[] { $"tw-{id}-0,Twin {id}", $"tw-{id}.x,Twin {id}", $"a-{id},A", $"b-{id},B", $"c-{id},C", $"d-{id},D", $"tw-{id}-x,Twin {id}" };
        using var scope = app.Services.CreateScope();

        var result = await NewImporter(scope, batchSize: 2).ImportAsync(ImportData.Text($"sku,name\n{string.Join("\n", rows)}"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 7, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        (await ProductAsync($"tw-{id}.x")).Slug.Should().Be($"twin-{id}-tw-{id}-x");
        (await ProductAsync($"tw-{id}-x")).Slug.Should().Be($"twin-{id}-tw-{id}-x-2");
    }

    [Fact]
    public async Task A_stored_product_whose_row_changes_nothing_is_found_unchanged_among_new_ones()
    {
        var id = Unique();
        await SeedAsync($"kept-{id}", "Kept", "as stored");
        var rows = Enumerable.Range(1, 9).Select(i => $"new-{id}-{i},New {i},row {i}").Append($"kept-{id},Kept,as stored");
        using var scope = app.Services.CreateScope();

        var result = await NewImporter(scope, batchSize: 3).ImportAsync(ImportData.Text($"sku,name,description\n{string.Join("\n", rows)}"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 9, Updated: 0, Unchanged: 1, Rejected: 0, Duplicates: 0));
        (await ProductAsync($"kept-{id}")).Version.Should().Be(1);
    }

    [Fact]
    public async Task A_file_with_more_SKUs_than_the_duplicate_buffer_holds_still_lets_the_last_row_win()
    {
        // 600 rows over 200 SKUs against a buffer of 16 entries: the first pass spills to disk dozens of times.
        var id = Unique();
        var rows = Enumerable.Range(1, 600).Select(i => $"big-{id}-{(i * 7) % 200},Product {i % 200} {id},row {i}");
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 64, DedupBufferRows = 16 });

        var result = await importer.ImportAsync(ImportData.Text($"sku,name,description\n{string.Join("\n", rows)}"), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 200, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 400));
        // SKU k is written by rows i with 7i = k (mod 200); the last of them is the largest such i.
        foreach (var k in new[] { 0, 1, 57, 199 })
        {
            var last = Enumerable.Range(1, 600).Last(i => (i * 7) % 200 == k);
            (await ProductAsync($"big-{id}-{k}")).Description.Should().Be($"row {last}");
        }

        (await CountWithPrefixAsync($"big-{id}-")).Should().Be(200);
    }

    [Fact]
    public async Task A_product_someone_else_creates_while_the_import_runs_is_updated_by_its_row_not_duplicated()
    {
        var id = Unique();
        var categoryId = await app.WithDbAsync(async db =>
        {
            var category = new Category { Name = $"Race {id}", Slug = $"race-{id}", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
            db.Add(category);
            await db.SaveChangesAsync();
            return category.Id;
        });
        var csv = "sku,name,categories\n" + string.Join("\n", Enumerable.Range(1, 40).Select(i => $"race-{id}-{i:000},Product {i},race-{id}"));
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, batchSize: 10);
        var seeded = false;

        // After the first commit another writer creates the third batch's SKU 025, with the row's own name, so the row
        // changes only its categories. The reading stage runs a segment ahead, so it has usually looked up that batch's
        // SKUs already and takes 025 for new: the upsert must still update it, and its categories must still be set.
        var result = await importer.ImportAsync(ImportData.Text(csv), new ImportOptions
        {
            OnProgress = async (progress, _) =>
            {
                if (!seeded && progress.CheckpointLine is not null)
                {
                    seeded = true;
                    await SeedAsync($"race-{id}-025", "Product 25");
                }
            },
        });

        result.Counts.Should().Be(new ImportCounts(Created: 39, Updated: 1, Unchanged: 0, Rejected: 0, Duplicates: 0));
        (await CountWithPrefixAsync($"race-{id}-")).Should().Be(40);
        var raced = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking().Include(p => p.Categories)
            .SingleAsync(p => p.SkuKey == Product.KeyOf($"race-{id}-025")));
        raced.Slug.Should().StartWith("seed-", "an update never moves a product's URL");
        raced.Categories.Select(c => c.Id).Should().Equal(categoryId);
        raced.Version.Should().Be(2);
    }

    [Fact]
    public async Task A_batch_that_fails_to_commit_stops_the_import_with_its_error_and_keeps_only_the_batches_before_it()
    {
        var id = Unique();
        var csv = NumberedCsv($"fail-{id}", 100);
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, batchSize: 10);
        var checkpoints = 0;

        var act = () => importer.ImportAsync(ImportData.Text(csv), new ImportOptions
        {
            // The third batch's checkpoint fails inside its transaction, as a lost lease does.
            OnCheckpoint = (_, _, _) => ++checkpoints == 3 ? throw new InvalidOperationException("lease lost") : Task.CompletedTask,
        });

        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage("lease lost");
        var landed = await CountWithPrefixAsync($"fail-{id}-");
        landed.Should().Be(20, "the two committed batches stay, the failed one rolls back and nothing after it is written");
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_to_the_end_keeps_only_whole_batches()
    {
        var id = Unique();
        var bytes = Encoding.UTF8.GetBytes(NumberedCsv($"gone-{id}", 100));
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, batchSize: 10);

        // The first pass reads the whole file; the second loses it after about 35 rows (a disk error, an unmounted share).
        var act = () => importer.ImportAsync(new SecondPassFailingStream(bytes, failAfter: bytes.Length * 35 / 100), new ImportOptions());

        await act.Should().ThrowAsync<IOException>();
        var landed = await CountWithPrefixAsync($"gone-{id}-");
        landed.Should().Be(30, "rows read after the last whole batch are not written");
    }

    [Fact]
    public async Task Batches_share_one_transaction_until_the_commit_interval_has_passed()
    {
        var id = Unique();
        using var scope = app.Services.CreateScope();
        // Forty rows take far less than a minute: every batch goes into one transaction, committed at the end of the file.
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 10, CommitInterval = TimeSpan.FromMinutes(1), WriterConnections = 1 });
        var checkpoints = new List<long?>();
        var reports = new List<ImportProgress>();

        var result = await importer.ImportAsync(ImportData.Text(NumberedCsv($"span-{id}", 40)), new ImportOptions
        {
            OnCheckpoint = (progress, _, _) =>
            {
                checkpoints.Add(progress.CheckpointLine);
                return Task.CompletedTask;
            },
            OnProgress = Collect(reports),
        });

        result.Counts.Created.Should().Be(40);
        checkpoints.Should().Equal([41L], "one commit, at the end of the file, with the last line");
        // Before the first batch (10 rows) opens the transaction a report may come (a slow start on a loaded machine); once
        // it is open, none until the commit.
        reports.Where(r => r.Phase == ImportPhase.Importing && r.RowsProcessed > 10).Should().ContainSingle(
            "progress is not written while the transaction is open (on SQLite it would wait for the commit)")
            .Which.RowsProcessed.Should().Be(40);
        (await CountWithPrefixAsync($"span-{id}-")).Should().Be(40);
    }

    [Fact]
    public async Task Batches_written_on_several_connections_commit_in_file_order_each_with_its_checkpoint()
    {
        var id = Unique();
        // Rows 15, 47 and 48 are rejected (no name), so their batches' counts and errors.csv lines must land in order too.
        var lines = Enumerable.Range(1, 100).Select(i => $"lanes-{id}-{i:000},{(i is 15 or 47 or 48 ? "" : $"Product {i}")}");
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 10, CommitInterval = TimeSpan.Zero, WriterConnections = 3 });
        var checkpoints = new List<(long Line, ImportCounts Counts, EmporiumDbContext Db, int Landed)>();
        var rejected = new List<long>();

        var result = await importer.ImportAsync(ImportData.Text("sku,name\n" + string.Join("\n", lines)), new ImportOptions
        {
            OnRejected = row =>
            {
                rejected.Add(row.Line);
                return ValueTask.CompletedTask;
            },
            OnCheckpoint = async (progress, db, _) =>
                checkpoints.Add((progress.CheckpointLine!.Value, progress.Counts, db, await CountWithPrefixAsync($"lanes-{id}-"))),
        });

        result.Counts.Should().Be(new ImportCounts(Created: 97, Updated: 0, Unchanged: 0, Rejected: 3, Duplicates: 0));
        rejected.Should().Equal([16L, 48L, 49L], "errors.csv lists rejected rows in file order");
        // Ten rows to write a batch: the second and fifth also hold the rejected rows.
        checkpoints.Select(c => c.Line).Should().Equal([11L, 22L, 32L, 42L, 54L, 64L, 74L, 84L, 94L, 101L],
            "each batch commits on its own, in file order, with the line it ends at");
        checkpoints.Select(c => c.Counts.Created + c.Counts.Rejected).Should().Equal(checkpoints.Select(c => (int)c.Line - 1),
            "a checkpoint counts every row before its line");
        checkpoints.Select(c => c.Landed).Should().Equal(
            checkpoints.Select((_, i) => i == 0 ? 0 : checkpoints[i - 1].Counts.Created),
            "seen from another connection as a batch commits: every batch before it, and none after it");

        var connections = checkpoints.Select(c => c.Db).Distinct().Count();
        connections.Should().Be(app.Provider == DatabaseProvider.Postgres ? 3 : 1, "SQLite has one writer; PostgreSQL takes the three asked for");
        (await CountWithPrefixAsync($"lanes-{id}-")).Should().Be(97);
    }

    [Fact]
    public async Task Rows_use_brands_that_an_earlier_batch_on_another_connection_created()
    {
        var id = Unique();
        // Batches of ten: the last row of each names a new brand, which every row of the next batch names too, and the
        // next batch is written while the one before it may not have committed yet.
        var lines = Enumerable.Range(1, 50).Select(i => $"lb-{id}-{i:000},Product {i},Lane brand {id} {i / 10}");
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 10, CommitInterval = TimeSpan.Zero, WriterConnections = 2 });

        var result = await importer.ImportAsync(ImportData.Text("sku,name,brand\n" + string.Join("\n", lines)), new ImportOptions());

        result.Counts.Should().Be(new ImportCounts(Created: 50, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        var prefix = Product.KeyOf($"lb-{id}-");
        var brands = await app.WithDbAsync(db => db.Set<Product>().Where(p => p.SkuKey.StartsWith(prefix))
            .Select(p => new { p.SkuKey, Brand = p.Brand!.Name }).ToDictionaryAsync(p => p.SkuKey, p => p.Brand));
        brands.Should().HaveCount(50);
        brands[Product.KeyOf($"lb-{id}-010")].Should().Be($"Lane brand {id} 1");
        brands[Product.KeyOf($"lb-{id}-019")].Should().Be($"Lane brand {id} 1");
        brands[Product.KeyOf($"lb-{id}-050")].Should().Be($"Lane brand {id} 5");
    }

    [Fact]
    public async Task Variant_rows_find_products_that_an_earlier_batch_on_another_connection_created()
    {
        var id = Unique();
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var size = (await (await staff.PostJson("/api/attributes", new { name = $"Size {id}", values = new[] { new { name = "S", slug = "s" } } }))
            .ShouldBe(HttpStatusCode.Created)).Str("slug");
        // Batches of four: the products fill the first, their variants the second, which is written while the first may
        // not have committed yet.
        var products = Enumerable.Range(1, 4).Select(i => $"vp-{id}-{i},Product {i},10,,,");
        var variants = Enumerable.Range(1, 4).Select(i => $"vp-{id}-{i}-s,,,vp-{id}-{i},2,s");
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 4, CommitInterval = TimeSpan.Zero, WriterConnections = 2 });

        var result = await importer.ImportAsync(
            ImportData.Text($"sku,name,price,product_sku,stock,attribute:{size}\n" + string.Join("\n", products.Concat(variants))),
            new ImportOptions());

        result.Rejections.Should().BeEmpty();
        result.Counts.Should().Be(new ImportCounts(Created: 8, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        var prefix = Product.KeyOf($"vp-{id}-");
        (await app.WithDbAsync(db => db.Set<Variant>().CountAsync(v => v.SkuKey.StartsWith(prefix) && !v.IsDefault && v.OnHand == 2)))
            .Should().Be(4);
    }

    [Fact]
    public async Task A_failure_rolls_back_every_batch_of_the_open_transaction()
    {
        var id = Unique();
        var bytes = Encoding.UTF8.GetBytes(NumberedCsv($"span-gone-{id}", 100));
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 10, CommitInterval = TimeSpan.FromMinutes(1), WriterConnections = 1 });
        var checkpoints = 0;

        // Three whole batches are written into the open transaction before the file is lost.
        var act = () => importer.ImportAsync(new SecondPassFailingStream(bytes, failAfter: bytes.Length * 35 / 100), new ImportOptions
        {
            OnCheckpoint = (_, _, _) =>
            {
                checkpoints++;
                return Task.CompletedTask;
            },
        });

        await act.Should().ThrowAsync<IOException>();
        checkpoints.Should().Be(0);
        (await CountWithPrefixAsync($"span-gone-{id}-")).Should().Be(0, "nothing was committed, so a retry starts from the top");
    }

    [Fact]
    public async Task Cancelling_an_import_stops_both_stages()
    {
        var id = Unique();
        var csv = NumberedCsv($"stop-{id}", 200);
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, batchSize: 10);
        using var cancel = new CancellationTokenSource();

        // Small reads, so the reading stage could go on through the file if it were not stopped.
        var source = new ObservedStream(ImportData.Text(csv), maxRead: 64);
        var checkpoints = new List<long>();

        var act = () => importer.ImportAsync(
            source,
            new ImportOptions
            {
                OnCheckpoint = (p, _, _) =>
                {
                    checkpoints.Add(p.CheckpointLine!.Value);
                    if (p.CheckpointLine > 40)
                    {
                        cancel.Cancel();
                    }

                    return Task.CompletedTask;
                },
            },
            cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        var readsWhenStopped = source.Reads;
        var positionWhenStopped = source.Position;
        await Task.Delay(500);

        // Both stages have ended: no read of the file comes after the import returns, and it stopped well before the end.
        source.Reads.Should().Be(readsWhenStopped, "the reading stage must not go on after the import returns");
        positionWhenStopped.Should().BeLessThan(source.Length, "the reading stage stopped before the end of the file");
        // The writing stage stopped too: the rows are those of whole committed batches (the cancelled one's commit may or may
        // not have happened), never part of a batch, and nothing was written after the cancel.
        var landed = await CountWithPrefixAsync($"stop-{id}-");
        checkpoints.Select(line => (int)line - 1).Should().Contain(landed);
        landed.Should().BeLessThan(100);
        await Task.Delay(300);
        (await CountWithPrefixAsync($"stop-{id}-")).Should().Be(landed);
    }

    /// <summary>A readable, seekable stream that counts its reads and hands out at most <paramref name="maxRead"/> bytes each.</summary>
    private sealed class ObservedStream(Stream inner, int maxRead) : Stream
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref _reads);
            return inner.Read(buffer, offset, Math.Min(count, maxRead));
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            await Task.Yield();
            return await inner.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_resumed_import_skips_rows_up_to_the_checkpoint_and_counts_the_rest_the_same_way()
    {
        var id = Unique();
        var csv = $"sku,name\nr1-{id},One\nr2-{id},Two\nr3-{id},Three\nr1-{id},One again\nr4-{id},Four";

        var result = await ImportAsync(ImportData.Text(csv), new ImportOptions { StartAfterLine = 3 });

        // Line 2 (the superseded r1) and line 3 were counted by the earlier run; r1's last row is on line 5.
        result.Counts.Should().Be(new ImportCounts(Created: 3, Updated: 0, Unchanged: 0, Rejected: 0, Duplicates: 0));
        (await CountAsync([$"R1-{id}".ToUpperInvariant(), $"R2-{id}".ToUpperInvariant()])).Should().Be(1, "only the last r1 row is after the checkpoint");
        (await ProductAsync($"r1-{id}")).Name.Should().Be("One again");
    }

    [Fact]
    public async Task When_the_last_row_of_a_SKU_is_refused_the_SKU_is_refused_and_no_older_row_of_it_is_written()
    {
        var id = Unique();
        // Without a currency column, prices are in USD: 10.005 has a place too many, which pass 2 finds.
        var csv = $"sku,name,price\nlr-{id},Older,10.00\nlr-{id},Latest,10.005";

        var result = await ImportAsync(csv);

        result.Counts.Should().Be(new ImportCounts(Created: 0, Updated: 0, Unchanged: 0, Rejected: 1, Duplicates: 1));
        (await CountAsync([Product.KeyOf($"lr-{id}")])).Should().Be(0, "the file's latest word on the SKU is never replaced by an older one");
    }

    [Fact]
    public async Task A_resume_that_finds_every_row_settled_checkpoints_at_its_resume_line_not_at_the_start()
    {
        var id = Unique();
        var csv = $"sku,name\nd1-{id},One\nd2-{id},Two";
        var checkpoints = new List<long?>();

        var result = await ImportAsync(ImportData.Text(csv), new ImportOptions
        {
            StartAfterLine = 3,
            OnCheckpoint = (progress, _, _) =>
            {
                checkpoints.Add(progress.CheckpointLine);
                return Task.CompletedTask;
            },
        });

        result.Counts.DataRows.Should().Be(0, "the earlier run settled both rows");
        checkpoints.Should().NotBeEmpty().And.OnlyContain(line => line == 3, "a checkpoint at 0 would make the next attempt import the file again");
    }

    [Fact]
    public async Task Progress_comes_while_counting_and_between_commits_and_only_commits_carry_a_checkpoint()
    {
        var prefix = Unique();
        var rows = Enumerable.Range(1, 40).Select(i => $"{prefix}-{i:00},Product {i:00}");
        var csv = "sku,name\n" + string.Join("\n", rows) + "\n";
        using var scope = app.Services.CreateScope();
        // A clock that moves 100 ms at every look: the importer's 250 ms reporting floor fires every few rows.
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 25, CommitInterval = TimeSpan.Zero }, new SteppingClock(TimeSpan.FromMilliseconds(100)));
        var reports = new List<ImportProgress>();

        var result = await importer.ImportAsync(ImportData.Text(csv), new ImportOptions { OnProgress = Collect(reports) });

        result.Counts.Created.Should().Be(40);
        var counting = reports.TakeWhile(r => r.Phase == ImportPhase.Counting).ToList();
        counting.Should().HaveCountGreaterThan(5, "the first pass reports as it reads");
        counting.Should().OnlyContain(r => r.RowsProcessed == 0 && r.CheckpointLine == null);
        counting[^1].TotalRows.Should().BeInRange(36, 40, "the total is estimated from the bytes read so far");
        var importing = reports.Skip(counting.Count).ToList();
        importing.Should().OnlyContain(r => r.Phase == ImportPhase.Importing && r.TotalRows == 40);
        importing.Select(r => r.RowsProcessed).Should().BeInAscendingOrder();
        importing.Should().Contain(r => r.CheckpointLine == null && r.RowsProcessed > 0 && r.RowsProcessed < 25, "rows before the first commit show");
        importing.Where(r => r.CheckpointLine != null).Select(r => r.CheckpointLine).Should().Equal(
            [26L, 41L], "a checkpoint is the last line of a committed batch (header on line 1, batches of 25)");
    }

    [Fact]
    public async Task A_resumed_import_does_not_report_its_recount_so_its_progress_never_falls_back()
    {
        var prefix = Unique();
        var csv = "sku,name\n" + string.Join("\n", Enumerable.Range(1, 40).Select(i => $"{prefix}-{i:00},Product {i:00}")) + "\n";
        using var scope = app.Services.CreateScope();
        var importer = NewImporter(scope, new ImportSettings { BatchSize = 25, CommitInterval = TimeSpan.Zero }, new SteppingClock(TimeSpan.FromMilliseconds(100)));
        var reports = new List<ImportProgress>();

        await importer.ImportAsync(ImportData.Text(csv), new ImportOptions { StartAfterLine = 21, OnProgress = Collect(reports) });

        reports.Should().NotBeEmpty().And.OnlyContain(r => r.Phase == ImportPhase.Importing, "a recount at 0 would undo the earlier attempt's progress");
        reports.Select(r => r.RowsProcessed).Should().BeInAscendingOrder();
    }

    private static string Unique() => Guid.NewGuid().ToString("N")[..10];

    /// <summary>sku,name rows {prefix}-001, {prefix}-002, ...</summary>
    private static string NumberedCsv(string prefix, int rows) =>
        "sku,name\n" + string.Join("\n", Enumerable.Range(1, rows).Select(i => $"{prefix}-{i:000},Product {i}"));

    private Task<int> CountWithPrefixAsync(string skuPrefix)
    {
        var keyPrefix = Product.KeyOf(skuPrefix);
        return app.WithDbAsync(db => db.Set<Product>().CountAsync(p => p.SkuKey.StartsWith(keyPrefix)));
    }

    /// <summary>An importer that commits each batch on its own, as most tests here describe.</summary>
    internal static CatalogImporter NewImporter(IServiceScope scope, int batchSize) =>
        NewImporter(scope, new ImportSettings { BatchSize = batchSize, CommitInterval = TimeSpan.Zero });

    internal static CatalogImporter NewImporter(IServiceScope scope, ImportSettings settings, TimeProvider? clock = null) => new(
        scope.ServiceProvider.GetRequiredService<EmporiumDbContext>(),
        scope.ServiceProvider.GetRequiredService<DbContextOptions<EmporiumDbContext>>(),
        scope.ServiceProvider.GetRequiredService<IProductBulkUpsert>(),
        scope.ServiceProvider,
        scope.ServiceProvider.GetRequiredService<IServiceScopeFactory>(),
        Options.Create(settings),
        clock ?? TimeProvider.System,
        scope.ServiceProvider.GetRequiredService<Emporium.Platform.Telemetry.EmporiumMetrics>());

    /// <summary>Reads normally until it is rewound for the second pass; then fails after <paramref name="failAfter"/> bytes.</summary>
    private sealed class SecondPassFailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        private bool _rewound;

        public override long Position
        {
            get => base.Position;
            set
            {
                _rewound |= base.Position > 0 && value == 0;
                base.Position = value;
            }
        }

        public override int Read(Span<byte> buffer) => Guard(base.Read(buffer[..Allowed(buffer.Length)]));

        public override int Read(byte[] buffer, int offset, int count) => Guard(base.Read(buffer, offset, Allowed(count)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        // Small reads, so the failure lands mid-file rather than in the first buffer.
        private int Allowed(int count) => Math.Min(count, 64);

        private int Guard(int read) =>
            _rewound && Position > failAfter ? throw new IOException("The file is no longer readable.") : read;
    }

    private protected Task<ImportResult> ImportAsync(string csv) => ImportAsync(ImportData.Text(csv), new ImportOptions());

    private protected async Task<ImportResult> ImportAsync(Stream csv, ImportOptions options, IProgress<ImportProgress>? progress = null)
    {
        await using var stream = csv;
        using var scope = app.Services.CreateScope();
        var importer = scope.ServiceProvider.GetRequiredService<CatalogImporter>();
        var reported = new List<ImportProgress>();
        var result = await importer.ImportAsync(stream, options with
        {
            OnProgress = (p, _) =>
            {
                reported.Add(p);
                progress?.Report(p);
                return Task.CompletedTask;
            },
        });
        if (options.StartAfterLine == 0)
        {
            result.Counts.DataRows.Should().Be((int)(reported.LastOrDefault()?.TotalRows ?? 0), "every data row is counted once");
        }
        return result;
    }

    private Task<Product> ProductAsync(string sku) =>
        app.WithDbAsync(db => db.Set<Product>().AsNoTracking().SingleAsync(p => p.SkuKey == Product.KeyOf(sku)));

    private Task<int> CountAsync(IReadOnlyList<string> keys) =>
        app.WithDbAsync(db => db.Set<Product>().CountAsync(p => keys.Contains(p.SkuKey)));

    private static async Task<List<string>> AcmeKeysAsync()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Gzipped("acme-products-head2000.csv.gz"));
        return records.Skip(1).Select(r => Product.KeyOf(r.Fields[1])).Distinct().ToList();
    }

    private Task<Product> SeedAsync(
        string sku, string name, string? description = null, decimal price = 0m, bool active = true, DateTime? deletedAt = null,
        string? slug = null, string currency = "USD") =>
        app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow.AddMinutes(-1);
            var product = new Product
            {
                Sku = sku,
                SkuKey = Product.KeyOf(sku),
                Slug = slug ?? $"seed-{Guid.NewGuid():N}",
                Name = name,
                Description = description,
                Price = price,
                Currency = currency,
                IsActive = active,
                CreatedAt = now,
                UpdatedAt = now,
                DeletedAt = deletedAt,
            };
            db.Add(product);
            await db.SaveChangesAsync();
            return product;
        });

    /// <summary>Time stands still between looks and moves by <paramref name="step"/> at each; wall-clock time is real.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, step.Ticks);
    }

    private static Func<ImportProgress, CancellationToken, Task> Collect(List<ImportProgress> reports) => (p, _) =>
    {
        reports.Add(p);
        return Task.CompletedTask;
    };

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests want every report, in order, before the call returns.</summary>
    private sealed class SyncProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }
}

public class ImportSqliteApp : SqliteApp
{
    public ImportSqliteApp() => With("Import:BatchSize", CatalogImporterTests.BatchSize).With("Import:CommitInterval", "00:00:00");
}

public class ImportPostgresApp : PostgresApp
{
    public ImportPostgresApp() => With("Import:BatchSize", CatalogImporterTests.BatchSize).With("Import:CommitInterval", "00:00:00");
}

public sealed class CatalogImporterTestsOnSqlite(ImportSqliteApp app) : CatalogImporterTests(app), IClassFixture<ImportSqliteApp>;

public sealed class CatalogImporterTestsOnPostgres(ImportPostgresApp app) : CatalogImporterTests(app), IClassFixture<ImportPostgresApp>
{
    /// <summary>
    /// An attribute's value removed while an import writes variants with it: the import waits for the removal (or the
    /// removal for the import) and the row is refused as naming no such value; it was written, and the value then vanished
    /// from the variant by the cascade (or a later batch failed on the foreign key).
    /// </summary>
    [Fact]
    public async Task A_value_removed_while_an_import_writes_variants_with_it_is_never_lost_from_a_variant()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var (attributeId, valueId) = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var attribute = new Emporium.Features.Catalog.Attributes.ProductAttribute
            {
                Name = $"Fit {id}", Slug = $"fit-{id}", CreatedAt = now, UpdatedAt = now, Values = [new() { Name = "Slim", Slug = "slim" }],
            };
            db.Add(attribute);
            await db.SaveChangesAsync();
            return (attribute.Id, attribute.Values[0].Id);
        });
        await ImportAsync($"sku,name,price\njean-{id},Jean,20\n");

        // An attribute write in progress (as PUT /api/attributes would hold it), removing the value.
        await using var writer = new Npgsql.NpgsqlConnection(PostgresServer.ConnectionStringFor(app.DatabaseName));
        await writer.OpenAsync();
        await using var removal = await writer.BeginTransactionAsync();
        await using (var command = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_xact_lock(hashtext('attribute'), {attributeId})", writer, removal))
        {
            await command.ExecuteNonQueryAsync();
        }

        var import = ImportAsync($"sku,name,product_sku,attribute:fit-{id}\njean-{id}-slim,,jean-{id},slim\n");
        var finished = await Task.WhenAny(import, Task.Delay(TimeSpan.FromSeconds(1))) == import;
        await using (var command = new Npgsql.NpgsqlCommand($"DELETE FROM attribute_values WHERE id = {valueId}", writer, removal))
        {
            await command.ExecuteNonQueryAsync();
        }

        await removal.CommitAsync();
        var result = await import;

        finished.Should().BeFalse("the import waits for the attribute write it would race");
        result.Counts.Rejected.Should().Be(1, string.Join("; ", result.Rejections.Select(r => r.Reason)));
        result.Rejections.Single().Reason.Should().Contain("has no value 'slim'");
        var key = $"JEAN-{id}-SLIM".ToUpperInvariant();
        (await app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Variants.Variant>().CountAsync(v => v.SkuKey == key))).Should().Be(0);
    }
}

/// <summary>PostgreSQL's lock timeout for an import's connections (SQLite has one writer and its own busy timeout).</summary>
public sealed class ImportLockTimeoutTests(ImportPostgresApp app) : IClassFixture<ImportPostgresApp>
{
    [Fact]
    public async Task A_batch_that_waits_longer_than_the_lock_timeout_for_a_row_fails_the_import_and_keeps_nothing_of_it()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        var keys = new[] { $"held-{id}-1", $"held-{id}-2", $"held-{id}-3" }.Select(Product.KeyOf).ToList();
        using var scope = app.Services.CreateScope();
        await CatalogImporterTests.NewImporter(scope, batchSize: 10)
            .ImportAsync(ImportData.Text($"sku,name\nheld-{id}-1,One\nheld-{id}-2,Two\nheld-{id}-3,Three"), new ImportOptions());

        // Another writer holds the second product's row; the import changes all three in one batch.
        await using var blocker = new NpgsqlConnection(PostgresServer.ConnectionStringFor(app.DatabaseName));
        await blocker.OpenAsync();
        await using var held = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT id FROM products WHERE sku_key = @key FOR UPDATE", blocker, held))
        {
            lockRow.Parameters.AddWithValue("key", keys[1]);
            await lockRow.ExecuteScalarAsync();
        }

        using var importScope = app.Services.CreateScope();
        var importer = CatalogImporterTests.NewImporter(importScope, new ImportSettings { BatchSize = 10, LockTimeout = TimeSpan.FromSeconds(1) });
        var started = DateTime.UtcNow;
        var act = () => importer.ImportAsync(ImportData.Text($"sku,name\nheld-{id}-1,Uno\nheld-{id}-2,Dos\nheld-{id}-3,Tres"), new ImportOptions());

        (await act.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(PostgresErrorCodes.LockNotAvailable);
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(20), "the import gave up after its lock timeout, not the command's");
        await held.RollbackAsync();
        var names = await app.WithDbAsync(db => db.Set<Product>().Where(p => keys.Contains(p.SkuKey)).OrderBy(p => p.SkuKey).Select(p => p.Name).ToListAsync());
        names.Should().Equal(["One", "Two", "Three"], "the batch rolled back as a whole");

        // The pool keeps sessions as they are (NoResetOnClose): its connections went back without the import's timeout.
        var scopes = Enumerable.Range(0, 4).Select(_ => app.Services.CreateScope()).ToList();
        var timeouts = new List<string>();
        foreach (var db in scopes.Select(s => s.ServiceProvider.GetRequiredService<EmporiumDbContext>()))
        {
            await db.Database.OpenConnectionAsync();
            timeouts.Add(await db.Database.SqlQueryRaw<string>("SELECT current_setting('lock_timeout') AS \"Value\"").SingleAsync());
        }

        scopes.ForEach(s => s.Dispose());
        timeouts.Should().AllBe("0");
    }
}
