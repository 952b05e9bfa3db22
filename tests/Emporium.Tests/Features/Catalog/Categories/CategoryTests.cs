using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Catalog.Categories;

public abstract class CategoryTests(EmporiumApp app)
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    private static async Task<JsonElement> CreateAsync(HttpClient staff, string name, object? parent = null, string? slug = null, string? description = null) =>
        await (await staff.PostJson("/api/categories", new { name, slug, description, parent })).ShouldBe(HttpStatusCode.Created);

    private static long Id(JsonElement element) => element.GetProperty("id").GetInt64();

    private static string[] Names(JsonElement page) =>
        page.GetProperty("results").EnumerateArray().Select(c => c.Str("name")).ToArray();

    private static JsonElement Node(JsonElement forest, long id) =>
        forest.EnumerateArray().Single(node => Id(node) == id);

    [Fact]
    public async Task Create_takes_the_parent_by_slug_or_id_and_reads_back_by_either_ref()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var root = await CreateAsync(staff, $"Garden {tag}", description: "Outdoor things");

        var bySlug = await CreateAsync(staff, $"Tools {tag}", parent: root.Str("slug"));
        var byId = await CreateAsync(staff, $"Seeds {tag}", parent: Id(root));

        bySlug.GetProperty("parent_id").GetInt64().Should().Be(Id(root));
        byId.GetProperty("parent_id").GetInt64().Should().Be(Id(root));
        root.GetProperty("parent_id").ValueKind.Should().Be(JsonValueKind.Null);
        var read = await (await app.Anonymous().GetAsync($"/api/categories/{bySlug.Str("slug")}")).ShouldBe(HttpStatusCode.OK);
        read.Str("name").Should().Be($"Tools {tag}");
        (await app.Anonymous().GetAsync($"/api/categories/{Id(root)}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Create_rejects_an_unknown_or_deleted_parent_with_400()
    {
        var staff = await StaffAsync();
        var gone = await CreateAsync(staff, $"Gone {Tag()}");
        (await staff.DeleteAsync($"/api/categories/{Id(gone)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var unknown = await (await staff.PostJson("/api/categories", new { name = "Orphan", parent = $"nowhere-{Tag()}" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var deleted = await (await staff.PostJson("/api/categories", new { name = "Orphan", parent = Id(gone) }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var wrongType = await (await staff.PostJson("/api/categories", new { name = "Orphan", parent = true }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        unknown.GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
        deleted.GetProperty("errors").GetProperty("parent")[0].GetString().Should().Contain("deleted");
        wrongType.GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Create_validates_name_description_and_slug()
    {
        var staff = await StaffAsync();

        var problem = await (await staff.PostJson(
                "/api/categories",
                new { name = "", slug = "2024", description = new string('d', 10_001) }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors");
        errors.TryGetProperty("name", out _).Should().BeTrue();
        errors.TryGetProperty("slug", out _).Should().BeTrue();
        errors.TryGetProperty("description", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Slugs_are_generated_with_suffixes_and_never_shadow_the_tree_route()
    {
        var staff = await StaffAsync();
        var tag = Tag();

        var first = await CreateAsync(staff, $"Lamps {tag}");
        var second = await CreateAsync(staff, $"Lamps {tag}");
        var tree = await CreateAsync(staff, "Tree");
        var reserved = await (await staff.PostJson("/api/categories", new { name = "Tree", slug = "tree" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var duplicate = await (await staff.PostJson("/api/categories", new { name = "Copy", slug = first.Str("slug") }))
            .ShouldBeProblem(HttpStatusCode.Conflict);

        first.Str("slug").Should().Be($"lamps-{tag}");
        second.Str("slug").Should().Be($"lamps-{tag}-2");
        tree.Str("slug").Should().StartWith("tree-");
        reserved.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();
        duplicate.GetProperty("errors").TryGetProperty("slug", out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_long_all_digit_name_gets_a_slug_within_the_limit_prefix_and_suffix_included()
    {
        var staff = await StaffAsync();
        var digits = string.Concat(Enumerable.Repeat(Tag(), 40)).Where(char.IsAsciiDigit).Take(200).ToArray();
        var name = new string(digits).PadRight(200, '7');

        var first = await CreateAsync(staff, name);
        var second = await CreateAsync(staff, name);

        first.Str("slug").Should().StartWith("category-").And.HaveLength(152);
        second.Str("slug").Should().Be(first.Str("slug") + "-2");
        Id(await (await staff.GetAsync($"/api/categories/{second.Str("slug")}")).ShouldBe(HttpStatusCode.OK)).Should().Be(Id(second));
    }

    [Fact]
    public async Task Tree_nests_three_levels_with_children_ordered_by_name_and_hides_deleted_ones()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var root = await CreateAsync(staff, $"Home {tag}", description: "Everything for the home");
        var kitchen = await CreateAsync(staff, "Kitchen", parent: Id(root));
        var bath = await CreateAsync(staff, "bath", parent: Id(root));
        var attic = await CreateAsync(staff, "Attic", parent: Id(root));
        var knives = await CreateAsync(staff, "Knives", parent: Id(kitchen));
        var cups = await CreateAsync(staff, "Cups", parent: Id(kitchen));
        (await staff.DeleteAsync($"/api/categories/{Id(attic)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var forest = await (await app.Anonymous().GetAsync("/api/categories/tree")).ShouldBe(HttpStatusCode.OK);

        var home = Node(forest, Id(root));
        home.Str("description").Should().Be("Everything for the home");
        var children = home.GetProperty("children");
        children.EnumerateArray().Select(Id).Should().Equal(Id(bath), Id(kitchen));
        var grandchildren = Node(children, Id(kitchen)).GetProperty("children");
        grandchildren.EnumerateArray().Select(Id).Should().Equal(Id(cups), Id(knives));
        Node(grandchildren, Id(cups)).GetProperty("children").GetArrayLength().Should().Be(0);
        Node(grandchildren, Id(knives)).Str("slug").Should().Be(knives.Str("slug"));
    }

    [Fact]
    public async Task Moving_a_category_under_itself_or_a_descendant_returns_422()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var top = await CreateAsync(staff, $"Top {tag}");
        var middle = await CreateAsync(staff, $"Middle {tag}", parent: Id(top));
        var bottom = await CreateAsync(staff, $"Bottom {tag}", parent: Id(middle));
        var url = $"/api/categories/{top.Str("slug")}";

        var self = await (await staff.PatchJson(url, new { parent = Id(top) })).ShouldBeProblem(HttpStatusCode.UnprocessableEntity);
        var grandchild = await (await staff.PutJson(url, new { name = $"Top {tag}", parent = bottom.Str("slug") }))
            .ShouldBeProblem(HttpStatusCode.UnprocessableEntity);

        self.GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
        grandchild.GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
        var unchanged = await (await staff.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        unchanged.GetProperty("parent_id").ValueKind.Should().Be(JsonValueKind.Null);

        // Moving the other way round is legal.
        var moved = await (await staff.PatchJson($"/api/categories/{Id(bottom)}", new { parent = Id(top) })).ShouldBe(HttpStatusCode.OK);
        moved.GetProperty("parent_id").GetInt64().Should().Be(Id(top));
    }

    [Fact]
    public async Task The_tree_has_at_most_thirty_levels_for_new_and_moved_categories()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var chain = new List<JsonElement> { await CreateAsync(staff, $"Level 1 {tag}") };
        for (var level = 2; level <= 30; level++)
        {
            chain.Add(await CreateAsync(staff, $"Level {level} {tag}", parent: Id(chain[^1])));
        }

        var tooDeep = await (await staff.PostJson("/api/categories", new { name = $"Level 31 {tag}", parent = Id(chain[^1]) }))
            .ShouldBeProblem(HttpStatusCode.UnprocessableEntity);
        tooDeep.GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
        // A category with a child of its own fits under level 28, not under level 29: its child would be the 31st level.
        var branch = await CreateAsync(staff, $"Branch {tag}");
        await CreateAsync(staff, $"Twig {tag}", parent: Id(branch));
        await (await staff.PatchJson($"/api/categories/{Id(branch)}", new { parent = Id(chain[28]) })).ShouldBeProblem(HttpStatusCode.UnprocessableEntity);
        await (await staff.PatchJson($"/api/categories/{Id(branch)}", new { parent = Id(chain[27]) })).ShouldBe(HttpStatusCode.OK);

        (await (await staff.GetAsync("/api/categories/tree")).ShouldBe(HttpStatusCode.OK)).GetArrayLength().Should().BeGreaterThan(0);

        // A category restored under a parent that moved deeper while it was deleted would be the 31st level.
        var twig = (await (await staff.GetAsync($"/api/categories?parent={Id(branch)}")).ShouldBe(HttpStatusCode.OK)).GetProperty("results")[0];
        await (await staff.DeleteAsync($"/api/categories/{Id(twig)}")).ShouldBe(HttpStatusCode.NoContent);
        await (await staff.PatchJson($"/api/categories/{Id(branch)}", new { parent = Id(chain[28]) })).ShouldBe(HttpStatusCode.OK);
        await (await staff.PostAsync($"/api/categories/{Id(twig)}/restore", null)).ShouldBeProblem(HttpStatusCode.Conflict);
    }

    private const int Rounds = 20;

    /// <summary>Runs two writes at once, released together.</summary>
    private static async Task<(HttpResponseMessage First, HttpResponseMessage Second)> AtOnceAsync(
        Func<Task<HttpResponseMessage>> first, Func<Task<HttpResponseMessage>> second)
    {
        using var start = new SemaphoreSlim(0);
        var a = Task.Run(async () => { await start.WaitAsync(); return await first(); });
        var b = Task.Run(async () => { await start.WaitAsync(); return await second(); });
        start.Release(2);
        return (await a, await b);
    }

    [Fact]
    public async Task Two_concurrent_moves_of_a_category_under_each_other_never_make_a_cycle()
    {
        var staff = await StaffAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var a = Id(await CreateAsync(staff, $"Swap A {Tag()}"));
            var b = Id(await CreateAsync(staff, $"Swap B {Tag()}"));

            var (aUnderB, bUnderA) = await AtOnceAsync(
                () => staff.PatchJson($"/api/categories/{a}", new { parent = b }),
                () => staff.PatchJson($"/api/categories/{b}", new { parent = a }));

            // One move lands; the other then finds the category it would sit under inside its own subtree.
            new[] { aUnderB.StatusCode, bUnderA.StatusCode }.Should().BeEquivalentTo(
                [HttpStatusCode.OK, HttpStatusCode.UnprocessableEntity], $"round {round}");
            var parentOfA = (await (await staff.GetAsync($"/api/categories/{a}")).ShouldBe(HttpStatusCode.OK)).GetProperty("parent_id");
            var parentOfB = (await (await staff.GetAsync($"/api/categories/{b}")).ShouldBe(HttpStatusCode.OK)).GetProperty("parent_id");
            (parentOfA.ValueKind == JsonValueKind.Number && parentOfB.ValueKind == JsonValueKind.Number)
                .Should().BeFalse($"A and B must not be each other's parent (round {round})");
        }
    }

    [Fact]
    public async Task A_delete_racing_a_create_under_the_category_never_leaves_a_live_child_under_a_deleted_parent()
    {
        var staff = await StaffAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var parent = Id(await CreateAsync(staff, $"Doomed {Tag()}"));

            var (delete, create) = await AtOnceAsync(
                () => staff.DeleteAsync($"/api/categories/{parent}"),
                () => staff.PostJson("/api/categories", new { name = $"Late child {Tag()}", parent }));

            // Either the child came first (the delete is refused: 409) or the delete did (the create is refused: 400).
            (delete.StatusCode, create.StatusCode).Should().BeOneOf(
                [(HttpStatusCode.Conflict, HttpStatusCode.Created), (HttpStatusCode.NoContent, HttpStatusCode.BadRequest)], $"round {round}");
        }
    }

    [Fact]
    public async Task A_restore_racing_the_parents_delete_never_leaves_a_live_child_under_a_deleted_parent()
    {
        var staff = await StaffAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var parent = Id(await CreateAsync(staff, $"Parent {Tag()}"));
            var child = Id(await CreateAsync(staff, $"Child {Tag()}", parent: parent));
            (await staff.DeleteAsync($"/api/categories/{child}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

            var (restore, delete) = await AtOnceAsync(
                () => staff.PostAsync($"/api/categories/{child}/restore", null),
                () => staff.DeleteAsync($"/api/categories/{parent}"));

            (restore.StatusCode, delete.StatusCode).Should().BeOneOf(
                [(HttpStatusCode.OK, HttpStatusCode.Conflict), (HttpStatusCode.Conflict, HttpStatusCode.NoContent)], $"round {round}");
        }
    }

    [Fact]
    public async Task Patch_changes_only_present_fields_and_a_null_parent_moves_to_the_top_level()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var parent = await CreateAsync(staff, $"Parent {tag}");
        var child = await CreateAsync(staff, $"Child {tag}", parent: Id(parent), description: "Keep me");
        var url = $"/api/categories/{Id(child)}";

        var renamed = await (await staff.PatchJson(url, new { name = $"Renamed {tag}" })).ShouldBe(HttpStatusCode.OK);
        var moved = await (await staff.PatchJson(url, new { parent = (object?)null })).ShouldBe(HttpStatusCode.OK);
        var cleared = await (await staff.PatchJson(url, new { description = (string?)null })).ShouldBe(HttpStatusCode.OK);

        renamed.GetProperty("parent_id").GetInt64().Should().Be(Id(parent));
        renamed.Str("description").Should().Be("Keep me");
        renamed.Str("slug").Should().Be(child.Str("slug"));
        moved.GetProperty("parent_id").ValueKind.Should().Be(JsonValueKind.Null);
        moved.Str("name").Should().Be($"Renamed {tag}");
        cleared.GetProperty("description").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Patch_of_parent_id_alone_moves_the_category_like_parent_does()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var first = await CreateAsync(staff, $"First {tag}");
        var second = await CreateAsync(staff, $"Second {tag}");
        var child = await CreateAsync(staff, $"Child {tag}", parent: Id(first));
        var url = $"/api/categories/{Id(child)}";

        var moved = await (await staff.PatchJson(url, new { parent_id = Id(second) })).ShouldBe(HttpStatusCode.OK);
        var topLevel = await (await staff.PatchJson(url, new { parent_id = (long?)null })).ShouldBe(HttpStatusCode.OK);

        moved.GetProperty("parent_id").GetInt64().Should().Be(Id(second));
        topLevel.GetProperty("parent_id").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Put_of_a_body_read_with_get_keeps_the_parent_through_parent_id()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var parent = await CreateAsync(staff, $"Shelf {tag}");
        var child = await CreateAsync(staff, $"Books {tag}", parent: parent.Str("slug"));
        var url = $"/api/categories/{Id(child)}";
        var response = await staff.GetAsync(url);
        var body = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(await response.Content.ReadAsStringAsync())!;
        body["name"] = JsonSerializer.SerializeToElement($"Novels {tag}");

        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", response.Headers.ETag!.Tag);
        var updated = await (await staff.SendAsync(request)).ShouldBe(HttpStatusCode.OK);

        updated.Str("name").Should().Be($"Novels {tag}");
        updated.GetProperty("parent_id").GetInt64().Should().Be(Id(parent));
    }

    [Fact]
    public async Task Deleting_a_category_with_live_subcategories_returns_409_and_a_leaf_can_be_deleted()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var parent = await CreateAsync(staff, $"Busy {tag}");
        var child = await CreateAsync(staff, $"Leaf {tag}", parent: Id(parent));

        var refused = await (await staff.DeleteAsync($"/api/categories/{parent.Str("slug")}")).ShouldBeProblem(HttpStatusCode.Conflict);
        refused.Str("detail").Should().Contain("subcategor");

        (await staff.DeleteAsync($"/api/categories/{child.Str("slug")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await staff.DeleteAsync($"/api/categories/{parent.Str("slug")}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await app.Anonymous().GetAsync($"/api/categories/{parent.Str("slug")}")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Restoring_a_category_whose_parent_is_deleted_returns_409_until_the_parent_is_restored()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var parent = await CreateAsync(staff, $"Archive {tag}");
        var child = await CreateAsync(staff, $"Old {tag}", parent: Id(parent));
        (await staff.DeleteAsync($"/api/categories/{Id(child)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await staff.DeleteAsync($"/api/categories/{Id(parent)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var refused = await (await staff.PostAsync($"/api/categories/{Id(child)}/restore", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        refused.Str("detail").Should().Contain(parent.Str("slug"));

        await (await staff.PostAsync($"/api/categories/{parent.Str("slug")}/restore", null)).ShouldBe(HttpStatusCode.OK);
        var restored = await (await staff.PostAsync($"/api/categories/{child.Str("slug")}/restore", null)).ShouldBe(HttpStatusCode.OK);
        restored.GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.Null);
        (await app.Anonymous().GetAsync($"/api/categories/{Id(child)}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task List_filters_by_parent_root_or_slug_and_include_deleted_is_for_staff()
    {
        var staff = await StaffAsync();
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var tag = Tag();
        var root = await CreateAsync(staff, $"Music {tag}");
        await CreateAsync(staff, $"Vinyl {tag}", parent: Id(root));
        await CreateAsync(staff, $"CDs {tag}", parent: root.Str("slug"));
        var tapes = await CreateAsync(staff, $"Tapes {tag}", parent: Id(root));
        (await staff.DeleteAsync($"/api/categories/{Id(tapes)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var roots = await (await app.Anonymous().GetAsync($"/api/categories?parent=root&name={tag}")).ShouldBe(HttpStatusCode.OK);
        var children = await (await app.Anonymous().GetAsync($"/api/categories?parent={root.Str("slug")}")).ShouldBe(HttpStatusCode.OK);
        var byId = await (await app.Anonymous().GetAsync($"/api/categories?parent={Id(root)}&sort=-name")).ShouldBe(HttpStatusCode.OK);
        var withDeleted = await (await staff.GetAsync($"/api/categories?parent={Id(root)}&include_deleted=true")).ShouldBe(HttpStatusCode.OK);
        await (await customer.GetAsync("/api/categories?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await app.Anonymous().GetAsync($"/api/categories?parent=missing-{tag}")).ShouldBeProblem(HttpStatusCode.BadRequest);

        Names(roots).Should().Equal($"Music {tag}");
        Names(children).Should().Equal($"CDs {tag}", $"Vinyl {tag}");
        Names(byId).Should().Equal($"Vinyl {tag}", $"CDs {tag}");
        Names(withDeleted).Should().Equal($"CDs {tag}", $"Tapes {tag}", $"Vinyl {tag}");
    }

    [Fact]
    public async Task Writes_need_staff_and_honour_if_match_while_get_honours_if_none_match()
    {
        var staff = await StaffAsync();
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var tag = Tag();
        var body = new { name = $"Guarded {tag}" };
        (await app.Anonymous().PostJson("/api/categories", body)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await customer.PostJson("/api/categories", body)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var category = await CreateAsync(staff, body.name);
        var url = $"/api/categories/{category.Str("slug")}";
        (await customer.PatchJson(url, new { name = "Hijack" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        var first = await app.Anonymous().GetAsync(url);
        var etag = first.Headers.ETag!.Tag;
        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.TryAddWithoutValidation("If-None-Match", etag);
        (await app.Anonymous().SendAsync(conditional)).StatusCode.Should().Be(HttpStatusCode.NotModified);

        var update = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(new { description = "v2" }) };
        update.Headers.TryAddWithoutValidation("If-Match", etag);
        (await staff.SendAsync(update)).StatusCode.Should().Be(HttpStatusCode.OK);
        var stale = new HttpRequestMessage(HttpMethod.Delete, url);
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        await (await staff.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        var current = await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        current.Str("description").Should().Be("v2", "the refused delete changed nothing");
        current.GetProperty("deleted_at").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task Malformed_bodies_are_client_errors_never_500()
    {
        var staff = await StaffAsync();
        var category = await CreateAsync(staff, $"Sturdy {Tag()}");
        var url = $"/api/categories/{Id(category)}";

        var malformed = await staff.PostAsync("/api/categories", new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json"));
        var plainText = await staff.PatchAsync(url, new StringContent("name=x", System.Text.Encoding.UTF8, "text/plain"));
        var fractionalParent = await staff.PatchJson(url, new { parent = 1.5 });
        var textParentId = await staff.PatchJson(url, new { parent_id = "abc" });

        await malformed.ShouldBeProblem(HttpStatusCode.BadRequest);
        await plainText.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
        (await fractionalParent.ShouldBeProblem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("parent", out _).Should().BeTrue();
        (await textParentId.ShouldBeProblem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("parent_id", out _).Should().BeTrue();
    }
}

public sealed class CategoryTestsOnSqlite(SqliteApp app) : CategoryTests(app), IClassFixture<SqliteApp>;

public sealed class CategoryTestsOnPostgres(PostgresApp app) : CategoryTests(app), IClassFixture<PostgresApp>;
