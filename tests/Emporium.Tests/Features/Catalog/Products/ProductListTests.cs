using System.Net;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Products;

public abstract class ProductListTests(EmporiumApp app)
{
    [Fact]
    public async Task Anonymous_list_shows_only_active_products_and_staff_see_inactive_ones()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(tag, "Visible");
        await staff.Http.CreateProductAsync(tag, "Inactive", active: false);

        (await ListAsync(app.Anonymous(), $"name={tag}")).Names().Should().Equal($"Visible {tag}");
        (await ListAsync(staff.Http, $"name={tag}&sort=name")).Names().Should().Equal($"Inactive {tag}", $"Visible {tag}");
        (await ListAsync(staff.Http, $"name={tag}&active=false")).Names().Should().Equal($"Inactive {tag}");
        (await ListAsync(staff.Http, $"name={tag}&active=true")).Names().Should().Equal($"Visible {tag}");
    }

    [Fact]
    public async Task Sku_filter_is_exact_and_ignores_case()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(new { sku = $"Exact-{tag}", name = $"Exact {tag}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"Exact-{tag}-2", name = $"Longer {tag}", price = 1 });

        (await ListAsync(app.Anonymous(), $"sku=EXACT-{tag.ToUpperInvariant()}")).Names().Should().Equal($"Exact {tag}");
    }

    [Fact]
    public async Task Name_and_description_filters_match_parts_in_any_case()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(tag, "Woollen Jumper", description: "Warm KNITTED wool");
        await staff.Http.CreateProductAsync(tag, "Cotton Tee", description: "Light summer shirt");
        await staff.Http.CreateProductAsync(tag, "Save 50% Today");
        await staff.Http.CreateProductAsync(tag, "Save 500 Today");

        (await ListAsync(app.Anonymous(), $"name=LEN%20JUM&owner={staff.UserId}")).Names().Should().Equal($"Woollen Jumper {tag}");
        (await ListAsync(app.Anonymous(), $"description=knit&name={tag}")).Names().Should().Equal($"Woollen Jumper {tag}");
        (await ListAsync(app.Anonymous(), $"name=50%25&owner={staff.UserId}")).Names().Should().Equal(
            [$"Save 50% Today {tag}"], "% in the filter is a literal character, not a wildcard");
    }

    [Fact]
    public async Task Name_and_description_filters_fold_the_case_of_letters_beyond_ASCII()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(tag, "Émile Chair", description: "Крепкий ДУБ");
        await staff.Http.CreateProductAsync(tag, "Emile Stool");

        (await ListAsync(app.Anonymous(), $"name={Uri.EscapeDataString("émile")}&owner={staff.UserId}")).Names().Should().Equal($"Émile Chair {tag}");
        (await ListAsync(app.Anonymous(), $"name={Uri.EscapeDataString("ÉMILE CH")}&owner={staff.UserId}")).Names().Should().Equal($"Émile Chair {tag}");
        (await ListAsync(app.Anonymous(), $"description={Uri.EscapeDataString("дуб")}&name={tag}")).Names().Should().Equal($"Émile Chair {tag}");
        var brand = await (await staff.Http.PostJson("/api/brands", new { name = $"Чайка {tag}" })).ShouldBe(HttpStatusCode.Created);
        var brands = await (await app.Anonymous().GetAsync($"/api/brands?name={Uri.EscapeDataString($"ЧАЙКА {tag}")}")).ShouldBe(HttpStatusCode.OK);
        brands.GetProperty("results").EnumerateArray().Select(b => b.Id()).Should().Equal(brand.Id());
    }

    [Fact]
    public async Task Price_range_is_inclusive()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        foreach (var price in new[] { 5m, 10m, 15.5m, 20m })
        {
            await staff.Http.CreateProductAsync(tag, $"P{price}", price: price);
        }

        var page = await ListAsync(app.Anonymous(), $"name={tag}&min_price=10&max_price=15.5&sort=price");
        page.GetProperty("results").EnumerateArray().Select(p => p.GetProperty("price").GetDecimal()).Should().Equal(10m, 15.5m);
    }

    [Theory]
    [InlineData("max_price=9.99995", new[] { 5.0 })]
    [InlineData("max_price=10.00001", new[] { 5.0, 10.0 })]
    [InlineData("min_price=10.00001", new[] { 15.5, 20.0 })]
    [InlineData("min_price=9.99995", new[] { 10.0, 15.5, 20.0 })]
    [InlineData("min_price=10.00001&max_price=10.00009", new double[0])]
    public async Task A_bound_with_more_decimals_than_prices_have_selects_the_same_products_on_both_databases(string bounds, double[] expected)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        foreach (var price in new[] { 5m, 10m, 15.5m, 20m })
        {
            await staff.Http.CreateProductAsync(tag, $"P{price}", price: price);
        }

        var page = await ListAsync(app.Anonymous(), $"name={tag}&{bounds}&sort=price");
        page.GetProperty("results").EnumerateArray().Select(p => p.GetProperty("price").GetDecimal())
            .Should().Equal(expected.Select(e => (decimal)e));
    }

    [Fact]
    public async Task Brand_filter_accepts_an_id_or_a_slug()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Maker {Tag()}");
        var tag = Tag();
        await staff.Http.CreateProductAsync(new { sku = $"B1-{tag}", name = $"Branded {tag}", price = 1, brand = brand.Id });
        await staff.Http.CreateProductAsync(new { sku = $"B2-{tag}", name = $"Plain {tag}", price = 1 });

        (await ListAsync(app.Anonymous(), $"name={tag}&brand={brand.Id}")).Names().Should().Equal($"Branded {tag}");
        (await ListAsync(app.Anonymous(), $"name={tag}&brand={brand.Slug}")).Names().Should().Equal($"Branded {tag}");

        // Its products keep a deleted brand and show it, so the filter still finds them.
        await (await staff.Http.DeleteAsync($"/api/brands/{brand.Id}")).ShouldBe(HttpStatusCode.NoContent);
        (await ListAsync(app.Anonymous(), $"name={tag}&brand={brand.Slug}")).Names().Should().Equal($"Branded {tag}");
    }

    [Fact]
    public async Task Category_filter_includes_descendant_categories()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var root = await app.AddCategoryAsync($"Clothing {tag}");
        var child = await app.AddCategoryAsync($"Shirts {tag}", root.Id);
        var grandchild = await app.AddCategoryAsync($"Polo {tag}", child.Id);
        var sibling = await app.AddCategoryAsync($"Garden {tag}");
        await staff.Http.CreateProductAsync(new { sku = $"C1-{tag}", name = $"A Root {tag}", price = 1, categories = new[] { root.Id } });
        await staff.Http.CreateProductAsync(new { sku = $"C2-{tag}", name = $"B Child {tag}", price = 1, categories = new[] { child.Slug } });
        await staff.Http.CreateProductAsync(new { sku = $"C3-{tag}", name = $"C Grandchild {tag}", price = 1, categories = new object[] { grandchild.Id, child.Id } });
        await staff.Http.CreateProductAsync(new { sku = $"C4-{tag}", name = $"D Sibling {tag}", price = 1, categories = new[] { sibling.Id } });

        (await ListAsync(app.Anonymous(), $"category={root.Slug}&sort=name")).Names()
            .Should().Equal($"A Root {tag}", $"B Child {tag}", $"C Grandchild {tag}");
        (await ListAsync(app.Anonymous(), $"category={child.Id}&sort=name")).Names()
            .Should().Equal($"B Child {tag}", $"C Grandchild {tag}");
    }

    [Fact]
    public async Task Category_products_endpoint_lists_direct_products_or_the_whole_subtree()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var root = await app.AddCategoryAsync($"Home {tag}");
        var child = await app.AddCategoryAsync($"Kitchen {tag}", root.Id);
        var grandchild = await app.AddCategoryAsync($"Knives {tag}", child.Id);
        await staff.Http.CreateProductAsync(new { sku = $"H1-{tag}", name = $"A Lamp {tag}", price = 3, categories = new[] { root.Id } });
        await staff.Http.CreateProductAsync(new { sku = $"H2-{tag}", name = $"B Pan {tag}", price = 2, categories = new[] { child.Id } });
        await staff.Http.CreateProductAsync(new { sku = $"H3-{tag}", name = $"C Knife {tag}", price = 1, categories = new[] { grandchild.Id } });
        await staff.Http.CreateProductAsync(tag, "Z Uncategorised");

        (await ListAsync(app.Anonymous(), "sort=name", $"/api/categories/{root.Slug}/products")).Names()
            .Should().Equal($"A Lamp {tag}");
        (await ListAsync(app.Anonymous(), "include_descendants=true&sort=name", $"/api/categories/{root.Id}/products")).Names()
            .Should().Equal($"A Lamp {tag}", $"B Pan {tag}", $"C Knife {tag}");
        (await ListAsync(app.Anonymous(), "include_descendants=true&sort=price&max_price=2", $"/api/categories/{root.Id}/products")).Names()
            .Should().Equal($"C Knife {tag}", $"B Pan {tag}");

        await (await app.Anonymous().GetAsync($"/api/categories/no-such-{tag}/products")).ShouldBeProblem(HttpStatusCode.NotFound);
        var bad = await (await app.Anonymous().GetAsync($"/api/categories/{root.Id}/products?include_descendants=maybe"))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        bad.GetProperty("errors").TryGetProperty("include_descendants", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Owner_me_lists_the_callers_products_and_needs_a_token()
    {
        var mine = await app.NewUserAsync(Roles.Staff);
        var theirs = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await mine.Http.CreateProductAsync(tag, "Mine");
        await theirs.Http.CreateProductAsync(tag, "Theirs");

        (await ListAsync(mine.Http, "owner=me")).Names().Should().Equal($"Mine {tag}");
        (await ListAsync(app.Anonymous(), $"owner={theirs.UserId}")).Names().Should().Equal($"Theirs {tag}");
        await (await app.Anonymous().GetAsync("/api/products?owner=me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("name", new[] { "Alpha", "Bravo", "Charlie" })]
    [InlineData("-name", new[] { "Charlie", "Bravo", "Alpha" })]
    [InlineData("price", new[] { "Bravo", "Charlie", "Alpha" })]
    [InlineData("-price", new[] { "Alpha", "Charlie", "Bravo" })]
    [InlineData("created_at", new[] { "Alpha", "Bravo", "Charlie" })]
    [InlineData("-created_at", new[] { "Charlie", "Bravo", "Alpha" })]
    [InlineData("", new[] { "Charlie", "Bravo", "Alpha" })]
    [InlineData("updated_at", new[] { "Bravo", "Charlie", "Alpha" })]
    [InlineData("-updated_at", new[] { "Alpha", "Charlie", "Bravo" })]
    public async Task Sort_orders_by_the_chosen_field(string sort, string[] expected)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var alpha = await staff.Http.CreateProductAsync(new { sku = $"A-{Tag()}", name = "Alpha", price = 3 });
        await staff.Http.CreateProductAsync(new { sku = $"B-{Tag()}", name = "Bravo", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"C-{Tag()}", name = "Charlie", price = 2 });
        await (await staff.Http.PatchJson($"/api/products/{alpha.Id()}", new { description = "touched" })).ShouldBe(HttpStatusCode.OK);

        (await ListAsync(staff.Http, $"owner=me&sort={sort}")).Names().Should().Equal(expected);
    }

    [Fact]
    public async Task Equal_sort_keys_fall_back_to_id_so_pages_do_not_overlap()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await staff.Http.CreateProductAsync(new { sku = $"Same-{Tag()}", name = "Same", price = 1 })).Id());
        }

        var seen = new List<long>();
        for (var page = 1; page <= 3; page++)
        {
            var results = await ListAsync(staff.Http, $"owner=me&sort=price&page={page}&page_size=2");
            seen.AddRange(results.GetProperty("results").EnumerateArray().Select(p => p.Id()));
        }

        seen.Should().Equal(ids);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("price")]
    [InlineData("-price")]
    [InlineData("created_at")]
    [InlineData("-updated_at")]
    public async Task Cursor_links_walk_every_product_once_forwards_and_back_in_sort_order_despite_ties(string sort)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        for (var i = 0; i < 7; i++)
        {
            // Equal names and prices in pairs, so the id tie-break decides between neighbours.
            await staff.Http.CreateProductAsync(tag, $"Walk{i / 2}", price: 5m + (i / 2));
        }

        var expected = (await ListAsync(app.Anonymous(), $"name={tag}&sort={sort}&page_size=100"))
            .GetProperty("results").EnumerateArray().Select(p => p.Id()).ToList();
        expected.Should().HaveCount(7);

        var forward = new List<long>();
        var pages = new List<JsonElement>();
        string? link = $"/api/products?name={tag}&sort={sort}&page_size=3";
        while (link is not null)
        {
            var page = await (await app.Anonymous().GetAsync(link)).ShouldBe(HttpStatusCode.OK);
            pages.Add(page);
            forward.AddRange(page.GetProperty("results").EnumerateArray().Select(p => p.Id()));
            link = page.GetProperty("next").GetString();
        }

        forward.Should().Equal(expected);
        pages.Select(p => p.GetProperty("page").GetInt32()).Should().Equal(1, 2, 3);

        var backward = new List<long>();
        link = pages[^1].GetProperty("previous").GetString();
        while (link is not null)
        {
            var page = await (await app.Anonymous().GetAsync(link)).ShouldBe(HttpStatusCode.OK);
            backward.InsertRange(0, page.GetProperty("results").EnumerateArray().Select(p => p.Id()));
            link = page.GetProperty("previous").GetString();
        }

        backward.Should().Equal(expected.Take(6), "walking back from the last page returns the earlier pages whole");

        // A product that sorts before page 1 arrives while the client reads: back from page 2 there is more than page 1
        // holds, and the link beyond it still answers.
        var first = await (await app.Anonymous().GetAsync(pages[1].GetProperty("previous").GetString())).ShouldBe(HttpStatusCode.OK);
        await staff.Http.CreateProductAsync(tag, "Walk", price: 1m);
        var back = await (await app.Anonymous().GetAsync(pages[1].GetProperty("previous").GetString())).ShouldBe(HttpStatusCode.OK);
        if (sort is "name" or "price" or "-updated_at")
        {
            back.GetProperty("previous").GetString().Should().NotBeNull($"{sort}: the new product sorts before page 1's rows");
            var newest = await (await app.Anonymous().GetAsync(back.GetProperty("previous").GetString())).ShouldBe(HttpStatusCode.OK);
            newest.GetProperty("results").GetArrayLength().Should().Be(1);
        }

        first.GetProperty("results").GetArrayLength().Should().Be(3);
    }

    [Theory]
    [InlineData("cursor=not-a-cursor")]
    [InlineData("cursor=eyJzIjoibmFtZSJ9")]
    [InlineData("cursor=eyJwIjoxfQ")] // {"p":1}: no sort
    [InlineData("cursor=eyJzIjoibmFtZSIsInAiOjF9")] // {"s":"name","p":1}: no value
    [InlineData("sort=price&cursor=eyJzIjoicHJpY2UiLCJ2IjoiMTAwMDAwMDAwMDAwMDAwMDAwMCIsImkiOjEsInAiOjJ9")] // a price beyond any
    [InlineData("sort=name&cursor=eyJzIjoibmFtZSIsImIiOmZhbHNlLCJ2IjoiYVx1MDAwMCIsImkiOjEsInAiOjJ9")] // a name with a NUL, which PostgreSQL's text refuses
    public async Task A_broken_cursor_is_a_400_naming_the_cursor(string query)
    {
        var problem = await (await app.Anonymous().GetAsync($"/api/products?{query}")).ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty("cursor", out _).Should().BeTrue();
    }

    [Fact]
    public async Task A_cursor_must_match_the_sort_and_cannot_be_combined_with_page()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(tag, "A");
        await staff.Http.CreateProductAsync(tag, "B");
        var first = await ListAsync(app.Anonymous(), $"name={tag}&sort=name&page_size=1");
        var cursor = System.Web.HttpUtility.ParseQueryString(new Uri(first.Str("next")).Query)["cursor"];

        var otherSort = await (await app.Anonymous().GetAsync($"/api/products?name={tag}&sort=price&cursor={cursor}"))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        otherSort.GetProperty("errors").GetProperty("cursor")[0].GetString().Should().Contain("sort=name");
        var withPage = await (await app.Anonymous().GetAsync($"/api/products?name={tag}&sort=name&page=2&cursor={cursor}"))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        withPage.GetProperty("errors").TryGetProperty("cursor", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Pages_link_to_next_and_previous_keeping_the_filters()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        for (var i = 0; i < 5; i++)
        {
            await staff.Http.CreateProductAsync(tag, $"Paged{i}");
        }

        var first = await ListAsync(app.Anonymous(), $"name={tag}&sort=name&page_size=2");
        first.GetProperty("count").GetInt64().Should().Be(5);
        first.GetProperty("page_size").GetInt32().Should().Be(2);
        first.Names().Should().Equal($"Paged0 {tag}", $"Paged1 {tag}");
        first.GetProperty("previous").ValueKind.Should().Be(JsonValueKind.Null);
        var next = first.Str("next");
        next.Should().Contain($"name={tag}").And.Contain("sort=name").And.Contain("cursor=").And.Contain("page_size=2");

        var second = await (await app.Anonymous().GetAsync(next)).ShouldBe(HttpStatusCode.OK);
        second.Names().Should().Equal($"Paged2 {tag}", $"Paged3 {tag}");
        second.GetProperty("page").GetInt32().Should().Be(2);
        second.Str("previous").Should().Contain($"name={tag}").And.Contain("cursor=");

        var last = await (await app.Anonymous().GetAsync(second.Str("next"))).ShouldBe(HttpStatusCode.OK);
        last.Names().Should().Equal($"Paged4 {tag}");
        last.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);

        var back = await (await app.Anonymous().GetAsync(last.Str("previous"))).ShouldBe(HttpStatusCode.OK);
        back.Names().Should().Equal($"Paged2 {tag}", $"Paged3 {tag}");
        var front = await (await app.Anonymous().GetAsync(back.Str("previous"))).ShouldBe(HttpStatusCode.OK);
        front.Names().Should().Equal($"Paged0 {tag}", $"Paged1 {tag}");
        front.GetProperty("page").GetInt32().Should().Be(1);
        front.GetProperty("previous").ValueKind.Should().Be(JsonValueKind.Null);

        var beyond = await ListAsync(app.Anonymous(), $"name={tag}&page=9&page_size=2");
        beyond.GetProperty("results").GetArrayLength().Should().Be(0);
        beyond.GetProperty("count").GetInt64().Should().Be(5);
    }

    [Fact]
    public async Task Page_size_above_the_maximum_is_clamped_with_a_notice()
    {
        var page = await ListAsync(app.Anonymous(), $"name={Tag()}&page_size=500");
        page.GetProperty("page_size").GetInt32().Should().Be(100);
        page.Str("notice").Should().Contain("100");
    }

    [Theory]
    [InlineData("sort=bogus", "sort")]
    [InlineData("min_price=abc", "min_price")]
    [InlineData("max_price=1e", "max_price")]
    [InlineData("min_price=10&max_price=5", "min_price")]
    [InlineData("active=maybe", "active")]
    [InlineData("include_deleted=perhaps", "include_deleted")]
    [InlineData("owner=someone", "owner")]
    [InlineData("brand=no-such-brand-q7", "brand")]
    [InlineData("brand=987654321", "brand")]
    [InlineData("category=no-such-category-q7", "category")]
    [InlineData("page=0", "page")]
    [InlineData("page_size=0", "page_size")]
    [InlineData("page=85899347", "page")]
    [InlineData("page=21474838&page_size=100", "page")]
    [InlineData("min_price=1000000000000000", "min_price")]
    [InlineData("max_price=-1000000000000000", "max_price")]
    [InlineData("min_price=-1", "min_price")]
    [InlineData("page=abc", "page")]
    [InlineData("page_size=1.5", "page_size")]
    [InlineData("page=999999999999", "page")]
    public async Task Bad_query_values_are_400_naming_the_parameter(string query, string field)
    {
        var problem = await (await app.Anonymous().GetAsync($"/api/products?{query}")).ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue(problem.ToString());
    }

    [Fact]
    public async Task Include_deleted_is_for_staff_only()
    {
        var customer = await app.NewUserAsync(Roles.Customer);
        await (await customer.Http.GetAsync("/api/products?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await app.Anonymous().GetAsync("/api/products?include_deleted=true")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await customer.Http.GetAsync("/api/products?include_deleted=false")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Search_ignores_common_words_a_name_holds()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var word = Letters();
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"The Blue Shirt {word}", price = 1 });

        (await ListAsync(app.Anonymous(), $"search=the%20shirt%20{word}")).Names().Should().Equal($"The Blue Shirt {word}");
        (await ListAsync(app.Anonymous(), $"search=THE%20blue%20{word}")).Names().Should().Equal($"The Blue Shirt {word}");
    }

    [Fact]
    public async Task Search_made_only_of_common_words_finds_the_names_they_begin()
    {
        // A shopper typing "Toaster" sends "to" first: on PostgreSQL that is an English stop word, and the search found nothing.
        var staff = await app.NewUserAsync(Roles.Staff);
        var brand = await app.AddBrandAsync($"Kitchen {Tag()}");
        foreach (var name in new[] { "Toaster", "Candle", "Kettle" })
        {
            await staff.Http.CreateProductAsync(new { sku = $"W-{Tag()}", name, price = 1, brand = brand.Id });
        }

        (await ListAsync(app.Anonymous(), $"search=to&brand={brand.Slug}")).Names().Should().Equal("Toaster");
        (await ListAsync(app.Anonymous(), $"search=CAN&brand={brand.Slug}")).Names().Should().Equal("Candle");
        (await ListAsync(app.Anonymous(), $"search=to%20can&brand={brand.Slug}")).Names().Should().BeEmpty();
    }

    [Fact]
    public async Task Search_finds_products_by_name_word_prefixes()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var word = Letters();
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"Blue Shirt {word}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"Blue Trousers {word}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"Red Shirt {word}", price = 1 });

        (await ListAsync(app.Anonymous(), $"search=blu%20shi%20{word}")).Names().Should().Equal($"Blue Shirt {word}");
        (await ListAsync(app.Anonymous(), $"search={word[..6]}%20SHIRT&sort=name")).Names()
            .Should().Equal($"Blue Shirt {word}", $"Red Shirt {word}");
    }

    [Fact]
    public async Task Search_folds_accents_both_ways_on_either_database()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var word = Letters();
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"Crème brûlée torch {word}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"S-{Tag()}", name = $"Cafe table {word}", price = 1, description = "Façade-friendly naïve design" });

        (await ListAsync(app.Anonymous(), $"search=creme%20brulee%20{word}")).Names().Should().Equal($"Crème brûlée torch {word}");
        (await ListAsync(app.Anonymous(), $"search={Uri.EscapeDataString("café")}%20{word}")).Names().Should().Equal($"Cafe table {word}");
        (await ListAsync(app.Anonymous(), $"search=facade%20naive%20{word}")).Names().Should().Equal($"Cafe table {word}");
    }

    [Fact]
    public async Task Search_finds_an_exact_sku_and_a_description_word()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var word = Letters();
        var sku = $"{word.ToUpperInvariant()}-123";
        await staff.Http.CreateProductAsync(new { sku, name = "Widget", price = 1 });
        var described = Letters();
        await staff.Http.CreateProductAsync(new { sku = $"D-{Tag()}", name = "Gadget", price = 1, description = $"Made of {described} steel" });

        (await ListAsync(app.Anonymous(), $"search={sku}")).Names().Should().Equal("Widget");
        (await ListAsync(app.Anonymous(), $"search={described}")).Names().Should().Equal("Gadget");
        (await ListAsync(app.Anonymous(), $"search={described}%20steel")).Names().Should().Equal("Gadget");
    }

    [Fact]
    public async Task Search_combines_with_filters_and_hides_what_the_caller_may_not_see()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var word = Letters();
        await staff.Http.CreateProductAsync(new { sku = $"F-{Tag()}", name = $"Cheap {word}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"F-{Tag()}", name = $"Dear {word}", price = 100 });
        await staff.Http.CreateProductAsync(new { sku = $"F-{Tag()}", name = $"Hidden {word}", price = 1, is_active = false });

        var page = await ListAsync(app.Anonymous(), $"search={word}&max_price=50");
        page.Names().Should().Equal($"Cheap {word}");
        page.GetProperty("count").GetInt64().Should().Be(1);
    }

    [Theory]
    [InlineData("\"Lantern*(", "Lantern")]
    [InlineData("NEAR(kettle stove) -xylo:*", "Near Kettle Stove Xylophone")]
    [InlineData("sku:abc & !lamp | yak", "Sku Abc Lamp Yak")]
    [InlineData("'; DROP TABLE products; --", "Drop Table Products")]
    public async Task Search_reads_query_syntax_in_user_input_as_plain_words(string syntax, string name)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = $"q{Tag()}";
        await staff.Http.CreateProductAsync(new { sku = $"Q-{Tag()}", name = $"{name} {tag}", price = 1 });
        await staff.Http.CreateProductAsync(new { sku = $"Q-{Tag()}", name = $"Unrelated {tag}", price = 1 });

        // The operators, quotes and parentheses are not the database's query language here: only the words count.
        var page = await ListAsync(app.Anonymous(), $"search={Uri.EscapeDataString($"{syntax} {tag}")}");

        page.Names().Should().Equal($"{name} {tag}");
        (await app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Product>().CountAsync(p => p.Name.EndsWith(tag)))).Should().Be(2);
    }

    [Fact]
    public async Task Search_with_only_punctuation_returns_an_empty_page()
    {
        var page = await ListAsync(app.Anonymous(), $"search={Uri.EscapeDataString("\"*()-:")}");
        page.GetProperty("count").GetInt64().Should().Be(0);
        page.GetProperty("results").GetArrayLength().Should().Be(0);
    }

    private static async Task<JsonElement> ListAsync(HttpClient client, string query, string path = "/api/products") =>
        await (await client.GetAsync($"{path}?{query}")).ShouldBe(HttpStatusCode.OK);

    /// <summary>A unique word of letters only, so full-text tokenizers keep it as one token.</summary>
    private static string Letters() =>
        new(Guid.NewGuid().ToString("N")[..12].Select(c => (char)('a' + Convert.ToInt32(c.ToString(), 16))).ToArray());
}

public sealed class ProductListTestsOnSqlite(SqliteApp app) : ProductListTests(app), IClassFixture<SqliteApp>;

public sealed class ProductListTestsOnPostgres(PostgresApp app) : ProductListTests(app), IClassFixture<PostgresApp>;
