using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Events;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Features.Commerce;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog.Variants;

/// <summary>Variants, the one SKU namespace, and stock that never goes negative (issue 14, decision 0016), on both databases.</summary>
public abstract class VariantTests(EmporiumApp app)
{
    private static string Tag() => Guid.NewGuid().ToString("N")[..10];

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    /// <summary>An attribute named after <paramref name="tag"/> with values s, m and l; returns its slug.</summary>
    private static async Task<string> SizesAsync(HttpClient staff, string tag)
    {
        var created = await (await staff.PostJson("/api/attributes", new
        {
            name = $"Size {tag}",
            values = new[] { new { name = "S", slug = "s" }, new { name = "M", slug = "m" }, new { name = "L", slug = "l" } },
        })).ShouldBe(HttpStatusCode.Created);
        return created.Str("slug");
    }

    private static Task<HttpResponseMessage> AddVariantAsync(HttpClient client, long productId, string sku, string? attribute, string? value,
        decimal? price = null, int? stock = null) =>
        client.PostJson($"/api/products/{productId}/variants", new
        {
            sku,
            price,
            stock,
            attributes = attribute is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [attribute] = value! },
        });

    private static Task<HttpResponseMessage> AdjustAsync(HttpClient client, long variantId, int delta, string reason = "test") =>
        client.PostJson($"/api/variants/{variantId}/stock/adjustments", new { delta, reason });

    private static string[] Errors(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task A_new_product_has_a_default_variant_that_follows_its_sku_and_price()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var product = await staff.CreateProductAsync(new { sku = $"Plain-{tag}", name = $"Plain {tag}", price = 10m });

        var variant = product.GetProperty("variants").EnumerateArray().Should().ContainSingle().Subject;
        variant.Str("sku").Should().Be($"Plain-{tag}");
        variant.GetProperty("is_default").GetBoolean().Should().BeTrue();
        variant.GetProperty("price").GetDecimal().Should().Be(10m);
        variant.GetProperty("price_override").ValueKind.Should().Be(JsonValueKind.Null);
        variant.GetProperty("on_hand").GetInt32().Should().Be(0);
        variant.GetProperty("available").GetBoolean().Should().BeFalse("nothing is in stock");
        variant.GetProperty("attributes").EnumerateObject().Should().BeEmpty();

        await (await staff.PatchJson($"/api/products/{product.Id()}", new { sku = $"PLAIN-{tag}-2", price = 11.5m })).ShouldBe(HttpStatusCode.OK);

        var variants = await (await app.Anonymous().GetAsync($"/api/products/{product.Id()}/variants")).ShouldBe(HttpStatusCode.OK);
        var after = variants.EnumerateArray().Should().ContainSingle().Subject;
        after.GetProperty("id").GetInt64().Should().Be(variant.GetProperty("id").GetInt64());
        after.Str("sku").Should().Be($"PLAIN-{tag}-2");
        after.GetProperty("price").GetDecimal().Should().Be(11.5m);

        var list = await (await app.Anonymous().GetAsync($"/api/products?name={tag}")).ShouldBe(HttpStatusCode.OK);
        list.GetProperty("results")[0].TryGetProperty("variants", out _).Should().BeFalse("lists leave variants out");
    }

    [Fact]
    public async Task An_attribute_a_live_variant_uses_cannot_be_deleted_until_the_variant_goes()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"CAP-{tag}", name = $"Cap {tag}", price = 20m });
        var variant = await (await AddVariantAsync(staff, product.Id(), $"CAP-{tag}-M", size, "m")).ShouldBe(HttpStatusCode.Created);

        var refused = await (await staff.DeleteAsync($"/api/attributes/{size}")).ShouldBeProblem(HttpStatusCode.Conflict);

        refused.Str("detail").Should().Contain($"CAP-{tag}-M");
        await (await app.Anonymous().GetAsync($"/api/attributes/{size}")).ShouldBe(HttpStatusCode.OK);
        await (await staff.DeleteAsync($"/api/variants/{variant.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.NoContent);
        await (await staff.DeleteAsync($"/api/attributes/{size}")).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_variant_has_its_own_sku_price_stock_and_attribute_values()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"TEE-{tag}", name = $"Tee {tag}", price = 20m });

        var response = await AddVariantAsync(staff, product.Id(), $"TEE-{tag}-M", size, "m", price: 22.5m, stock: 3);

        var variant = await response.ShouldBe(HttpStatusCode.Created);
        var id = variant.GetProperty("id").GetInt64();
        response.Headers.Location!.ToString().Should().Be($"/api/variants/{id}");
        response.Headers.ETag.Should().NotBeNull();
        variant.GetProperty("product_id").GetInt64().Should().Be(product.Id());
        variant.GetProperty("price").GetDecimal().Should().Be(22.5m);
        variant.GetProperty("price_override").GetDecimal().Should().Be(22.5m);
        variant.GetProperty("attributes").GetProperty(size).GetString().Should().Be("m");
        variant.GetProperty("on_hand").GetInt32().Should().Be(3);
        variant.GetProperty("available").GetBoolean().Should().BeTrue();
        variant.GetProperty("is_default").GetBoolean().Should().BeFalse();

        var read = await (await app.Anonymous().GetAsync($"/api/products/{product.Id()}")).ShouldBe(HttpStatusCode.OK);
        read.GetProperty("variants").EnumerateArray().Select(v => v.Str("sku")).Should().Equal($"TEE-{tag}", $"TEE-{tag}-M");

        var movements = await (await staff.GetAsync($"/api/variants/{id}/stock/movements")).ShouldBe(HttpStatusCode.OK);
        var movement = movements.GetProperty("results").EnumerateArray().Should().ContainSingle().Subject;
        movement.GetProperty("delta").GetInt32().Should().Be(3);
        movement.Str("reason").Should().Be("initial stock");

        // Dropping the override sells at the product's price again.
        var patched = await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{id}", """{"price": null}""")).ShouldBe(HttpStatusCode.OK);
        patched.GetProperty("price").GetDecimal().Should().Be(20m);
        patched.GetProperty("price_override").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task A_deleted_product_s_variants_stay_as_they_were_until_it_is_restored()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"DEL-{tag}", name = $"Deleted {tag}", price = 5m });
        var id = (await (await AddVariantAsync(staff, product.Id(), $"DEL-{tag}-M", size, "m", stock: 4)).ShouldBe(HttpStatusCode.Created)).Id();
        await (await staff.DeleteAsync($"/api/products/{product.Id()}")).ShouldBe(HttpStatusCode.NoContent);

        await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{id}", $$"""{"sku": "DEL-{{tag}}-X"}""")).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await AdjustAsync(staff, id, -1)).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.PutJson($"/api/variants/{id}/stock", new { on_hand = 9, reason = "count" })).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.DeleteAsync($"/api/variants/{id}")).ShouldBeProblem(HttpStatusCode.Conflict);
        (await app.OnHandAsync(id)).Should().Be(4);

        await (await staff.PostAsync($"/api/products/{product.Id()}/restore", null)).ShouldBe(HttpStatusCode.OK);
        (await (await AdjustAsync(staff, id, -1)).ShouldBe(HttpStatusCode.OK)).GetProperty("on_hand").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task Deleting_a_variant_leaves_its_images_showing_the_product_as_a_whole()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"IMG-{tag}", name = $"Pictured {tag}", price = 5m });
        var id = (await (await AddVariantAsync(staff, product.Id(), $"IMG-{tag}-M", size, "m")).ShouldBe(HttpStatusCode.Created)).Id();
        var imageId = await app.WithDbAsync(async db =>
        {
            var image = new Emporium.Features.Catalog.Images.ProductImage
            {
                ProductId = product.Id(), VariantId = id, StoragePrefix = $"test/{tag}", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Add(image);
            await db.SaveChangesAsync();
            return image.Id;
        });

        await (await staff.DeleteAsync($"/api/variants/{id}")).ShouldBe(HttpStatusCode.NoContent);

        var image = await (await staff.GetAsync($"/api/images/{imageId}")).ShouldBe(HttpStatusCode.OK);
        image.GetProperty("variant_id").ValueKind.Should().Be(JsonValueKind.Null, "an image links only a live variant");
    }

    [Fact]
    public async Task Products_and_variants_share_one_sku_namespace_regardless_of_case()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"Mug-{tag}", name = $"Mug {tag}", price = 5m });
        var other = await staff.CreateProductAsync(new { sku = $"Cup-{tag}", name = $"Cup {tag}", price = 5m });
        await (await AddVariantAsync(staff, product.Id(), $"Mug-{tag}-L", size, "l")).ShouldBe(HttpStatusCode.Created);

        var clash = await (await AddVariantAsync(staff, product.Id(), $"CUP-{tag}", size, "s")).ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(clash, "sku").Should().ContainSingle().Which.Should().Contain("taken");

        var productClash = await (await staff.PostJson("/api/products", new { sku = $"mug-{tag}-l", name = $"Clash {tag}", price = 1m }))
            .ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(productClash, "sku").Should().ContainSingle();
        await (await staff.PatchJson($"/api/products/{other.Id()}", new { sku = $"MUG-{tag}-L" })).ShouldBeProblem(HttpStatusCode.Conflict);

        // An import cannot create a product under a variant's SKU either: the row is rejected, the others go in.
        var job = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name\r\nMUG-{tag}-l,Clash {tag}\r\nNew-{tag},New {tag}\r\n"));
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(1);
        job.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(1);
        var imported = await (await app.Anonymous().GetAsync($"/api/products/{await ProductIdAsync($"NEW-{tag}".ToUpperInvariant())}")).ShouldBe(HttpStatusCode.OK);
        imported.GetProperty("variants").EnumerateArray().Should().ContainSingle().Which.Str("sku").Should().Be($"New-{tag}",
            "an imported product gets its default variant too");
    }

    [Fact]
    public async Task An_attribute_combination_is_unique_among_live_variants_and_must_name_known_values()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"HAT-{tag}", name = $"Hat {tag}", price = 9m });
        var first = await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-S", size, "s")).ShouldBe(HttpStatusCode.Created);

        var twin = await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-S2", size, "s")).ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(twin, "attributes").Should().ContainSingle().Which.Should().Contain($"HAT-{tag}-S");
        var bare = await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-X", null, null)).ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(bare, "attributes").Should().ContainSingle().Which.Should().Contain($"HAT-{tag}", "the default variant has no attribute values");

        var unknownValue = await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-XL", size, "xl")).ShouldBeProblem(HttpStatusCode.BadRequest);
        Errors(unknownValue, $"attributes.{size}").Should().ContainSingle().Which.Should().Contain("s, m, l");
        var unknownAttribute = await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-R", $"color-{tag}", "red")).ShouldBeProblem(HttpStatusCode.BadRequest);
        Errors(unknownAttribute, $"attributes.color-{tag}").Should().ContainSingle();

        await (await staff.DeleteAsync($"/api/variants/{first.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.NoContent);
        await (await AddVariantAsync(staff, product.Id(), $"HAT-{tag}-S2", size, "s")).ShouldBe(HttpStatusCode.Created);
        var read = await (await app.Anonymous().GetAsync($"/api/products/{product.Id()}")).ShouldBe(HttpStatusCode.OK);
        read.GetProperty("variants").EnumerateArray().Select(v => v.Str("sku")).Should().Equal($"HAT-{tag}", $"HAT-{tag}-S2");
        (await staff.GetAsync($"/api/variants/{first.GetProperty("id").GetInt64()}")).StatusCode.Should().Be(HttpStatusCode.OK,
            "a deleted variant stays visible to those who manage the product");
        (await app.Anonymous().GetAsync($"/api/variants/{first.GetProperty("id").GetInt64()}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_default_variant_keeps_the_product_sku_and_cannot_be_deleted_but_can_take_attribute_values()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"CAP-{tag}", name = $"Cap {tag}", price = 9m });
        var defaultId = product.GetProperty("variants")[0].GetProperty("id").GetInt64();

        await (await staff.DeleteAsync($"/api/variants/{defaultId}")).ShouldBeProblem(HttpStatusCode.Conflict);
        var renamed = await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{defaultId}", $$"""{"sku": "OTHER-{{tag}}"}"""))
            .ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(renamed, "sku").Should().ContainSingle();
        await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{defaultId}", """{"stock": 4}""")).ShouldBeProblem(HttpStatusCode.BadRequest);

        var sized = await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{defaultId}", $$$"""{"attributes": {"{{{size}}}": "s"}}"""))
            .ShouldBe(HttpStatusCode.OK);
        sized.GetProperty("attributes").GetProperty(size).GetString().Should().Be("s");
        await (await AddVariantAsync(staff, product.Id(), $"CAP-{tag}-M", size, "m")).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Stock_changes_are_guarded_recorded_and_announced()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        var product = await staff.Http.CreateProductAsync(new { sku = $"INK-{tag}", name = $"Ink {tag}", price = 3m });
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();

        var counted = await (await staff.Http.PutJson($"/api/variants/{id}/stock", new { on_hand = 5, reason = "stock count" })).ShouldBe(HttpStatusCode.OK);
        counted.GetProperty("on_hand").GetInt32().Should().Be(5);
        counted.GetProperty("movement").GetProperty("delta").GetInt32().Should().Be(5);
        var removed = await (await AdjustAsync(staff.Http, id, -2, "breakage")).ShouldBe(HttpStatusCode.OK);
        removed.GetProperty("on_hand").GetInt32().Should().Be(3);

        var refused = await (await AdjustAsync(staff.Http, id, -4)).ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(refused, "delta").Should().ContainSingle().Which.Should().Contain("at most 3");
        var same = await (await staff.Http.PutJson($"/api/variants/{id}/stock", new { on_hand = 3, reason = "recount" })).ShouldBe(HttpStatusCode.OK);
        same.GetProperty("movement").ValueKind.Should().Be(JsonValueKind.Null, "the level already was 3");

        var movements = await (await staff.Http.GetAsync($"/api/variants/{id}/stock/movements")).ShouldBe(HttpStatusCode.OK);
        var rows = movements.GetProperty("results").EnumerateArray().ToArray();
        rows.Select(m => (m.GetProperty("delta").GetInt32(), m.GetProperty("on_hand").GetInt32(), m.Str("reason")))
            .Should().Equal((-2, 3, "breakage"), (5, 5, "stock count"));
        rows.Should().AllSatisfy(m => m.GetProperty("user_id").GetInt64().Should().Be(staff.UserId));

        var events = await app.WithDbAsync(db => db.Set<OutboxEvent>().AsNoTracking()
            .Where(e => e.Type == EventTypes.StockChanged && e.Data.Contains($"INK-{tag}")).OrderBy(e => e.Id).Select(e => e.Data).ToListAsync());
        events.Select(data => JsonDocument.Parse(data).RootElement.GetProperty("on_hand").GetInt32()).Should().Equal(5, 3);

        var bad = await (await staff.Http.PostJson($"/api/variants/{id}/stock/adjustments", new { delta = 0, reason = "" })).ShouldBeProblem(HttpStatusCode.BadRequest);
        bad.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo("delta", "reason");
        var lowest = await (await staff.Http.PostJson($"/api/variants/{id}/stock/adjustments", new { delta = int.MinValue, reason = "typo" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        lowest.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Equal("delta");
        (await app.WithDbAsync(db => db.Set<Variant>().Where(v => v.Id == id).Select(v => v.OnHand).FirstAsync())).Should().Be(3);
    }

    [Fact]
    public async Task A_stock_count_with_If_Match_refuses_to_overwrite_a_change_it_did_not_see()
    {
        var staff = await StaffAsync();
        var product = await staff.CreateProductAsync(new { sku = $"PEN-{Tag()}", name = $"Pen {Tag()}", price = 1m });
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        var seen = (await staff.GetAsync($"/api/variants/{id}")).Headers.ETag!.Tag;
        await (await AdjustAsync(staff, id, 7)).ShouldBe(HttpStatusCode.OK);

        var stale = new HttpRequestMessage(HttpMethod.Put, $"/api/variants/{id}/stock") { Content = JsonContent.Create(new { on_hand = 2, reason = "count" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", seen);
        await (await staff.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        var current = (await staff.GetAsync($"/api/variants/{id}")).Headers.ETag!.Tag;
        var fresh = new HttpRequestMessage(HttpMethod.Put, $"/api/variants/{id}/stock") { Content = JsonContent.Create(new { on_hand = 2, reason = "count" }) };
        fresh.Headers.TryAddWithoutValidation("If-Match", current);
        var counted = await (await staff.SendAsync(fresh)).ShouldBe(HttpStatusCode.OK);
        counted.GetProperty("movement").GetProperty("delta").GetInt32().Should().Be(-5);
    }

    [Fact]
    public async Task An_adjustment_made_for_a_version_refuses_a_change_since_even_one_made_after_its_ETag_was_checked()
    {
        // The endpoint checks If-Match when it reads the variant; a sale committed between that read and the adjustment's
        // write is caught by the write itself.
        var staff = await StaffAsync();
        var product = await staff.CreateProductAsync(new { sku = $"INK-{Tag()}", name = $"Ink {Tag()}", price = 1m });
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        await (await AdjustAsync(staff, id, 5)).ShouldBe(HttpStatusCode.OK);
        var seen = await app.WithDbAsync(db => db.Set<Variant>().Where(v => v.Id == id).Select(v => v.Version).SingleAsync());
        await (await AdjustAsync(staff, id, -1)).ShouldBe(HttpStatusCode.OK); // the sale in between

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>();
        var events = scope.ServiceProvider.GetRequiredService<IEventOutbox>();
        var cause = new StockLedger.Cause("count", null, null, DateTime.UtcNow);

        (await StockLedger.AdjustAsync(db, events, id, -2, cause, CancellationToken.None, seenVersion: seen)).Should().BeNull();
        (await app.OnHandAsync(id)).Should().Be(4, "nothing changed");
        (await StockLedger.AdjustAsync(db, events, id, -2, cause, CancellationToken.None, seenVersion: seen + 1)).Should().NotBeNull();
        (await app.OnHandAsync(id)).Should().Be(2);
    }

    [Fact]
    public async Task Concurrent_removals_of_the_last_units_never_take_stock_below_zero()
    {
        var staff = await StaffAsync();
        var product = await staff.CreateProductAsync(new { sku = $"LAST-{Tag()}", name = $"Last {Tag()}", price = 1m });
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        await (await AdjustAsync(staff, id, 5)).ShouldBe(HttpStatusCode.OK);

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => AdjustAsync(staff, id, -1, "sold at the counter")));

        answers.Count(a => a.StatusCode == HttpStatusCode.OK).Should().Be(5);
        answers.Count(a => a.StatusCode == HttpStatusCode.Conflict).Should().Be(35);
        var level = await app.WithDbAsync(db => db.Set<Variant>().Where(v => v.Id == id).Select(v => v.OnHand).FirstAsync());
        level.Should().Be(0);
        var movements = await app.WithDbAsync(db => db.Set<StockMovement>().Where(m => m.VariantId == id).Select(m => m.Delta).ToListAsync());
        movements.Sum().Should().Be(0, "the movements add up to the level");
        movements.Should().HaveCount(6);
    }

    [Fact]
    public async Task Sellers_change_the_stock_of_their_own_products_only()
    {
        var seller = (await app.NewUserAsync(Roles.Seller)).Http;
        var rival = (await app.NewUserAsync(Roles.Seller)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var product = await seller.CreateProductAsync(new { sku = $"OWN-{Tag()}", name = $"Own {Tag()}", price = 1m });
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();

        await (await AdjustAsync(seller, id, 2)).ShouldBe(HttpStatusCode.OK);
        await (await AdjustAsync(rival, id, 2)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await AdjustAsync(customer, id, 2)).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await AdjustAsync(app.Anonymous(), id, 2)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await rival.GetAsync($"/api/variants/{id}/stock/movements")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await AddVariantAsync(rival, product.Id(), $"RIVAL-{Tag()}", null, null)).ShouldBeProblem(HttpStatusCode.NotFound);

        var seen = await (await app.Anonymous().GetAsync($"/api/variants/{id}")).ShouldBe(HttpStatusCode.OK);
        seen.GetProperty("on_hand").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task The_product_tag_changes_when_a_variant_or_its_stock_does()
    {
        var staff = await StaffAsync();
        var product = await staff.CreateProductAsync(new { sku = $"TAG-{Tag()}", name = $"Tag {Tag()}", price = 1m });
        var url = $"/api/products/{product.Id()}";
        var id = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        var before = (await app.Anonymous().GetAsync(url)).Headers.ETag!.Tag;

        await (await AdjustAsync(staff, id, 1)).ShouldBe(HttpStatusCode.OK);

        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", before);
        var response = await app.Anonymous().SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the stock shown changed");
        response.Headers.ETag!.Tag.Should().NotBe(before);
        var stale = new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(new { name = "Renamed" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", before);
        await (await staff.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task A_variant_edit_without_If_Match_survives_a_sale_and_its_tag_follows_the_product()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"BAG-{tag}", name = $"Bag {tag}", price = 30m });
        var id = (await (await AddVariantAsync(staff, product.Id(), $"BAG-{tag}-L", size, "l", stock: 5)).ShouldBe(HttpStatusCode.Created))
            .GetProperty("id").GetInt64();
        var seen = (await app.Anonymous().GetAsync($"/api/variants/{id}")).Headers.ETag!.Tag;

        await (await AdjustAsync(staff, id, -1, "sold")).ShouldBe(HttpStatusCode.OK);
        var patched = await (await SendAsync(staff, HttpMethod.Patch, $"/api/variants/{id}", "{\"price\": 31}")).ShouldBe(HttpStatusCode.OK);
        patched.GetProperty("price").GetDecimal().Should().Be(31m);
        var stale = new HttpRequestMessage(HttpMethod.Delete, $"/api/variants/{id}");
        stale.Headers.TryAddWithoutValidation("If-Match", seen);
        await (await staff.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        // The variant shows its product's state: making the product inactive changes the variant's tag too.
        var before = (await staff.GetAsync($"/api/variants/{id}")).Headers.ETag!.Tag;
        await (await staff.PatchJson($"/api/products/{product.Id()}", new { is_active = false })).ShouldBe(HttpStatusCode.OK);
        var check = new HttpRequestMessage(HttpMethod.Get, $"/api/variants/{id}");
        check.Headers.TryAddWithoutValidation("If-None-Match", before);
        var after = await staff.SendAsync(check);
        (await after.ShouldBe(HttpStatusCode.OK)).GetProperty("available").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task A_product_cannot_move_to_a_currency_its_variants_own_prices_do_not_fit()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"FAN-{tag}", name = $"Fan {tag}", price = 30m });
        await (await AddVariantAsync(staff, product.Id(), $"FAN-{tag}-L", size, "l", price: 31.5m)).ShouldBe(HttpStatusCode.Created);

        var refused = await (await staff.PatchJson($"/api/products/{product.Id()}", new { currency = "JPY", price = 3000m })).ShouldBeProblem(HttpStatusCode.BadRequest);

        Errors(refused, "currency").Should().ContainSingle().Which.Should().Contain($"FAN-{tag}-L");
        await (await staff.PatchJson($"/api/products/{product.Id()}", new { currency = "EUR" })).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_attribute_value_in_use_by_a_live_variant_cannot_be_removed()
    {
        var staff = await StaffAsync();
        var tag = Tag();
        var size = await SizesAsync(staff, tag);
        var product = await staff.CreateProductAsync(new { sku = $"SOCK-{tag}", name = $"Sock {tag}", price = 2m });
        var variant = await (await AddVariantAsync(staff, product.Id(), $"SOCK-{tag}-M", size, "m")).ShouldBe(HttpStatusCode.Created);
        var withoutM = new { name = $"Size {tag}", values = new[] { new { name = "S", slug = "s" }, new { name = "L", slug = "l" } } };

        var refused = await (await staff.PutJson($"/api/attributes/{size}", withoutM)).ShouldBeProblem(HttpStatusCode.Conflict);
        Errors(refused, "values").Should().ContainSingle().Which.Should().Contain($"SOCK-{tag}-M");

        await (await staff.DeleteAsync($"/api/variants/{variant.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.NoContent);
        var replaced = await (await staff.PutJson($"/api/attributes/{size}", withoutM)).ShouldBe(HttpStatusCode.OK);
        replaced.GetProperty("values").EnumerateArray().Select(v => v.Str("slug")).Should().Equal("s", "l");
    }

    [Fact]
    public async Task Removing_a_value_while_a_variant_is_created_with_it_never_loses_the_value_or_fails_with_500()
    {
        var staff = await StaffAsync();
        for (var round = 0; round < 15; round++)
        {
            var tag = Tag();
            var size = await SizesAsync(staff, tag);
            var product = await staff.CreateProductAsync(new { sku = $"RACE-{tag}", name = $"Race {tag}", price = 2m });
            var withoutM = new { name = $"Size {tag}", values = new[] { new { name = "S", slug = "s" }, new { name = "L", slug = "l" } } };
            using var start = new SemaphoreSlim(0);
            var remove = Task.Run(async () => { await start.WaitAsync(); return await staff.PutJson($"/api/attributes/{size}", withoutM); });
            var create = Task.Run(async () => { await start.WaitAsync(); return await AddVariantAsync(staff, product.Id(), $"RACE-{tag}-M", size, "m"); });
            start.Release(2);
            var (removed, created) = (await remove, await create);

            // The variant came first (the removal is refused: 409) or the removal did (the variant names no such value: 400).
            (removed.StatusCode, created.StatusCode).Should().BeOneOf(
                [(HttpStatusCode.Conflict, HttpStatusCode.Created), (HttpStatusCode.OK, HttpStatusCode.BadRequest)], $"round {round}");
            if (created.StatusCode == HttpStatusCode.Created)
            {
                var variant = await created.ShouldBe(HttpStatusCode.Created);
                var read = await (await staff.GetAsync($"/api/variants/{variant.GetProperty("id").GetInt64()}")).ShouldBe(HttpStatusCode.OK);
                read.GetProperty("attributes").GetProperty(size).GetString().Should().Be("m");
            }
        }
    }

    private async Task<long> ProductIdAsync(string skuKey) =>
        await app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Product>().Where(p => p.SkuKey == skuKey).Select(p => p.Id).FirstAsync());

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string json) =>
        client.SendAsync(new HttpRequestMessage(method, url) { Content = new StringContent(json, Encoding.UTF8, "application/merge-patch+json") });
}

public sealed class VariantTestsOnSqlite(SqliteApp app) : VariantTests(app), IClassFixture<SqliteApp>;

public sealed class VariantTestsOnPostgres(PostgresApp app) : VariantTests(app), IClassFixture<PostgresApp>;
