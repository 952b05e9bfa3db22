using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog.Attributes;

public abstract class AttributeTests(EmporiumApp app)
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    private static (string Slug, string Name, long Id)[] Values(JsonElement attribute) =>
        attribute.GetProperty("values").EnumerateArray().Select(v => (v.Str("slug"), v.Str("name"), v.GetProperty("id").GetInt64())).ToArray();

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string json, string? ifMatch = null,
        string mediaType = "application/json")
    {
        var request = new HttpRequestMessage(method, url) { Content = new StringContent(json, Encoding.UTF8, mediaType) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    [Fact]
    public async Task Create_keeps_values_in_the_order_given_with_slugs_made_from_their_names()
    {
        var staff = await StaffAsync();
        var tag = Tag();

        var response = await staff.PostJson("/api/attributes", new
        {
            name = $"Size {tag}",
            values = new object[] { new { name = "Small", slug = "s" }, new { name = "Medium" }, new { name = "Extra Large" } },
        });

        var attribute = await response.ShouldBe(HttpStatusCode.Created);
        attribute.Str("slug").Should().Be($"size-{tag}");
        Values(attribute).Select(v => (v.Slug, v.Name)).Should().Equal(("s", "Small"), ("medium", "Medium"), ("extra-large", "Extra Large"));
        var id = attribute.GetProperty("id").GetInt64();
        response.Headers.Location!.ToString().Should().Be($"/api/attributes/{id}");

        var read = await (await app.Anonymous().GetAsync($"/api/attributes/size-{tag}")).ShouldBe(HttpStatusCode.OK);
        Values(read).Should().Equal(Values(attribute));
    }

    [Fact]
    public async Task Replace_keeps_the_ids_of_values_whose_slug_stays_and_follows_the_new_order()
    {
        var staff = await StaffAsync();
        var created = await (await staff.PostJson("/api/attributes", new
        {
            name = $"Color {Tag()}",
            values = new object[] { new { name = "Red" }, new { name = "Green" }, new { name = "Blue" } },
        })).ShouldBe(HttpStatusCode.Created);
        var before = Values(created).ToDictionary(v => v.Slug, v => v.Id);
        var url = $"/api/attributes/{created.GetProperty("id").GetInt64()}";

        var replaced = await (await SendAsync(staff, HttpMethod.Put, url,
            $$"""{"name": "{{created.Str("name")}}", "values": [{"name": "Blue (navy)", "slug": "blue"}, {"name": "Red"}, {"name": "Black"}]}""",
            "\"" + created.GetProperty("id").GetInt64() + "-1\"")).ShouldBe(HttpStatusCode.OK);

        var after = Values(replaced);
        after.Select(v => (v.Slug, v.Name)).Should().Equal(("blue", "Blue (navy)"), ("red", "Red"), ("black", "Black"));
        after[0].Id.Should().Be(before["blue"]);
        after[1].Id.Should().Be(before["red"]);
        after[2].Id.Should().NotBe(before["green"]);
        var read = await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        Values(read).Should().Equal(after);
    }

    [Fact]
    public async Task A_merge_patch_without_values_keeps_them_and_one_with_values_replaces_the_list()
    {
        var staff = await StaffAsync();
        var created = await (await staff.PostJson("/api/attributes", new
        {
            name = $"Material {Tag()}",
            values = new object[] { new { name = "Cotton" }, new { name = "Wool" } },
        })).ShouldBe(HttpStatusCode.Created);
        var url = $"/api/attributes/{created.GetProperty("id").GetInt64()}";

        var renamed = await (await SendAsync(staff, HttpMethod.Patch, url, """{"name": "Fabric"}""", mediaType: "application/merge-patch+json"))
            .ShouldBe(HttpStatusCode.OK);
        renamed.Str("name").Should().Be("Fabric");
        Values(renamed).Should().Equal(Values(created));

        var narrowed = await (await SendAsync(staff, HttpMethod.Patch, url, """{"values": [{"name": "Wool"}]}""", mediaType: "application/merge-patch+json"))
            .ShouldBe(HttpStatusCode.OK);
        Values(narrowed).Should().ContainSingle().Which.Id.Should().Be(Values(created)[1].Id);
    }

    [Fact]
    public async Task Bad_values_are_a_400_naming_each_field_and_nothing_is_stored()
    {
        var staff = await StaffAsync();
        var tag = Tag();

        var problem = await (await SendAsync(staff, HttpMethod.Post, "/api/attributes",
            $$"""{"name": "Fit {{tag}}", "values": [{"name": "Slim", "slug": "slim"}, {"name": "  "}, {"name": "Slim again", "slug": "slim"}, {"name": "Bad", "slug": "Not A Slug"}]}"""))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        errors.TryGetProperty("values[1].name", out _).Should().BeTrue();
        errors.GetProperty("values[2].slug")[0].GetString().Should().Contain("slim");
        errors.TryGetProperty("values[3].slug", out _).Should().BeTrue();
        errors.TryGetProperty("values[0].name", out _).Should().BeFalse();
        await (await app.Anonymous().GetAsync($"/api/attributes/fit-{tag}")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Customers_cannot_write_attributes_and_deleted_ones_are_hidden_from_them()
    {
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        await (await customer.PostJson("/api/attributes", new { name = $"Nope {Tag()}" })).ShouldBeProblem(HttpStatusCode.Forbidden);

        var staff = await StaffAsync();
        var created = await (await staff.PostJson("/api/attributes", new { name = $"Season {Tag()}", values = new[] { new { name = "Winter" } } }))
            .ShouldBe(HttpStatusCode.Created);
        var url = $"/api/attributes/{created.GetProperty("id").GetInt64()}";
        (await staff.DeleteAsync(url)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await customer.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
        var seenByStaff = await (await staff.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        Values(seenByStaff).Should().Equal(Values(created));

        var restored = await (await staff.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);
        restored.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.Null);
        await (await customer.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_list_shows_each_attribute_with_its_values()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        await (await staff.PostJson("/api/attributes", new { name = $"Listed {tag} B", values = new[] { new { name = "Two" }, new { name = "One" } } }))
            .ShouldBe(HttpStatusCode.Created);
        await (await staff.PostJson("/api/attributes", new { name = $"Listed {tag} A" })).ShouldBe(HttpStatusCode.Created);

        var page = await (await app.Anonymous().GetAsync($"/api/attributes?name=listed {tag}")).ShouldBe(HttpStatusCode.OK);

        var results = page.GetProperty("results").EnumerateArray().ToArray();
        results.Select(r => r.Str("name")).Should().Equal($"Listed {tag} A", $"Listed {tag} B");
        Values(results[0]).Should().BeEmpty();
        Values(results[1]).Select(v => v.Slug).Should().Equal("two", "one");
    }
}

public sealed class AttributeTestsOnSqlite(SqliteApp app) : AttributeTests(app), IClassFixture<SqliteApp>;

public sealed class AttributeTestsOnPostgres(PostgresApp app) : AttributeTests(app), IClassFixture<PostgresApp>;
