using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Products;

/// <summary>
/// One ownership model on every path (decision 0013): staff and admins run the whole store; a seller sees and changes only
/// its own products, through the API, imports, exports, bulk deletes and jobs; everyone else's hidden products are 404.
/// </summary>
public abstract class OwnershipTests(EmporiumApp app)
{
    [Fact]
    public async Task Staff_change_delete_and_restore_any_product_whoever_owns_it()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var otherStaff = await app.NewUserAsync(Roles.Staff);
        var seller = await app.NewUserAsync(Roles.Seller);
        var theirs = await otherStaff.Http.CreateProductAsync(Tag(), "Colleague's");
        var sellers = await seller.Http.CreateProductAsync(Tag(), "Seller's");

        foreach (var product in new[] { theirs, sellers })
        {
            var url = $"/api/products/{product.Id()}";
            var patched = await (await staff.Http.PatchJson(url, new { name = $"Renamed by staff {Tag()}" })).ShouldBe(HttpStatusCode.OK);
            patched.GetProperty("owner_id").GetInt64().Should().Be(product.GetProperty("owner_id").GetInt64(), "a change keeps the owner");
            await (await staff.Http.PutJson(url, new { sku = product.Str("sku"), name = "Replaced", price = 3m })).ShouldBe(HttpStatusCode.OK);
            (await staff.Http.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            await (await staff.Http.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);
        }

        var stored = await app.WithDbAsync(db => db.Set<Product>().SingleAsync(p => p.Id == sellers.Id()));
        stored.Name.Should().Be("Replaced");
        stored.OwnerId.Should().Be(seller.UserId);
        stored.DeletedAt.Should().BeNull();
    }

    [Fact]
    public async Task A_seller_creates_products_it_owns_and_changes_only_those()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var own = await seller.Http.CreateProductAsync(Tag(), "Own");
        own.GetProperty("owner_id").GetInt64().Should().Be(seller.UserId);
        var rivals = await rival.Http.CreateProductAsync(Tag(), "Rival's");
        var store = await staff.Http.CreateProductAsync(Tag(), "Store's");

        await (await seller.Http.PatchJson($"/api/products/{own.Id()}", new { price = 12.5m })).ShouldBe(HttpStatusCode.OK);
        foreach (var other in new[] { rivals, store })
        {
            var url = $"/api/products/{other.Id()}";
            await (await seller.Http.PatchJson(url, new { name = "Hijacked" })).ShouldBeProblem(HttpStatusCode.NotFound);
            await (await seller.Http.PutJson(url, new { sku = other.Str("sku"), name = "Hijacked", price = 1m })).ShouldBeProblem(HttpStatusCode.NotFound);
            await (await seller.Http.DeleteAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
            await (await seller.Http.PostAsync($"{url}/restore", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        }

        var names = await app.WithDbAsync(db => db.Set<Product>()
            .Where(p => p.Id == rivals.Id() || p.Id == store.Id())
            .Select(p => new { p.Name, p.DeletedAt })
            .ToListAsync());
        names.Should().AllSatisfy(p =>
        {
            p.Name.Should().NotBe("Hijacked");
            p.DeletedAt.Should().BeNull();
        });
    }

    [Fact]
    public async Task Customers_cannot_create_products_and_anonymous_callers_must_sign_in()
    {
        var customer = await app.NewUserAsync(Roles.Customer);
        var body = new { sku = $"C-{Tag()}", name = "Nope", price = 1m };

        await (await customer.Http.PostJson("/api/products", body)).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await app.Anonymous().PostJson("/api/products", body)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Inactive_and_deleted_products_are_visible_to_staff_and_their_seller_only()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var customer = await app.NewUserAsync(Roles.Customer);
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var inactive = await seller.Http.CreateProductAsync(tag, "Hidden", active: false);
        var deleted = await seller.Http.CreateProductAsync(tag, "Gone");
        (await seller.Http.DeleteAsync($"/api/products/{deleted.Id()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var rivalsInactive = await rival.Http.CreateProductAsync(tag, "Rival hidden", active: false);
        var rivalsActive = await rival.Http.CreateProductAsync(tag, "Rival shown");

        foreach (var hidden in new[] { inactive, deleted })
        {
            await (await seller.Http.GetAsync($"/api/products/{hidden.Id()}")).ShouldBe(HttpStatusCode.OK);
            await (await staff.Http.GetAsync($"/api/products/{hidden.Id()}")).ShouldBe(HttpStatusCode.OK);
            await (await rival.Http.GetAsync($"/api/products/{hidden.Id()}")).ShouldBeProblem(HttpStatusCode.NotFound);
            await (await customer.Http.GetAsync($"/api/products/{hidden.Id()}")).ShouldBeProblem(HttpStatusCode.NotFound);
            await (await app.Anonymous().GetAsync($"/api/products/{hidden.Str("slug")}")).ShouldBeProblem(HttpStatusCode.NotFound);
        }

        await (await seller.Http.GetAsync($"/api/products/{rivalsInactive.Id()}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await seller.Http.GetAsync($"/api/products/{rivalsActive.Id()}")).ShouldBe(HttpStatusCode.OK);

        var sellerList = await (await seller.Http.GetAsync($"/api/products?name={tag}&page_size=100")).ShouldBe(HttpStatusCode.OK);
        sellerList.Names().Should().BeEquivalentTo([$"Hidden {tag}", $"Rival shown {tag}"]);
        var withDeleted = await (await seller.Http.GetAsync($"/api/products?name={tag}&include_deleted=true")).ShouldBe(HttpStatusCode.OK);
        withDeleted.Names().Should().BeEquivalentTo([$"Hidden {tag}", $"Gone {tag}", $"Rival shown {tag}"]);
        var customerList = await (await customer.Http.GetAsync($"/api/products?name={tag}")).ShouldBe(HttpStatusCode.OK);
        customerList.Names().Should().BeEquivalentTo([$"Rival shown {tag}"]);
        await (await customer.Http.GetAsync($"/api/products?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        var staffList = await (await staff.Http.GetAsync($"/api/products?name={tag}&include_deleted=true")).ShouldBe(HttpStatusCode.OK);
        staffList.Names().Should().HaveCount(4);
    }

    [Fact]
    public async Task A_seller_import_creates_owned_products_updates_its_own_and_rejects_everyone_elses_skus()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var own = await seller.Http.CreateProductAsync(new { sku = $"own-{tag}", name = "Own", price = 1m });
        var rivals = await rival.Http.CreateProductAsync(new { sku = $"rival-{tag}", name = "Rival", price = 2m });
        var store = await staff.Http.CreateProductAsync(new { sku = $"store-{tag}", name = "Store", price = 3m });
        var deletedStore = await staff.Http.CreateProductAsync(new { sku = $"gone-{tag}", name = "Gone", price = 4m });
        (await staff.Http.DeleteAsync($"/api/products/{deletedStore.Id()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await app.AddBrandAsync($"Known {tag}");

        // Other owners' SKUs in another case, a deleted one of the store's, and a brand nobody created.
        var csv = "sku,name,price,brand\r\n" +
                  $"OWN-{tag},Own renamed,1.50,\r\n" +
                  $"new-{tag},Brand new,5,Known {tag}\r\n" +
                  $"RIVAL-{tag},Taken over,0.01,\r\n" +
                  $"Store-{tag},Taken over,0.01,\r\n" +
                  $"gone-{tag},Revived,0.01,\r\n" +
                  $"unbranded-{tag},Unknown brand,1,Invented {tag}\r\n";
        var job = await Uploads.ImportAsync(seller.Http, Uploads.Raw(csv));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        job.GetProperty("requested_by").GetInt64().Should().Be(seller.UserId);
        var result = job.GetProperty("result");
        result.GetProperty("created").GetInt32().Should().Be(1);
        result.GetProperty("updated").GetInt32().Should().Be(1);
        result.GetProperty("rejected").GetInt32().Should().Be(4);

        // Keyed by SKU key: an import writes the SKU as the file spells it.
        var products = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking()
            .Where(p => p.Sku.EndsWith(tag))
            .ToDictionaryAsync(p => p.Sku.ToLowerInvariant()));
        products[$"own-{tag}"].Name.Should().Be("Own renamed");
        products[$"new-{tag}"].OwnerId.Should().Be(seller.UserId);
        products[$"rival-{tag}"].Name.Should().Be("Rival");
        products[$"rival-{tag}"].Price.Should().Be(2m);
        products[$"store-{tag}"].Name.Should().Be("Store");
        products[$"gone-{tag}"].DeletedAt.Should().NotBeNull("a seller's import never restores another owner's product");
        products.Should().NotContainKey($"unbranded-{tag}");
        (await app.WithDbAsync(db => db.Set<Brand>().AnyAsync(b => b.Name == $"Invented {tag}"))).Should().BeFalse();

        var errors = await (await seller.Http.GetAsync(result.Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Should().Contain($"RIVAL-{tag}").And.Contain($"Store-{tag}").And.Contain($"gone-{tag}").And.Contain($"Invented {tag}");
        errors.Split("\r\n").Count(line => line.Contains("belongs to a product you do not own")).Should().Be(3);
        (await rival.Http.GetAsync(result.Str("errors_url"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_seller_variant_row_naming_another_owners_product_says_only_that_it_is_not_theirs()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var tag = Tag();
        await rival.Http.CreateProductAsync(new { sku = $"live-{tag}", name = "Live", price = 2m });
        var deleted = await rival.Http.CreateProductAsync(new { sku = $"hid-{tag}", name = "Hidden", price = 2m });
        (await rival.Http.DeleteAsync($"/api/products/{deleted.Id()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var job = await Uploads.ImportAsync(seller.Http, Uploads.Raw(
            "sku,name,product_sku\r\n" + $"V1-{tag},Size M,live-{tag}\r\n" + $"V2-{tag},Size M,hid-{tag}\r\n"));

        job.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(2);
        var errors = await (await seller.Http.GetAsync(job.GetProperty("result").Str("errors_url"))).Content.ReadAsStringAsync();
        errors.Split("\r\n").Count(line => line.Contains("belongs to a product you do not own")).Should().Be(2,
            "a rival's deleted product reads like a live one: whether it is deleted is not the seller's to learn");
        errors.Should().NotContain("deleted");
    }

    [Fact]
    public async Task A_staff_import_owns_what_it_creates_and_may_update_a_sellers_product_without_taking_it()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await seller.Http.CreateProductAsync(new { sku = $"sold-{tag}", name = "Seller's", price = 1m });

        var job = await Uploads.ImportAsync(staff.Http, Uploads.Raw($"sku,name\r\nSOLD-{tag},Edited by staff\r\nfresh-{tag},Fresh\r\n"));

        job.GetProperty("result").GetProperty("updated").GetInt32().Should().Be(1);
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(1);
        var products = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking()
            .Where(p => p.Sku.EndsWith(tag)).ToDictionaryAsync(p => p.Sku.ToLowerInvariant()));
        products[$"sold-{tag}"].Name.Should().Be("Edited by staff");
        products[$"sold-{tag}"].OwnerId.Should().Be(seller.UserId);
        products[$"fresh-{tag}"].OwnerId.Should().Be(staff.UserId, "imported products have an owner, as created ones do");
    }

    [Fact]
    public async Task A_seller_exports_only_its_own_products_and_staff_the_whole_catalog()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await seller.Http.CreateProductAsync(new { sku = $"mine-{tag}", name = $"Mine {tag}", price = 1m, is_active = false });
        await rival.Http.CreateProductAsync(new { sku = $"theirs-{tag}", name = $"Theirs {tag}", price = 1m });

        var sellerExport = await seller.Http.GetStringAsync($"/api/products/export?name={tag}");
        var staffExport = await staff.Http.GetStringAsync($"/api/products/export?name={tag}");

        sellerExport.Should().Contain($"mine-{tag}").And.NotContain($"theirs-{tag}");
        staffExport.Should().Contain($"mine-{tag}").And.Contain($"theirs-{tag}");
    }

    [Fact]
    public async Task A_seller_bulk_delete_reaches_only_its_own_products_and_staff_reach_every_owners()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var mine = await seller.Http.CreateProductAsync(new { sku = $"mine-{tag}", name = $"Sweep {tag} mine", price = 1m });
        var theirs = await rival.Http.CreateProductAsync(new { sku = $"theirs-{tag}", name = $"Sweep {tag} theirs", price = 1m });
        var stores = await staff.Http.CreateProductAsync(new { sku = $"store-{tag}", name = $"Sweep {tag} store", price = 1m });

        var sellerJob = await BulkDeleteAsync(seller.Http, new { filter = new { name = $"Sweep {tag}" } });
        sellerJob.GetProperty("result").GetProperty("deleted").GetInt64().Should().Be(1);
        (await DeletedAsync(mine, theirs, stores)).Should().Equal(true, false, false);
        var bySku = await BulkDeleteAsync(seller.Http, new { skus = new[] { $"THEIRS-{tag}" } });
        bySku.GetProperty("result").GetProperty("not_found").GetInt64().Should().Be(1, "another owner's SKU is not the seller's to see");
        (await DeletedAsync(theirs)).Should().Equal(false);

        var staffJob = await BulkDeleteAsync(staff.Http, new { filter = new { name = $"Sweep {tag}" } });
        staffJob.GetProperty("result").GetProperty("deleted").GetInt64().Should().Be(2);
        (await DeletedAsync(mine, theirs, stores)).Should().Equal(true, true, true);
    }

    [Fact]
    public async Task Sellers_see_follow_and_retry_only_the_jobs_they_queued()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var rival = await app.NewUserAsync(Roles.Seller);
        var staff = await app.NewUserAsync(Roles.Staff);
        var job = await Uploads.ImportAsync(seller.Http, Uploads.Raw($"sku,name\r\njob-{Tag()},Job\r\n"));
        var id = job.GetProperty("id").GetInt64();

        var own = await (await seller.Http.GetAsync("/api/jobs?page_size=100")).ShouldBe(HttpStatusCode.OK);
        own.GetProperty("results").EnumerateArray().Should().OnlyContain(j => j.GetProperty("requested_by").GetInt64() == seller.UserId)
            .And.Contain(j => j.GetProperty("id").GetInt64() == id);
        var rivals = await (await rival.Http.GetAsync("/api/jobs?page_size=100")).ShouldBe(HttpStatusCode.OK);
        rivals.GetProperty("results").EnumerateArray().Should().NotContain(j => j.GetProperty("id").GetInt64() == id);
        await (await rival.Http.GetAsync($"/api/jobs/{id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await rival.Http.GetAsync($"/api/jobs/{id}/events")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await rival.Http.PostAsync($"/api/jobs/{id}/retry", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await rival.Http.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.Http.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        await (await seller.Http.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_requester_demoted_to_seller_cannot_retry_a_job_queued_with_staff_reach()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var seller = await app.NewUserAsync(Roles.Seller);
        var storeWide = (await BulkDeleteAsync(staff.Http, new { skus = new[] { $"none-{Tag()}" } })).GetProperty("id").GetInt64();
        var own = (await Uploads.ImportAsync(seller.Http, Uploads.Raw($"sku,name\r\nmine-{Tag()},Mine\r\n"))).GetProperty("id").GetInt64();
        // As if the staff member who queued it had since been made a seller: the job is theirs, their role no longer staff.
        await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == storeWide || j.Id == own)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.Status, Emporium.Features.Jobs.JobStatus.FAILED).SetProperty(j => j.RequestedBy, seller.UserId)));

        var refused = await (await seller.Http.PostAsync($"/api/jobs/{storeWide}/retry", null)).ShouldBeProblem(HttpStatusCode.Forbidden);

        refused.Str("detail").Should().Contain("no longer has");
        (await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == storeWide).Select(j => j.Status).SingleAsync()))
            .Should().Be(Emporium.Features.Jobs.JobStatus.FAILED);
        // One queued before jobs recorded their reach reached the whole catalog too.
        await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == storeWide)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.Payload, j => j.Payload.Replace("\"own_products_only\":false,", ""))));
        (await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == storeWide).Select(j => j.Payload).SingleAsync()))
            .Should().NotContain("own_products_only").And.Contain("requested_by");
        await (await seller.Http.PostAsync($"/api/jobs/{storeWide}/retry", null)).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await seller.Http.PostAsync($"/api/jobs/{own}/retry", null)).ShouldBe(HttpStatusCode.OK);
        await (await staff.Http.PostAsync($"/api/jobs/{storeWide}/retry", null)).ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<JsonElement> BulkDeleteAsync(HttpClient client, object body)
    {
        var accepted = await (await client.PostJson("/api/products/bulk_delete", body)).ShouldBe(HttpStatusCode.Accepted);
        var job = await Uploads.WaitAsync(client, accepted.GetProperty("job_id").GetInt64());
        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        return job;
    }

    private Task<List<bool>> DeletedAsync(params JsonElement[] products) =>
        app.WithDbAsync(async db =>
        {
            var ids = products.Select(p => p.Id()).ToList();
            var rows = await db.Set<Product>().Where(p => ids.Contains(p.Id)).Select(p => new { p.Id, p.DeletedAt }).ToListAsync();
            return ids.Select(id => rows.Single(r => r.Id == id).DeletedAt is not null).ToList();
        });
}

public sealed class OwnershipTestsOnSqlite(UploadSqliteApp app) : OwnershipTests(app), IClassFixture<UploadSqliteApp>;

public sealed class OwnershipTestsOnPostgres(UploadPostgresApp app) : OwnershipTests(app), IClassFixture<UploadPostgresApp>;
