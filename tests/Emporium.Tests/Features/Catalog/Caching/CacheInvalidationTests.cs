using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Images;
using Emporium.Tests.Features.Commerce;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Infrastructure;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Caching;

/// <summary>
/// Every write path, through the API, followed at once by a read that the cache answered before the write: the read shows
/// the change (decision 0019). On SQLite with the in-process cache and on PostgreSQL with Redis.
/// </summary>
public abstract class CacheInvalidationTests(EmporiumApp app)
{
    private async Task<(HttpClient Staff, long Id, string Url)> CachedProductAsync(string? name = null)
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var product = await staff.CreateProductAsync(Tag(), name ?? "Cached");
        var url = $"/api/products/{product.Id()}";
        await app.Anonymous().WarmAsync(url);
        return (staff, product.Id(), url);
    }

    [Fact]
    public async Task Reads_come_from_the_cache_once_warm()
    {
        using var lookups = new CacheLookups(app);
        var (_, _, url) = await CachedProductAsync();

        await app.Anonymous().ReadAsync(url);
        await app.Anonymous().ReadAsync(url);

        lookups["product:hit"].Should().BeGreaterThanOrEqualTo(3, "the warm-up's second read and both reads after it were hits");
        lookups["product:miss"].Should().Be(1, "only the first read loaded the product");
    }

    [Fact]
    public async Task Patch_put_and_the_etag_follow_each_write()
    {
        var (staff, _, url) = await CachedProductAsync();
        var before = await app.Anonymous().GetAsync(url);
        var oldTag = before.Headers.ETag!;

        await (await staff.PatchJson(url, new { name = "Renamed" })).ShouldBe(HttpStatusCode.OK);
        var patched = await app.Anonymous().GetAsync(url);
        (await patched.ShouldBe(HttpStatusCode.OK)).Str("name").Should().Be("Renamed");
        patched.Headers.ETag!.Tag.Should().NotBe(oldTag.Tag);

        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(oldTag);
        (await app.Anonymous().SendAsync(conditional)).StatusCode.Should().Be(HttpStatusCode.OK, "the old ETag no longer matches");
        var current = new HttpRequestMessage(HttpMethod.Get, url);
        current.Headers.IfNoneMatch.Add(patched.Headers.ETag!);
        (await app.Anonymous().SendAsync(current)).StatusCode.Should().Be(HttpStatusCode.NotModified);

        var product = await app.Anonymous().ReadAsync(url);
        await (await staff.PutJson(url, new { sku = product.Str("sku"), name = "Replaced", price = 42.5m })).ShouldBe(HttpStatusCode.OK);
        var replaced = await app.Anonymous().ReadAsync(url);
        replaced.Str("name").Should().Be("Replaced");
        replaced.GetProperty("price").GetDecimal().Should().Be(42.5m);
    }

    [Fact]
    public async Task Delete_restore_and_deactivate_never_leak_through_the_cache()
    {
        var (staff, _, url) = await CachedProductAsync();

        await (await staff.DeleteAsync(url)).ShouldBe(HttpStatusCode.NoContent);
        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        (await staff.ReadAsync(url)).GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.String, "staff still see it");

        await (await staff.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);
        await app.Anonymous().ReadAsync(url);

        await (await staff.PatchJson(url, new { is_active = false })).ShouldBe(HttpStatusCode.OK);
        await staff.WarmAsync(url);
        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await app.Anonymous().GetAsync($"{url}/variants")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await app.Anonymous().GetAsync($"{url}/images")).ShouldBeProblem(HttpStatusCode.NotFound);
        var customer = await app.NewUserAsync(Roles.Customer);
        await (await customer.Http.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_slug_follows_renames_and_a_slug_taken_by_another_product()
    {
        var (staff, id, url) = await CachedProductAsync();
        var slug = (await app.Anonymous().ReadAsync(url)).Str("slug");
        await app.Anonymous().WarmAsync($"/api/products/{slug}");

        await (await staff.PatchJson(url, new { slug = $"{slug}-moved" })).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().GetAsync($"/api/products/{slug}")).ShouldBeProblem(HttpStatusCode.NotFound);
        (await app.Anonymous().ReadAsync($"/api/products/{slug}-moved")).Id().Should().Be(id);

        var other = await staff.CreateProductAsync(new { sku = $"SLUG-{Tag()}", name = "Other", price = 1m, slug });
        (await app.Anonymous().ReadAsync($"/api/products/{slug}")).Id().Should().Be(other.Id());
    }

    [Fact]
    public async Task Brand_category_and_attribute_changes_show_in_the_products_that_embed_them()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var brand = await app.AddBrandAsync($"Brand {Tag()}");
        var category = await app.AddCategoryAsync($"Category {Tag()}");
        var attribute = await (await staff.PostJson("/api/attributes", new { name = $"Size {Tag()}", values = new[] { new { name = "S" } } }))
            .ShouldBe(HttpStatusCode.Created);
        var product = await staff.CreateProductAsync(new { sku = $"EMB-{Tag()}", name = "Embeds", price = 3m, brand = brand.Id, categories = new[] { category.Id } });
        var url = $"/api/products/{product.Id()}";
        await (await staff.PostJson($"{url}/variants", new
        {
            sku = $"EMB-S-{Tag()}",
            attributes = new Dictionary<string, string> { [attribute.Str("slug")] = "s" },
        })).ShouldBe(HttpStatusCode.Created);
        await app.Anonymous().WarmAsync(url);

        await (await staff.PatchJson($"/api/brands/{brand.Id}", new { name = "Renamed brand" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync(url)).GetProperty("brand").Str("name").Should().Be("Renamed brand");

        await (await staff.PatchJson($"/api/categories/{category.Id}", new { name = "Renamed category" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync(url)).GetProperty("categories")[0].Str("name").Should().Be("Renamed category");

        var attributeUrl = $"/api/attributes/{attribute.GetProperty("id").GetInt64()}";
        await (await staff.PatchJson(attributeUrl, new { slug = $"size-renamed-{Tag()}" })).ShouldBe(HttpStatusCode.OK);
        var renamed = (await app.Anonymous().ReadAsync(attributeUrl)).Str("slug");
        var shown = (await app.Anonymous().ReadAsync(url)).GetProperty("variants").EnumerateArray()
            .SelectMany(v => v.GetProperty("attributes").EnumerateObject().Select(a => a.Name)).ToList();
        shown.Should().Contain(renamed, "the variant shows the attribute's new slug");

        await (await staff.DeleteAsync($"/api/categories/{category.Id}")).ShouldBe(HttpStatusCode.NoContent);
        (await app.Anonymous().ReadAsync(url)).GetProperty("categories").GetArrayLength().Should().Be(0);

        await (await staff.DeleteAsync($"/api/brands/{brand.Id}")).ShouldBe(HttpStatusCode.NoContent);
        await (await staff.PostAsync($"/api/brands/{brand.Id}/restore", null)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Variant_edits_and_every_stock_change_show_at_once()
    {
        var (staff, id, url) = await CachedProductAsync();
        await app.Anonymous().WarmAsync($"{url}/variants");
        var defaultVariant = (await app.Anonymous().ReadAsync(url)).GetProperty("variants")[0].GetProperty("id").GetInt64();

        var size = await (await staff.PostJson("/api/attributes", new { name = $"Size {Tag()}", values = new[] { new { name = "M" } } }))
            .ShouldBe(HttpStatusCode.Created);
        var added = await (await staff.PostJson($"{url}/variants", new
        {
            sku = $"VAR-{Tag()}",
            price = 7m,
            stock = 4,
            attributes = new Dictionary<string, string> { [size.Str("slug")] = "m" },
        })).ShouldBe(HttpStatusCode.Created);
        var variantId = added.GetProperty("id").GetInt64();
        (await app.Anonymous().ReadAsync(url)).GetProperty("variants").GetArrayLength().Should().Be(2);
        (await app.Anonymous().ReadAsync($"{url}/variants")).GetArrayLength().Should().Be(2);

        await (await staff.PatchJson($"/api/variants/{variantId}", new { price = 8m })).ShouldBe(HttpStatusCode.OK);
        Variant(await app.Anonymous().ReadAsync(url), variantId).GetProperty("price").GetDecimal().Should().Be(8m);

        await (await staff.PutJson($"/api/variants/{defaultVariant}/stock", new { on_hand = 9, reason = "count" })).ShouldBe(HttpStatusCode.OK);
        OnHand(await app.Anonymous().ReadAsync(url), defaultVariant).Should().Be(9);

        await (await staff.PostJson($"/api/variants/{defaultVariant}/stock/adjustments", new { delta = -2, reason = "broken" })).ShouldBe(HttpStatusCode.OK);
        OnHand(await app.Anonymous().ReadAsync(url), defaultVariant).Should().Be(7);

        var customer = await app.NewUserAsync(Roles.Customer);
        await customer.Http.AddToCartAsync(defaultVariant, 3);
        var order = await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        OnHand(await app.Anonymous().ReadAsync(url), defaultVariant).Should().Be(4, "checkout took 3");

        await (await customer.Http.PostAsync($"/api/orders/{order.GetProperty("id").GetInt64()}/cancel", null)).ShouldBe(HttpStatusCode.OK);
        OnHand(await app.Anonymous().ReadAsync(url), defaultVariant).Should().Be(7, "the cancellation put them back");

        await (await staff.DeleteAsync($"/api/variants/{variantId}")).ShouldBe(HttpStatusCode.NoContent);
        (await app.Anonymous().ReadAsync(url)).GetProperty("variants").GetArrayLength().Should().Be(1);
        (await app.Anonymous().ReadAsync($"{url}/variants")).GetArrayLength().Should().Be(1);
        id.Should().BePositive();
    }

    [Fact]
    public async Task Image_uploads_processing_edits_and_deletes_show_at_once()
    {
        var (staff, id, url) = await CachedProductAsync();
        await app.Anonymous().WarmAsync($"{url}/images");

        var accepted = await staff.UploadAsync(id, (TestImages.Jpeg(64, 48), "a.jpg", "image/jpeg"));
        var imageId = accepted[0].Id();
        (await app.Anonymous().ReadAsync($"{url}/images")).GetArrayLength().Should().Be(1, "the upload shows before it is processed");

        await staff.SettledAsync(imageId);
        (await app.Anonymous().ReadAsync(url)).GetProperty("images")[0].Str("status").Should().Be("ready", "the job's last step shows");

        await (await staff.PatchJson($"/api/images/{imageId}", new { alt_text = "A photo" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync($"{url}/images"))[0].Str("alt_text").Should().Be("A photo");

        await (await staff.DeleteAsync($"/api/images/{imageId}")).ShouldBe(HttpStatusCode.NoContent);
        (await app.Anonymous().ReadAsync(url)).GetProperty("images").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task An_import_and_a_bulk_delete_supersede_what_they_reach()
    {
        var (staff, _, url) = await CachedProductAsync();
        var sku = (await app.Anonymous().ReadAsync(url)).Str("sku");

        var import = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name,price\n{sku},Imported name,12.34\n"));
        import.Str("status").Should().Be("COMPLETED", "the job was {0}", import);
        var imported = await app.Anonymous().ReadAsync(url);
        imported.Str("name").Should().Be("Imported name");
        imported.GetProperty("price").GetDecimal().Should().Be(12.34m);

        var content = new StringContent(JsonSerializer.Serialize(new { skus = new[] { sku } }), Encoding.UTF8, "application/json");
        var bulk = await (await staff.PostAsync("/api/products/bulk_delete", content)).ShouldBe(HttpStatusCode.Accepted);
        (await Uploads.WaitAsync(staff, bulk.GetProperty("job_id").GetInt64())).Str("status").Should().Be("COMPLETED");
        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Brand_and_category_lists_and_the_category_tree_follow_every_change()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = Tag();
        var brand = await (await staff.PostJson("/api/brands", new { name = $"Listed {tag}" })).ShouldBe(HttpStatusCode.Created);
        var parent = await (await staff.PostJson("/api/categories", new { name = $"Parent {tag}" })).ShouldBe(HttpStatusCode.Created);
        var brands = $"/api/brands?name={tag}";
        var categories = $"/api/categories?name={tag}";
        using var lookups = new CacheLookups(app);
        (await app.Anonymous().WarmAsync(brands)).Names().Should().Equal($"Listed {tag}");
        await app.Anonymous().WarmAsync(categories);
        await app.Anonymous().WarmAsync("/api/categories/tree");
        lookups["list:hit"].Should().BeGreaterThanOrEqualTo(3, "each list's second read came from the cache");

        await (await staff.PatchJson($"/api/brands/{brand.Id()}", new { name = $"Relisted {tag}" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync(brands)).Names().Should().Equal($"Relisted {tag}");

        var child = await (await staff.PostJson("/api/categories", new { name = $"Child {tag}", parent = parent.Id() })).ShouldBe(HttpStatusCode.Created);
        (await app.Anonymous().ReadAsync(categories)).Names().Should().BeEquivalentTo($"Parent {tag}", $"Child {tag}");
        ChildrenOf(await app.Anonymous().ReadAsync("/api/categories/tree"), parent.Id()).Should().Equal($"Child {tag}");

        await (await staff.DeleteAsync($"/api/categories/{child.Id()}")).ShouldBe(HttpStatusCode.NoContent);
        ChildrenOf(await app.Anonymous().ReadAsync("/api/categories/tree"), parent.Id()).Should().BeEmpty();
        await (await staff.DeleteAsync($"/api/brands/{brand.Id()}")).ShouldBe(HttpStatusCode.NoContent);
        (await app.Anonymous().ReadAsync(brands)).Names().Should().BeEmpty();
    }

    [Fact]
    public async Task The_category_tree_is_one_entry_whatever_query_string_a_client_adds()
    {
        await app.Anonymous().WarmAsync("/api/categories/tree");
        using var lookups = new CacheLookups(app);
        for (var i = 0; i < 5; i++)
        {
            await (await app.Anonymous().GetAsync($"/api/categories/tree?junk={Tag()}")).ShouldBe(HttpStatusCode.OK);
        }

        lookups["list:hit"].Should().Be(5, "made-up query strings must not each store a copy of the tree");
        lookups["list:miss"].Should().Be(0);
    }

    [Fact]
    public async Task A_list_with_made_up_query_parameters_is_read_from_the_database_not_stored_once_per_parameter()
    {
        await app.Anonymous().WarmAsync("/api/brands?page_size=50&sort=name");
        using var lookups = new CacheLookups(app);
        for (var i = 0; i < 5; i++)
        {
            await (await app.Anonymous().GetAsync($"/api/brands?page_size=50&sort=name&junk={Tag()}")).ShouldBe(HttpStatusCode.OK);
        }

        await (await app.Anonymous().GetAsync("/api/brands?page_size=50&sort=name")).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().GetAsync("/api/categories?parent=root&page_size=47")).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().GetAsync("/api/categories?parent=root&page_size=47")).ShouldBe(HttpStatusCode.OK);

        lookups["list:bypass"].Should().Be(5, "made-up query parameters must not each store a copy of a full page");
        lookups["list:miss"].Should().Be(1, "the category list with its own parameter is stored once");
        lookups["list:hit"].Should().Be(2);
    }

    private static List<string> ChildrenOf(JsonElement tree, long id)
    {
        foreach (var node in tree.EnumerateArray())
        {
            if (node.GetProperty("id").GetInt64() == id)
            {
                return node.GetProperty("children").EnumerateArray().Select(c => c.Str("name")).ToList();
            }

            if (ChildrenOf(node.GetProperty("children"), id) is { Count: > 0 } found)
            {
                return found;
            }
        }

        return [];
    }

    [Fact]
    public async Task Concurrent_misses_for_one_product_load_it_once()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var url = $"/api/products/{(await staff.CreateProductAsync(Tag(), "Stampede")).Id()}";
        using var lookups = new CacheLookups(app);

        var reads = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => app.Anonymous().GetAsync(url)));

        reads.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
        lookups["product:miss"].Should().Be(1, "one request loaded the product and the others waited for it");
        lookups["product:hit"].Should().Be(23);
    }

    private static JsonElement Variant(JsonElement product, long variantId) =>
        product.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("id").GetInt64() == variantId);

    private static int OnHand(JsonElement product, long variantId) => Variant(product, variantId).GetProperty("on_hand").GetInt32();
}

public sealed class CacheInvalidationTestsOnSqlite(CachedSqliteApp app) : CacheInvalidationTests(app), IClassFixture<CachedSqliteApp>;

public sealed class CacheInvalidationTestsOnPostgresAndRedis(CachedPostgresApp app) : CacheInvalidationTests(app), IClassFixture<CachedPostgresApp>;
