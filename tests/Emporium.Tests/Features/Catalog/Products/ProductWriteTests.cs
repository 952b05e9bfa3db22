using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Products;

public abstract class ProductWriteTests(EmporiumApp app)
{
    [Fact]
    public async Task Create_returns_201_with_location_etag_and_the_representation()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Acme {Tag()}");
        var category = await app.AddCategoryAsync($"Shirts {Tag()}");
        var tag = Tag();

        var response = await staff.Http.PostJson("/api/products", new
        {
            sku = $"Abc-{tag}",
            name = $"Blue Shirt {tag}",
            description = "Cotton.",
            price = 19.99m,
            currency = "EUR",
            brand = brand.Slug,
            categories = new object[] { category.Id },
        });

        var product = await response.ShouldBe(HttpStatusCode.Created);
        response.Headers.Location!.ToString().Should().Be($"/api/products/{product.Id()}");
        response.Headers.ETag!.Tag.Should().StartWith($"\"{product.Id()}-1-", "the tag covers the embedded brand and category too");
        product.Str("sku").Should().Be($"Abc-{tag}");
        product.Str("slug").Should().Be($"blue-shirt-{tag}");
        product.GetProperty("price").GetDecimal().Should().Be(19.99m);
        product.Str("currency").Should().Be("EUR");
        product.GetProperty("is_active").GetBoolean().Should().BeTrue();
        product.GetProperty("brand").GetProperty("id").GetInt64().Should().Be(brand.Id);
        product.GetProperty("brand").Str("slug").Should().Be(brand.Slug);
        product.GetProperty("categories")[0].Str("name").Should().Be(category.Name);
        product.GetProperty("owner_id").GetInt64().Should().Be(staff.UserId);
        product.GetProperty("deleted_at").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        product.Str("created_at").Should().EndWith("Z");
    }

    [Fact]
    public async Task Created_product_can_be_read_by_id_and_by_slug()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var created = await staff.Http.CreateProductAsync(Tag(), "Readable");

        var byId = await (await app.Anonymous().GetAsync($"/api/products/{created.Id()}")).ShouldBe(HttpStatusCode.OK);
        var bySlug = await (await app.Anonymous().GetAsync($"/api/products/{created.Str("slug")}")).ShouldBe(HttpStatusCode.OK);

        byId.Str("sku").Should().Be(created.Str("sku"));
        bySlug.Id().Should().Be(created.Id());
        byId.Str("created_at").Should().Be(created.Str("created_at"));
    }

    [Fact]
    public async Task Defaults_are_usd_and_active()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(new { sku = $"D-{Tag()}", name = $"Default {Tag()}", price = 0 });
        product.Str("currency").Should().Be("USD");
        product.GetProperty("is_active").GetBoolean().Should().BeTrue();
        product.GetProperty("categories").GetArrayLength().Should().Be(0);
        product.GetProperty("brand").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Slug_is_made_unique_with_a_numeric_suffix()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var name = $"Same Name {Tag()}";
        var first = await staff.Http.CreateProductAsync(new { sku = $"S1-{Tag()}", name, price = 1 });
        var second = await staff.Http.CreateProductAsync(new { sku = $"S2-{Tag()}", name, price = 1 });
        var third = await staff.Http.CreateProductAsync(new { sku = $"S3-{Tag()}", name, price = 1 });

        second.Str("slug").Should().Be(first.Str("slug") + "-2");
        third.Str("slug").Should().Be(first.Str("slug") + "-3");
    }

    [Fact]
    public async Task Slug_generated_from_a_numeric_name_is_never_all_digits()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var digits = Random.Shared.NextInt64(1_000_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var product = await staff.Http.CreateProductAsync(new { sku = $"N-{Tag()}", name = digits, price = 1 });

        product.Str("slug").Should().Be($"product-{digits}");
        await (await app.Anonymous().GetAsync($"/api/products/{product.Str("slug")}")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_product_named_after_an_API_route_gets_a_slug_the_route_does_not_shadow()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(new { sku = $"E-{Tag()}", name = "Export", price = 1 });

        product.Str("slug").Should().StartWith("product-export");
        var read = await (await app.Anonymous().GetAsync($"/api/products/{product.Str("slug")}")).ShouldBe(HttpStatusCode.OK);
        read.Id().Should().Be(product.Id());

        var chosen = await (await staff.Http.PostJson("/api/products", new { sku = $"E-{Tag()}", name = "X", price = 1, slug = "export" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        chosen.GetProperty("errors").GetProperty("slug")[0].GetString().Should().Contain("reserved");
    }

    [Fact]
    public async Task Create_rejects_an_all_digit_or_malformed_slug()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var digits = await (await staff.Http.PostJson("/api/products", new { sku = $"X-{Tag()}", name = "X", price = 1, slug = "12345" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        digits.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();

        var malformed = await (await staff.Http.PostJson("/api/products", new { sku = $"X-{Tag()}", name = "X", price = 1, slug = "Not A Slug" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        malformed.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Create_returns_409_when_the_slug_is_taken()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var slug = $"taken-{Tag()}";
        await staff.Http.CreateProductAsync(new { sku = $"T1-{Tag()}", name = "One", price = 1, slug });

        var conflict = await (await staff.Http.PostJson("/api/products", new { sku = $"T2-{Tag()}", name = "Two", price = 1, slug }))
            .ShouldBeProblem(HttpStatusCode.Conflict);
        conflict.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Create_returns_409_when_the_sku_exists_in_another_case()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var first = await staff.Http.CreateProductAsync(new { sku = $"abc-{tag}", name = "Lower", price = 1 });

        var conflict = await (await staff.Http.PostJson("/api/products", new { sku = $"ABC-{tag}", name = "Upper", price = 1 }))
            .ShouldBeProblem(HttpStatusCode.Conflict);

        conflict.GetProperty("errors").TryGetProperty("sku", out _).Should().BeTrue();
        first.Str("sku").Should().Be($"abc-{tag}", "the SKU is kept as entered");
        var found = await (await app.Anonymous().GetAsync($"/api/products?sku=ABC-{tag}")).ShouldBe(HttpStatusCode.OK);
        found.GetProperty("count").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task Sku_of_a_soft_deleted_product_stays_taken()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var sku = $"Gone-{Tag()}";
        var product = await staff.Http.CreateProductAsync(new { sku, name = "Gone", price = 1 });
        (await staff.Http.DeleteAsync($"/api/products/{product.Id()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await staff.Http.PostJson("/api/products", new { sku = sku.ToLowerInvariant(), name = "Again", price = 1 }))
            .ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Concurrent_creates_of_one_sku_give_one_201_and_409s()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            staff.Http.PostJson("/api/products", new { sku = i % 2 == 0 ? $"race-{tag}" : $"RACE-{tag}", name = $"Race {tag} {i}", price = 1 })));

        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Where(r => r.StatusCode != HttpStatusCode.Created).Should().OnlyContain(r => r.StatusCode == HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Create_reports_every_invalid_field()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var problem = await (await staff.Http.PostJson("/api/products", new
        {
            sku = "has space",
            name = new string('n', 256),
            description = new string('d', 10_001),
            price = -1.5m,
            currency = "usd",
        })).ShouldBeProblem(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "sku", "name", "description", "price", "currency" })
        {
            errors.TryGetProperty(field, out _).Should().BeTrue($"{field} is invalid");
        }
    }

    [Theory]
    [InlineData("{\"name\":\"X\",\"price\":1}", "sku")]
    [InlineData("{\"sku\":\"\",\"name\":\"X\",\"price\":1}", "sku")]
    [InlineData("{\"sku\":\"tab\\there\",\"name\":\"X\",\"price\":1}", "sku")]
    [InlineData("{\"sku\":\"S\",\"price\":1}", "name")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\"}", "price")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":1.23456}", "price")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":100000000000000}", "price")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":1,\"currency\":\"EURO\"}", "currency")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":1,\"brand\":\"no-such-brand-x1\"}", "brand")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":1,\"categories\":[\"no-such-category-x1\"]}", "categories")]
    [InlineData("{\"sku\":\"S\",\"name\":\"X\",\"price\":\"abc\"}", "price")]
    public async Task Create_returns_400_naming_the_bad_field(string body, string field)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var response = await staff.Http.PostAsync("/api/products", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.ToString());
    }

    [Fact]
    public async Task Unknown_category_error_names_the_reference()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var known = await app.AddCategoryAsync($"Known {Tag()}");
        var problem = await (await staff.Http.PostJson("/api/products", new
        {
            sku = $"C-{Tag()}", name = "X", price = 1, categories = new object[] { known.Id, "nope-zz9" },
        })).ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("categories")[0].GetString().Should().Contain("nope-zz9");
    }

    [Fact]
    public async Task Writes_need_a_staff_token()
    {
        var customer = await app.NewUserAsync(Roles.Customer);
        var body = new { sku = $"W-{Tag()}", name = "X", price = 1 };

        await (await app.Anonymous().PostJson("/api/products", body)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await customer.Http.PostJson("/api/products", body)).ShouldBeProblem(HttpStatusCode.Forbidden);

        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        await (await app.Anonymous().PutJson($"/api/products/{product.Id()}", body)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await customer.Http.PatchJson($"/api/products/{product.Id()}", new { name = "Y" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await customer.Http.DeleteAsync($"/api/products/{product.Id()}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await customer.Http.PostAsync($"/api/products/{product.Id()}/restore", null)).ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_seller_cannot_change_another_sellers_product_but_an_admin_can()
    {
        var owner = await app.NewUserAsync(Roles.Seller);
        var other = await app.NewUserAsync(Roles.Seller);
        var admin = await app.NewUserAsync(Roles.Admin);
        var product = await owner.Http.CreateProductAsync(Tag(), "Owned");
        var url = $"/api/products/{product.Id()}";
        var replacement = new { sku = product.Str("sku"), name = "Renamed", price = 2 };

        await (await other.Http.PutJson(url, replacement)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.Http.PatchJson(url, new { name = "Stolen" })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.Http.DeleteAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.Http.PostAsync($"{url}/restore", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.Http.PatchJson($"/api/products/{product.Str("slug")}", new { name = "Stolen" })).ShouldBeProblem(HttpStatusCode.NotFound);

        var edited = await (await admin.Http.PatchJson(url, new { name = "Admin edit" })).ShouldBe(HttpStatusCode.OK);
        edited.Str("name").Should().Be("Admin edit");
        edited.GetProperty("owner_id").GetInt64().Should().Be(owner.UserId, "an edit does not change the owner");
        (await admin.Http.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Put_replaces_everything_and_resets_absent_optional_fields()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Brand {Tag()}");
        var category = await app.AddCategoryAsync($"Cat {Tag()}");
        var product = await staff.Http.CreateProductAsync(new
        {
            sku = $"P-{Tag()}", name = "Before", price = 5, description = "Old text", currency = "GBP",
            is_active = false, brand = brand.Id, categories = new[] { category.Slug },
        });

        var replaced = await (await staff.Http.PutJson($"/api/products/{product.Id()}", new { sku = $"P2-{Tag()}", name = "After", price = 6 }))
            .ShouldBe(HttpStatusCode.OK);

        replaced.Str("name").Should().Be("After");
        replaced.GetProperty("price").GetDecimal().Should().Be(6m);
        replaced.GetProperty("description").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        replaced.Str("currency").Should().Be("USD");
        replaced.GetProperty("is_active").GetBoolean().Should().BeTrue();
        replaced.GetProperty("brand").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        replaced.GetProperty("categories").GetArrayLength().Should().Be(0);
        replaced.Str("slug").Should().Be(product.Str("slug"), "an absent slug is kept on PUT");
        replaced.Str("updated_at").Should().NotBe(product.Str("updated_at"));
    }

    [Fact]
    public async Task Put_with_missing_required_fields_is_400()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        var problem = await (await staff.Http.PutJson($"/api/products/{product.Id()}", new { description = "only this" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty("sku", out _).Should().BeTrue();
        problem.GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();
        problem.GetProperty("errors").TryGetProperty("price", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_present()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Brand {Tag()}");
        var category = await app.AddCategoryAsync($"Cat {Tag()}");
        var product = await staff.Http.CreateProductAsync(new
        {
            sku = $"M-{Tag()}", name = "Kept", price = 5, description = "Kept text", currency = "GBP",
            brand = brand.Id, categories = new[] { category.Id },
        });

        var patched = await (await staff.Http.PatchJson($"/api/products/{product.Id()}", new { price = 7.25m }))
            .ShouldBe(HttpStatusCode.OK);

        patched.GetProperty("price").GetDecimal().Should().Be(7.25m);
        patched.Str("name").Should().Be("Kept");
        patched.Str("description").Should().Be("Kept text");
        patched.Str("currency").Should().Be("GBP");
        patched.GetProperty("brand").GetProperty("id").GetInt64().Should().Be(brand.Id);
        patched.GetProperty("categories").GetArrayLength().Should().Be(1);
        patched.Str("sku").Should().Be(product.Str("sku"));
    }

    [Fact]
    public async Task Patch_null_clears_optional_fields_and_is_400_for_required_ones()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Brand {Tag()}");
        var category = await app.AddCategoryAsync($"Cat {Tag()}");
        var product = await staff.Http.CreateProductAsync(new
        {
            sku = $"M-{Tag()}", name = "Full", price = 5, description = "Text", brand = brand.Slug, categories = new[] { category.Id },
        });
        var url = $"/api/products/{product.Id()}";

        var cleared = await (await staff.Http.PatchAsync(url, MergePatch("""{"description":null,"brand":null,"categories":null}""")))
            .ShouldBe(HttpStatusCode.OK);
        cleared.GetProperty("description").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        cleared.GetProperty("brand").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        cleared.GetProperty("categories").GetArrayLength().Should().Be(0);

        var problem = await (await staff.Http.PatchAsync(url, MergePatch("""{"name":null,"price":null,"sku":null}""")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        foreach (var field in new[] { "name", "price", "sku" })
        {
            problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(field);
        }
    }

    [Fact]
    public async Task Patch_accepts_merge_patch_json_and_validates_like_put()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        var url = $"/api/products/{product.Id()}";

        var renamed = await (await staff.Http.PatchAsync(url, MergePatch("""{"name":"Merged","is_active":false}""")))
            .ShouldBe(HttpStatusCode.OK);
        renamed.Str("name").Should().Be("Merged");
        renamed.GetProperty("is_active").GetBoolean().Should().BeFalse();

        var invalid = await (await staff.Http.PatchAsync(url, MergePatch("""{"price":-3,"currency":"x"}""")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        invalid.GetProperty("errors").TryGetProperty("price", out _).Should().BeTrue();
        invalid.GetProperty("errors").TryGetProperty("currency", out _).Should().BeTrue();

        var wrongType = await (await staff.Http.PatchAsync(url, MergePatch("""{"is_active":"yes"}""")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        wrongType.GetProperty("errors").TryGetProperty("is_active", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Patch_to_a_taken_sku_is_409()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var first = await staff.Http.CreateProductAsync(Tag());
        var second = await staff.Http.CreateProductAsync(Tag());
        var problem = await (await staff.Http.PatchJson($"/api/products/{second.Id()}", new { sku = first.Str("sku").ToLowerInvariant() }))
            .ShouldBeProblem(HttpStatusCode.Conflict);
        problem.GetProperty("errors").TryGetProperty("sku", out _).Should().BeTrue();
    }

    [Fact]
    public async Task If_match_with_a_stale_etag_is_412_and_with_the_current_one_succeeds()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var created = await staff.Http.PostJson("/api/products", new { sku = $"E-{Tag()}", name = "Etag", price = 1 });
        var product = await created.ShouldBe(HttpStatusCode.Created);
        var firstTag = created.Headers.ETag!.Tag;
        var url = $"/api/products/{product.Id()}";

        var update = await staff.Http.SendAsync(WithIfMatch(HttpMethod.Patch, url, firstTag, """{"name":"Second"}"""));
        await update.ShouldBe(HttpStatusCode.OK);
        var secondTag = update.Headers.ETag!.Tag;
        secondTag.Should().NotBe(firstTag);

        await (await staff.Http.SendAsync(WithIfMatch(HttpMethod.Patch, url, firstTag, """{"name":"Lost update"}""")))
            .ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        await (await staff.Http.SendAsync(WithIfMatch(HttpMethod.Put, url, firstTag, $$"""{"sku":"{{product.Str("sku")}}","name":"Lost","price":1}""")))
            .ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        await (await staff.Http.SendAsync(WithIfMatch(HttpMethod.Delete, url, firstTag, null)))
            .ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        var current = await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        current.Str("name").Should().Be("Second");

        var put = await staff.Http.SendAsync(WithIfMatch(HttpMethod.Put, url, secondTag, $$"""{"sku":"{{product.Str("sku")}}","name":"Third","price":1}"""));
        await put.ShouldBe(HttpStatusCode.OK);
        var deleted = await staff.Http.SendAsync(WithIfMatch(HttpMethod.Delete, url, put.Headers.ETag!.Tag, null));
        deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Concurrent_edits_without_If_Match_all_land_instead_of_failing_on_each_other()
    {
        // No precondition asked: a write that finds the product changed under it runs again on the new version (decision
        // 0016), as variant writes do; only If-Match naming a version makes it 412.
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        var url = $"/api/products/{product.Id()}";
        Task<int> VersionAsync() => app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Product>().Where(p => p.Id == product.Id()).Select(p => p.Version).SingleAsync());
        var before = await VersionAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => staff.Http.PatchJson(url, new { description = $"edit {i}" })));

        answers.Select(a => a.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.OK);
        (await VersionAsync()).Should().Be(before + 4, "each edit landed once");

        // Brands (the taxonomy's shared write path) too.
        var brand = await (await staff.Http.PostJson("/api/brands", new { name = $"Concurrent {Tag()}" })).ShouldBe(HttpStatusCode.Created);
        var renames = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => staff.Http.PatchJson($"/api/brands/{brand.Id()}", new { name = $"Renamed {i} {Tag()}" })));
        renames.Select(a => a.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Get_with_the_current_etag_in_if_none_match_is_304()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        var url = $"/api/products/{product.Id()}";
        var first = await app.Anonymous().GetAsync(url);
        var etag = first.Headers.ETag!.Tag;

        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var notModified = await app.Anonymous().SendAsync(request);
        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
        notModified.Headers.ETag!.Tag.Should().Be(etag);

        await staff.Http.PatchJson(url, new { name = "Changed" });
        var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.TryAddWithoutValidation("If-None-Match", etag);
        await (await app.Anonymous().SendAsync(stale)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Renaming_its_brand_or_category_or_deleting_a_category_changes_the_products_etag()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var brand = await (await staff.Http.PostJson("/api/brands", new { name = $"Etag brand {tag}" })).ShouldBe(HttpStatusCode.Created);
        var category = await (await staff.Http.PostJson("/api/categories", new { name = $"Etag category {tag}" })).ShouldBe(HttpStatusCode.Created);
        var product = await staff.Http.CreateProductAsync(new
        {
            sku = $"ET-{tag}", name = "Embeds", price = 1m, brand = brand.Id(), categories = new[] { category.Id() },
        });
        var url = $"/api/products/{product.Id()}";

        async Task<(string ETag, JsonElement Body)> ChangedSinceAsync(string etag)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
            var response = await app.Anonymous().SendAsync(request);
            var body = await response.ShouldBe(HttpStatusCode.OK);
            return (response.Headers.ETag!.Tag, body);
        }

        var etag = (await app.Anonymous().GetAsync(url)).Headers.ETag!.Tag;
        await (await staff.Http.PatchJson($"/api/brands/{brand.Id()}", new { name = $"Renamed brand {tag}" })).ShouldBe(HttpStatusCode.OK);
        var (afterBrand, body) = await ChangedSinceAsync(etag);
        body.GetProperty("brand").Str("name").Should().Be($"Renamed brand {tag}");

        await (await staff.Http.PatchJson($"/api/categories/{category.Id()}", new { slug = $"renamed-{tag}" })).ShouldBe(HttpStatusCode.OK);
        var (afterCategory, renamed) = await ChangedSinceAsync(afterBrand);
        renamed.GetProperty("categories")[0].Str("slug").Should().Be($"renamed-{tag}");

        (await staff.Http.DeleteAsync($"/api/categories/{category.Id()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (afterDelete, withoutCategory) = await ChangedSinceAsync(afterCategory);
        withoutCategory.GetProperty("categories").GetArrayLength().Should().Be(0);

        // A write based on a representation from before the rename is refused like any other stale write.
        var stale = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent(new { name = "Stale edit" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        await (await staff.Http.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        var current = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent(new { name = "Current edit" }) };
        current.Headers.TryAddWithoutValidation("If-Match", afterDelete);
        await (await staff.Http.SendAsync(current)).ShouldBe(HttpStatusCode.OK);
    }

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body, options: Emporium.Tests.Infrastructure.Json.Options);

    [Fact]
    public async Task A_put_of_what_a_read_shows_keeps_the_link_to_a_deleted_category()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var kept = await app.AddCategoryAsync($"Kept {tag}");
        var gone = await app.AddCategoryAsync($"Gone {tag}");
        var product = await (await staff.Http.PostJson("/api/products", new { sku = $"K-{tag}", name = $"Linked {tag}", price = 1m, categories = new[] { kept.Id, gone.Id } }))
            .ShouldBe(HttpStatusCode.Created);
        var url = $"/api/products/{product.Id()}";
        (await staff.Http.DeleteAsync($"/api/categories/{gone.Id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var read = await (await staff.Http.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        read.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).Should().Equal(kept.Id);

        await (await staff.Http.PutJson(url, new { sku = $"K-{tag}", name = $"Renamed {tag}", price = 1m, categories = new[] { kept.Id } }))
            .ShouldBe(HttpStatusCode.OK);
        (await staff.Http.PostAsync($"/api/categories/{gone.Id}/restore", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        var restored = await (await staff.Http.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        restored.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).Should().BeEquivalentTo([kept.Id, gone.Id]);
    }

    [Fact]
    public async Task Kept_links_to_deleted_categories_count_towards_no_limit()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var categories = new List<long>();
        for (var n = 0; n <= Emporium.Features.Catalog.Products.ProductRules.MaxCategories; n++)
        {
            categories.Add((await app.AddCategoryAsync($"Many {n} {tag}")).Id);
        }

        var full = categories.Take(Emporium.Features.Catalog.Products.ProductRules.MaxCategories).ToArray();
        var product = await (await staff.Http.PostJson("/api/products", new { sku = $"M-{tag}", name = $"Many {tag}", price = 1m, categories = full }))
            .ShouldBe(HttpStatusCode.Created);
        var url = $"/api/products/{product.Id()}";
        (await staff.Http.DeleteAsync($"/api/categories/{full[0]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await staff.Http.PutJson(url, new { sku = $"M-{tag}", name = $"Many {tag}", price = 1m, categories = categories.Skip(1).ToArray() }))
            .ShouldBe(HttpStatusCode.OK);

        // 100 live links and the kept one: a PATCH of the name alone must not read as 101 categories.
        await (await staff.Http.PatchJson(url, new { name = $"Renamed {tag}" })).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Soft_deleted_product_is_hidden_from_the_public_and_visible_to_staff()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var customer = await app.NewUserAsync(Roles.Customer);
        var tag = Tag();
        var product = await staff.Http.CreateProductAsync(tag, "Deleted");
        var url = $"/api/products/{product.Id()}";

        (await staff.Http.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await customer.Http.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        var list = await (await app.Anonymous().GetAsync($"/api/products?name={tag}")).ShouldBe(HttpStatusCode.OK);
        list.GetProperty("count").GetInt64().Should().Be(0);

        var seen = await (await staff.Http.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        seen.GetProperty("deleted_at").ValueKind.Should().Be(System.Text.Json.JsonValueKind.String);
        var staffList = await (await staff.Http.GetAsync($"/api/products?name={tag}")).ShouldBe(HttpStatusCode.OK);
        staffList.GetProperty("count").GetInt64().Should().Be(0, "deleted products are listed only on request");
        var withDeleted = await (await staff.Http.GetAsync($"/api/products?name={tag}&include_deleted=true")).ShouldBe(HttpStatusCode.OK);
        withDeleted.GetProperty("count").GetInt64().Should().Be(1);

        await (await customer.Http.GetAsync($"/api/products?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await staff.Http.PatchJson(url, new { name = "Edit a deleted one" })).ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Restore_brings_a_deleted_product_back()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag(), "Restored");
        var url = $"/api/products/{product.Id()}";
        await staff.Http.DeleteAsync(url);

        var response = await staff.Http.PostAsync($"{url}/restore", null);
        var restored = await response.ShouldBe(HttpStatusCode.OK);

        restored.GetProperty("deleted_at").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        response.Headers.ETag!.Tag.Should().StartWith($"\"{product.Id()}-3-", "the product's third version, with its default variant in the tag");
        await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Inactive_product_is_404_for_the_public_but_visible_to_staff()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var other = await app.NewUserAsync(Roles.Staff);
        var customer = await app.NewUserAsync(Roles.Customer);
        var product = await staff.Http.CreateProductAsync(Tag(), "Hidden", active: false);
        var url = $"/api/products/{product.Id()}";

        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await customer.Http.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.Http.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_product_is_404_problem()
    {
        await (await app.Anonymous().GetAsync("/api/products/999999999")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await app.Anonymous().GetAsync($"/api/products/no-such-{Tag()}")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    private static StringContent MergePatch(string json) => new(json, Encoding.UTF8, "application/merge-patch+json");

    private static HttpRequestMessage WithIfMatch(HttpMethod method, string url, string etag, string? json)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }
}

public sealed class ProductWriteTestsOnSqlite(SqliteApp app) : ProductWriteTests(app), IClassFixture<SqliteApp>;

public sealed class ProductWriteTestsOnPostgres(PostgresApp app) : ProductWriteTests(app), IClassFixture<PostgresApp>;
