using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog.Brands;

public abstract class BrandTests(EmporiumApp app)
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    private static async Task<JsonElement> CreateAsync(HttpClient staff, string name, string? slug = null) =>
        await (await staff.PostJson("/api/brands", new { name, slug })).ShouldBe(HttpStatusCode.Created);

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, object? body, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Emporium.Tests.Infrastructure.Json.Options);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    private static string[] Names(JsonElement page) =>
        page.GetProperty("results").EnumerateArray().Select(b => b.Str("name")).ToArray();

    [Fact]
    public async Task Create_answers_201_with_location_etag_and_a_slug_made_from_the_name()
    {
        var staff = await StaffAsync();
        var tag = Tag();

        var response = await staff.PostJson("/api/brands", new { name = $"Café Ünïcode {tag}" });

        var brand = await response.ShouldBe(HttpStatusCode.Created);
        brand.Str("slug").Should().Be($"cafe-unicode-{tag}");
        brand.Str("name").Should().Be($"Café Ünïcode {tag}");
        brand.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.Null);
        brand.Str("created_at").Should().EndWith("Z");
        var id = brand.GetProperty("id").GetInt64();
        response.Headers.Location!.ToString().Should().Be($"/api/brands/{id}");
        response.Headers.ETag!.Tag.Should().Be($"\"{id}-1\"");
    }

    [Fact]
    public async Task Get_finds_a_brand_by_id_and_by_slug_for_anonymous_callers()
    {
        var brand = await CreateAsync(await StaffAsync(), $"Acme {Tag()}");
        var anonymous = app.Anonymous();

        var byId = await (await anonymous.GetAsync($"/api/brands/{brand.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.OK);
        var bySlug = await (await anonymous.GetAsync($"/api/brands/{brand.Str("slug")}/")).ShouldBe(HttpStatusCode.OK);

        byId.Str("slug").Should().Be(brand.Str("slug"));
        bySlug.GetProperty("id").GetInt64().Should().Be(brand.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Get_returns_404_problem_for_an_unknown_ref()
    {
        await (await app.Anonymous().GetAsync($"/api/brands/no-such-brand-{Tag()}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await app.Anonymous().GetAsync("/api/brands/987654321")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Create_appends_a_number_when_the_generated_slug_is_taken()
    {
        var staff = await StaffAsync();
        var name = $"Twin {Tag()}";

        var first = await CreateAsync(staff, name);
        var second = await CreateAsync(staff, name);
        var third = await CreateAsync(staff, name.ToUpperInvariant());

        second.Str("slug").Should().Be($"{first.Str("slug")}-2");
        third.Str("slug").Should().Be($"{first.Str("slug")}-3");
    }

    [Theory]
    [InlineData("12345", "digits")]
    [InlineData("Upper-Case", "lower-case")]
    [InlineData("double--hyphen", "single hyphens")]
    public async Task Create_rejects_an_invalid_slug_with_a_field_error(string slug, string reason)
    {
        var response = await (await StaffAsync()).PostJson("/api/brands", new { name = $"Bad slug {Tag()}", slug });

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("slug")[0].GetString().Should().Contain(reason);
    }

    [Fact]
    public async Task Create_validates_the_name()
    {
        var staff = await StaffAsync();

        var missing = await (await staff.PostJson("/api/brands", new { name = "  " })).ShouldBeProblem(HttpStatusCode.BadRequest);
        var tooLong = await (await staff.PostJson("/api/brands", new { name = new string('x', 256) })).ShouldBeProblem(HttpStatusCode.BadRequest);

        missing.GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();
        tooLong.GetProperty("errors").GetProperty("name")[0].GetString().Should().Contain("255");
    }

    [Fact]
    public async Task Create_returns_409_with_a_slug_error_when_the_slug_belongs_to_another_brand_even_a_deleted_one()
    {
        var staff = await StaffAsync();
        var slug = $"taken-{Tag()}";
        var existing = await CreateAsync(staff, "Original", slug);
        await (await staff.DeleteAsync($"/api/brands/{existing.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.NoContent);

        var response = await staff.PostJson("/api/brands", new { name = "Copycat", slug });

        var problem = await response.ShouldBeProblem(HttpStatusCode.Conflict);
        problem.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Writes_need_staff_401_for_anonymous_and_403_for_customers()
    {
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var admin = (await app.NewUserAsync(Roles.Admin)).Http;
        var body = new { name = $"Guarded {Tag()}" };

        (await app.Anonymous().PostJson("/api/brands", body)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await customer.PostJson("/api/brands", body)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var brand = await (await admin.PostJson("/api/brands", body)).ShouldBe(HttpStatusCode.Created);
        var url = $"/api/brands/{brand.Str("slug")}";
        (await customer.PutJson(url, new { name = "Hijack" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await customer.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await app.Anonymous().DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Put_replaces_the_name_keeps_an_absent_slug_and_bumps_the_etag()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var brand = await CreateAsync(staff, $"Before {tag}");
        var url = $"/api/brands/{brand.Str("slug")}";

        var response = await staff.PutJson(url, new { name = $"After {tag}" });

        var updated = await response.ShouldBe(HttpStatusCode.OK);
        updated.Str("name").Should().Be($"After {tag}");
        updated.Str("slug").Should().Be(brand.Str("slug"));
        response.Headers.ETag!.Tag.Should().Be($"\"{brand.GetProperty("id").GetInt64()}-2\"");

        var renamed = await (await staff.PutJson(url, new { name = $"After {tag}", slug = $"after-{tag}" })).ShouldBe(HttpStatusCode.OK);
        renamed.Str("slug").Should().Be($"after-{tag}");
        (await app.Anonymous().GetAsync($"/api/brands/after-{tag}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Put_to_a_slug_of_another_brand_returns_409()
    {
        var staff = await StaffAsync();
        var first = await CreateAsync(staff, $"First {Tag()}");
        var second = await CreateAsync(staff, $"Second {Tag()}");

        var response = await staff.PutJson($"/api/brands/{second.Str("slug")}", new { name = "Second", slug = first.Str("slug") });

        await response.ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_present_and_accepts_merge_patch_json()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var brand = await CreateAsync(staff, $"Patchable {tag}", $"patchable-{tag}");
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/brands/{brand.GetProperty("id").GetInt64()}")
        {
            Content = new StringContent($"{{\"name\": \"Patched {tag}\"}}", Encoding.UTF8, "application/merge-patch+json"),
        };

        var patched = await (await staff.SendAsync(request)).ShouldBe(HttpStatusCode.OK);

        patched.Str("name").Should().Be($"Patched {tag}");
        patched.Str("slug").Should().Be($"patchable-{tag}");
    }

    [Fact]
    public async Task Patch_with_a_null_slug_derives_a_new_one_from_the_name()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var brand = await CreateAsync(staff, $"Old {tag}");

        var patched = await (await staff.PatchJson($"/api/brands/{brand.Str("slug")}", new { name = $"New {tag}", slug = (string?)null }))
            .ShouldBe(HttpStatusCode.OK);

        patched.Str("slug").Should().Be($"new-{tag}");
    }

    [Fact]
    public async Task Patch_rejects_a_non_string_name_and_a_non_object_body()
    {
        var staff = await StaffAsync();
        var brand = await CreateAsync(staff, $"Strict {Tag()}");
        var url = $"/api/brands/{brand.Str("slug")}";

        var wrongType = await (await staff.PatchJson(url, new { name = 42 })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.PatchJson(url, new[] { 1, 2 })).ShouldBeProblem(HttpStatusCode.BadRequest);
        var nulled = await (await staff.PatchJson(url, new { name = (string?)null })).ShouldBeProblem(HttpStatusCode.BadRequest);

        wrongType.GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();
        nulled.GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Writes_with_a_stale_if_match_return_412_and_change_nothing()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var brand = await CreateAsync(staff, $"Contended {tag}");
        var url = $"/api/brands/{brand.GetProperty("id").GetInt64()}";
        var first = await staff.GetAsync(url);
        var etag = first.Headers.ETag!.Tag;
        (await SendAsync(staff, HttpMethod.Put, url, new { name = $"Editor one {tag}" }, etag)).StatusCode.Should().Be(HttpStatusCode.OK);

        await (await SendAsync(staff, HttpMethod.Put, url, new { name = $"Editor two {tag}" }, etag)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        await (await SendAsync(staff, HttpMethod.Patch, url, new { name = $"Editor two {tag}" }, etag)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        await (await SendAsync(staff, HttpMethod.Delete, url, null, etag)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        var current = await (await staff.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        current.Str("name").Should().Be($"Editor one {tag}");
        current.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Get_with_the_current_etag_in_if_none_match_returns_304()
    {
        var brand = await CreateAsync(await StaffAsync(), $"Cached {Tag()}");
        var anonymous = app.Anonymous();
        var url = $"/api/brands/{brand.Str("slug")}";
        var etag = (await anonymous.GetAsync(url)).Headers.ETag!.Tag;

        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var notModified = await anonymous.SendAsync(request);

        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
        notModified.Headers.ETag!.Tag.Should().Be(etag);
        var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.TryAddWithoutValidation("If-None-Match", "\"0-0\"");
        (await anonymous.SendAsync(stale)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Soft_delete_hides_the_brand_from_the_public_and_restore_brings_it_back()
    {
        var staff = await StaffAsync();
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var tag = Tag();
        var brand = await CreateAsync(staff, $"Phoenix {tag}");
        var url = $"/api/brands/{brand.Str("slug")}";

        (await staff.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await app.Anonymous().GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await customer.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        var seenByStaff = await (await staff.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        seenByStaff.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.String);
        Names(await (await app.Anonymous().GetAsync($"/api/brands?name={tag}")).ShouldBe(HttpStatusCode.OK)).Should().BeEmpty();
        Names(await (await staff.GetAsync($"/api/brands?name={tag}&include_deleted=true")).ShouldBe(HttpStatusCode.OK))
            .Should().Equal($"Phoenix {tag}");
        await (await customer.GetAsync($"/api/brands?name={tag}&include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await app.Anonymous().GetAsync($"/api/brands?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await staff.PutJson(url, new { name = "Edited while deleted" })).ShouldBeProblem(HttpStatusCode.Conflict);
        (await customer.PostAsync($"{url}/restore", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        var restored = await (await staff.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);

        restored.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.Null);
        (await app.Anonymous().GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.OK);
        Names(await (await app.Anonymous().GetAsync($"/api/brands?name={tag}")).ShouldBe(HttpStatusCode.OK)).Should().Equal($"Phoenix {tag}");
    }

    [Fact]
    public async Task List_filters_by_name_fragment_case_insensitively_and_sorts()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        await CreateAsync(staff, $"Bravo {tag}");
        await CreateAsync(staff, $"alpha {tag}");
        await CreateAsync(staff, $"Charlie {tag}");
        await CreateAsync(staff, $"Unrelated {Tag()}");
        var fragment = tag.ToUpperInvariant();

        var byName = await (await app.Anonymous().GetAsync($"/api/brands?name={fragment}")).ShouldBe(HttpStatusCode.OK);
        var byNameDesc = await (await app.Anonymous().GetAsync($"/api/brands?name={fragment}&sort=-name")).ShouldBe(HttpStatusCode.OK);
        var byCreated = await (await app.Anonymous().GetAsync($"/api/brands?name={fragment}&sort=created_at")).ShouldBe(HttpStatusCode.OK);
        var byCreatedDesc = await (await app.Anonymous().GetAsync($"/api/brands?name={fragment}&sort=-created_at")).ShouldBe(HttpStatusCode.OK);

        byName.GetProperty("count").GetInt64().Should().Be(3);
        Names(byName).Select(n => n.ToUpperInvariant()).Should().BeInAscendingOrder();
        Names(byNameDesc).Select(n => n.ToUpperInvariant()).Should().BeInDescendingOrder();
        Names(byCreated).Should().Equal($"Bravo {tag}", $"alpha {tag}", $"Charlie {tag}");
        Names(byCreatedDesc).Should().Equal($"Charlie {tag}", $"alpha {tag}", $"Bravo {tag}");
    }

    [Fact]
    public async Task List_pages_and_rejects_an_unknown_sort()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        for (var i = 0; i < 3; i++)
        {
            await CreateAsync(staff, $"Paged {i} {tag}");
        }

        var page = await (await app.Anonymous().GetAsync($"/api/brands?name={tag}&page_size=2&page=2")).ShouldBe(HttpStatusCode.OK);
        var badSort = await (await app.Anonymous().GetAsync("/api/brands?sort=price")).ShouldBeProblem(HttpStatusCode.BadRequest);

        Names(page).Should().Equal($"Paged 2 {tag}");
        page.GetProperty("count").GetInt64().Should().Be(3);
        page.GetProperty("previous").GetString().Should().Contain("page=1");
        badSort.GetProperty("errors").TryGetProperty("sort", out _).Should().BeTrue();
    }

    [Fact]
    public async Task OpenApi_document_describes_the_brand_and_category_endpoints()
    {
        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);

        var paths = document.GetProperty("paths");
        paths.TryGetProperty("/api/brands/{ref}", out _).Should().BeTrue();
        paths.TryGetProperty("/api/brands/{ref}/restore", out _).Should().BeTrue();
        paths.TryGetProperty("/api/categories/tree", out _).Should().BeTrue();
        var listParameters = paths.GetProperty("/api/brands").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Select(p => p.Str("name")).ToArray();
        listParameters.Should().Contain(["name", "include_deleted", "sort", "page", "page_size"]);
    }
}

public sealed class BrandTestsOnSqlite(SqliteApp app) : BrandTests(app), IClassFixture<SqliteApp>;

public sealed class BrandTestsOnPostgres(PostgresApp app) : BrandTests(app), IClassFixture<PostgresApp>;
