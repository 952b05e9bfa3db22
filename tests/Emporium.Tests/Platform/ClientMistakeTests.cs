using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Emporium.Features.Catalog;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Platform;

/// <summary>
/// Mistakes a hostile client found answered 500 (issue 12): each is a 400 problem naming the field, on both databases, and
/// writes nothing.
/// </summary>
public abstract class ClientMistakeTests(EmporiumApp app)
{
    public static TheoryData<string, string, string> NulBodies => new()
    {
        { "/api/products", """{"sku": "N-1", "name": "a\u0000b", "price": 1}""", "name" },
        { "/api/products", """{"sku": "N-2", "name": "ok", "description": "\u0000", "price": 1}""", "description" },
        { "/api/brands", """{"name": "Nul\u0000brand"}""", "name" },
        { "/api/categories", """{"name": "Nul", "parent": "x\u0000"}""", "parent" },
        { "/api/products/bulk_delete", """{"filter": {"name": "\u0000"}}""", "filter.name" },
        { "/api/products/bulk_delete", """{"skus": ["ok", "n\u0000"]}""", "skus[1]" },
    };

    [Theory]
    [MemberData(nameof(NulBodies))]
    public async Task A_NUL_character_in_a_JSON_body_is_a_400_naming_the_field(string url, string body, string field)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var before = await CountsAsync();

        var response = await staff.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().Contain("NUL");
        (await CountsAsync()).Should().Be(before, "nothing is written");
    }

    [Theory]
    [InlineData("/api/brands", """{"name": "half \ud800 a pair"}""", "name")]
    [InlineData("/api/products", """{"sku": "S-1", "name": "ok", "price": 1, "\udc00": 1}""", "body")]
    [InlineData("/api/products/bulk_delete", """{"skus": ["ok", "\udfff"]}""", "skus[1]")]
    public async Task A_lone_surrogate_in_a_JSON_body_is_a_400_naming_the_field(string url, string body, string field)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var before = await CountsAsync();

        var response = await staff.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().Contain("surrogate");
        (await CountsAsync()).Should().Be(before, "nothing is written");
    }

    [Theory]
    [InlineData("{\"name\": \"bad ", " byte\"}", "name")]
    [InlineData("{\"na", "me\": \"x\"}", "body")]
    public async Task Bytes_that_are_not_UTF_8_in_a_JSON_body_are_a_400_naming_the_field(string before, string after, string field)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var content = new ByteArrayContent([.. Encoding.UTF8.GetBytes(before), 0xFF, .. Encoding.UTF8.GetBytes(after)]);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");

        var problem = await (await staff.Http.PostAsync("/api/brands", content)).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().Contain("UTF-8");
    }

    [Fact]
    public async Task A_surrogate_pair_escaped_in_JSON_is_an_ordinary_character()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = ProductTestKit.Tag();

        var brand = await (await staff.Http.PostAsync("/api/brands", new StringContent($$"""{"name": "Rocket \ud83d\ude80 {{tag}}"}""", Encoding.UTF8, "application/json")))
            .ShouldBe(HttpStatusCode.Created);

        brand.Str("name").Should().Be($"Rocket \U0001F680 {tag}");
    }

    [Fact]
    public async Task A_NUL_character_in_a_merge_patch_read_as_raw_JSON_is_a_400_naming_the_field()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await (await staff.Http.PostJson("/api/brands", new { name = $"Patched {ProductTestKit.Tag()}" })).ShouldBe(HttpStatusCode.Created);
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/brands/{brand.Id()}")
        {
            Content = new StringContent("""{"name": "x\u0000"}""", Encoding.UTF8, "application/merge-patch+json"),
        };

        var problem = await (await staff.Http.SendAsync(request)).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();
        (await app.WithDbAsync(db => db.Set<Brand>().SingleAsync(b => b.Id == brand.Id()))).Name.Should().Be(brand.Str("name"));
    }

    [Theory]
    [InlineData("/api/products?brand=%00", "brand")]
    [InlineData("/api/products?name=a%00", "name")]
    [InlineData("/api/users?email=%00", "email")]
    [InlineData("/api/jobs?kind=%00", "kind")]
    [InlineData("/api/events?type=%00", "type")]
    public async Task A_NUL_character_in_a_query_parameter_is_a_400_naming_it(string url, string field)
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        var problem = await (await admin.Http.GetAsync(url)).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().Contain("NUL");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("text/html")]
    public async Task A_client_that_does_not_ask_for_JSON_still_gets_its_4xx_as_problem_details(string accept)
    {
        var anonymous = app.Anonymous();
        using var nul = new HttpRequestMessage(HttpMethod.Get, "/api/products?name=a%00");
        nul.Headers.Accept.ParseAdd(accept);
        (await (await anonymous.SendAsync(nul)).ShouldBeProblem(HttpStatusCode.BadRequest))
            .GetProperty("errors").TryGetProperty("name", out _).Should().BeTrue();

        using var badJson = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = new StringContent("{", Encoding.UTF8, "application/json") };
        badJson.Headers.Accept.ParseAdd(accept);
        (await (await anonymous.SendAsync(badJson)).ShouldBeProblem(HttpStatusCode.BadRequest)).Str("trace_id").Should().NotBeNullOrEmpty();

        using var badQuery = new HttpRequestMessage(HttpMethod.Get, "/api/products?page=abc");
        badQuery.Headers.Accept.ParseAdd(accept);
        await (await anonymous.SendAsync(badQuery)).ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("application/json; charset=foo", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=utf-16", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/merge-patch+json; charset=latin1", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/json; charset=utf-8", HttpStatusCode.Unauthorized)]
    [InlineData("application/json; charset=\"UTF-8\"", HttpStatusCode.Unauthorized)]
    [InlineData("application/json; charset=utf8", HttpStatusCode.Unauthorized)]
    [InlineData("application/json; charset=us-ascii", HttpStatusCode.Unauthorized)]
    public async Task A_JSON_body_is_read_as_UTF_8_in_any_spelling_and_another_charset_is_a_415(string contentType, HttpStatusCode expected)
    {
        // A sign-in of nobody: read, it is a 401.
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"email": "nobody@example.com", "password": "whatever it is"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var problem = await (await app.Anonymous().PostAsync("/api/auth/login", content)).ShouldBeProblem(expected);

        if (expected == HttpStatusCode.UnsupportedMediaType)
        {
            problem.Str("detail").Should().Contain("UTF-8");
        }
    }

    [Fact]
    public async Task Signing_in_with_a_NUL_in_the_email_is_a_400()
    {
        var problem = await (await app.Anonymous().PostAsync("/api/auth/login",
                new StringContent("""{"email": "a\u0000@b.c", "password": "whatever it is"}""", Encoding.UTF8, "application/json")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
    }

    public static TheoryData<string, string, string, string> WrongTypes => new()
    {
        { "/api/products", """{"sku": "T-1", "name": "x", "price": true}""", "price", "price must be a number" },
        { "/api/products", """{"sku": "T-2", "name": "x", "price": 1e30}""", "price", "price must be a number" },
        { "/api/products", """{"sku": "T-3", "name": ["x"], "price": 1}""", "name", "name must be a string" },
        { "/api/products", """{"sku": "T-4", "name": "x", "price": 1, "is_active": "yes"}""", "is_active", "is_active must be true or false" },
        { "/api/products", """{"sku": "T-5", "name": "x", "price": 1, "categories": "shoes"}""", "categories", "categories must be an array" },
        { "/api/attributes", """{"name": "Size", "values": [1]}""", "values[0]", "values[0] must be an object" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task A_JSON_value_of_the_wrong_type_is_a_400_that_says_what_the_field_takes(string url, string body, string field, string message)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var before = await CountsAsync();

        var response = await staff.Http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().StartWith(message);
        problem.GetRawText().Should().NotContain("System.", "the client is told about JSON, not about .NET types");
        (await CountsAsync()).Should().Be(before, "nothing is written");
    }

    [Fact]
    public async Task A_body_that_is_not_a_JSON_object_says_so()
    {
        var staff = await app.NewUserAsync(Roles.Staff);

        var problem = await (await staff.Http.PostAsync("/api/products", new StringContent("[1]", Encoding.UTF8, "application/json")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("detail").GetString().Should().Be("The body must be an object.");
        problem.GetRawText().Should().NotContain("Emporium.");
    }

    [Theory]
    [InlineData("""{"roles": [null]}""", "null")]
    [InlineData("""{"roles": ["staff", " "]}""", "empty")]
    public async Task A_null_or_blank_role_is_a_400_naming_roles(string body, string word)
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var target = await app.NewUserAsync(Roles.Customer);

        var problem = await (await admin.Http.PutAsync($"/api/users/{target.UserId}/roles", new StringContent(body, Encoding.UTF8, "application/json")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("roles")[0].GetString().Should().Contain(word);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nsku,name\r\nA,B\r\n")]
    public async Task An_empty_or_cut_short_multipart_upload_is_a_400_on_the_file_field(string body)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var jobs = await JobCountAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");

        var problem = await (await staff.Http.PostAsync("/api/products/upload", content)).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("file", out _).Should().BeTrue();
        (await JobCountAsync()).Should().Be(jobs);
    }

    [Fact]
    public async Task A_multipart_boundary_longer_than_RFC_2046_allows_is_a_400_on_the_file_field()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag());
        var boundary = new string('b', 5000);

        foreach (var url in new[] { "/api/products/upload", $"/api/products/{product.Id()}/images" })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes($"--{boundary}\r\n"));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");

            var problem = await (await staff.Http.PostAsync(url, content)).ShouldBeProblem(HttpStatusCode.BadRequest);

            problem.GetProperty("errors").GetProperty("file")[0].GetString().Should().Contain("70 characters");
        }
    }

    [Fact]
    public async Task HEAD_answers_as_GET_does_without_a_body()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag());
        var url = $"/api/products/{product.Id()}";
        var get = await app.Anonymous().GetAsync(url);
        var getBody = await get.Content.ReadAsByteArrayAsync();

        var head = await app.Anonymous().SendAsync(new HttpRequestMessage(HttpMethod.Head, url));

        head.StatusCode.Should().Be(HttpStatusCode.OK);
        head.Headers.ETag.Should().Be(get.Headers.ETag);
        head.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        head.Content.Headers.ContentLength.Should().Be(getBody.Length);
        (await head.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        (await app.Anonymous().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/brands"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await app.Anonymous().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/products/999999999"))).StatusCode
            .Should().Be(HttpStatusCode.NotFound);
    }

    private Task<(int Products, int Brands, int Categories, int Jobs)> CountsAsync() => app.WithDbAsync(async db => (
        await db.Set<Product>().CountAsync(),
        await db.Set<Brand>().CountAsync(),
        await db.Set<Category>().CountAsync(),
        await db.Set<Emporium.Features.Jobs.Job>().CountAsync()));

    private Task<int> JobCountAsync() => app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().CountAsync());
}

public sealed class ClientMistakeTestsOnSqlite(SqliteApp app) : ClientMistakeTests(app), IClassFixture<SqliteApp>;

public sealed class ClientMistakeTestsOnPostgres(PostgresApp app) : ClientMistakeTests(app), IClassFixture<PostgresApp>;
