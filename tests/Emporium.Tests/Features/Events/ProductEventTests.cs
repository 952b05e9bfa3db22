using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Emporium.Features.Events;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Events;

/// <summary>Product writes through the API leave exactly one event each, carrying the product as the API returned it.</summary>
public abstract class ProductEventTests(EmporiumApp app)
{
    [Fact]
    public async Task Create_update_delete_and_restore_each_write_one_event_with_the_api_representation()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var created = await staff.Http.CreateProductAsync(Tag());
        var id = created.Id();
        var url = $"/api/products/{id}";

        var updated = await (await staff.Http.PatchJson(url, new { name = "Renamed" })).ShouldBe(HttpStatusCode.OK);
        await (await staff.Http.DeleteAsync(url)).ShouldBe(HttpStatusCode.NoContent);
        var restored = await (await staff.Http.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);

        var events = await EventsOfProductAsync(staff.Http, id);
        events.Select(e => e.Str("type")).Should().Equal("product.created", "product.updated", "product.deleted", "product.restored");
        events.Select(e => e.Str("id")).Should().OnlyHaveUniqueItems().And.AllSatisfy(eventId => eventId.Should().StartWith("evt_"));
        events[0].GetProperty("data").GetRawText().Should().Be(created.GetRawText(), "the data is what the API answered");
        events[1].GetProperty("data").GetRawText().Should().Be(updated.GetRawText());
        events[2].GetProperty("data").GetProperty("deleted_at").ValueKind.Should().Be(JsonValueKind.String);
        events[2].GetProperty("data").Str("name").Should().Be("Renamed");
        events[3].GetProperty("data").GetRawText().Should().Be(restored.GetRawText());
    }

    [Fact]
    public async Task Writes_that_change_nothing_or_are_refused_write_no_event()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(Tag());
        var other = await staff.Http.CreateProductAsync(Tag());
        var url = $"/api/products/{product.Id()}";

        // Restoring a live product, a validation error, a SKU conflict and a stale If-Match change nothing.
        await (await staff.Http.PostAsync($"{url}/restore", null)).ShouldBe(HttpStatusCode.OK);
        await (await staff.Http.PatchJson(url, new { price = -1 })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.Http.PatchJson(url, new { sku = other.Str("sku") })).ShouldBeProblem(HttpStatusCode.Conflict);
        using var stale = new HttpRequestMessage(HttpMethod.Delete, url);
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue($"\"{product.Id()}-99\""));
        await (await staff.Http.SendAsync(stale)).ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        // Deleting twice announces once.
        await (await staff.Http.DeleteAsync(url)).ShouldBe(HttpStatusCode.NoContent);
        await (await staff.Http.DeleteAsync(url)).ShouldBe(HttpStatusCode.NoContent);

        (await EventsOfProductAsync(staff.Http, product.Id())).Select(e => e.Str("type"))
            .Should().Equal("product.created", "product.deleted");
    }

    [Fact]
    public async Task An_event_added_in_a_transaction_that_rolls_back_is_never_stored()
    {
        var marker = Tag();
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            scope.ServiceProvider.GetRequiredService<IEventOutbox>().Add(EventTypes.ProductCreated, new { marker });
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        (await app.WithDbAsync(db => db.Set<OutboxEvent>().CountAsync(e => e.Data.Contains(marker)))).Should().Be(0);
    }

    [Fact]
    public async Task Events_are_for_staff_and_an_unknown_type_filter_is_a_400()
    {
        var customer = await app.NewUserAsync(Roles.Customer);
        var staff = await app.NewUserAsync(Roles.Staff);

        await (await app.Anonymous().GetAsync("/api/events")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await customer.Http.GetAsync("/api/events")).ShouldBeProblem(HttpStatusCode.Forbidden);
        var problem = await (await staff.Http.GetAsync("/api/events?type=product.exploded")).ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("type")[0].GetString().Should().Contain("product.created");
        var types = await (await staff.Http.GetAsync("/api/events/types")).ShouldBe(HttpStatusCode.OK);
        types.EnumerateArray().Select(t => t.Str("type")).Should().Contain(["product.updated", "import.completed", "bulk_delete.completed"]);
    }

    [Fact]
    public async Task Events_filter_by_when_they_happened_as_a_receiver_catching_up_asks()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var before = await staff.Http.CreateProductAsync(new { sku = $"EV-{Tag()}", name = "Before", price = 1m });
        var earlier = await EventsOfProductAsync(staff.Http, before.Id());
        // A millisecond on: PostgreSQL keeps microseconds, so a tick would round back onto the event.
        var cut = earlier.Single().GetProperty("timestamp").GetDateTime().ToUniversalTime().AddMilliseconds(1);
        await Task.Delay(5);
        var after = await staff.Http.CreateProductAsync(new { sku = $"EV-{Tag()}", name = "After", price = 1m });

        var since = await (await staff.Http.GetAsync($"/api/events?type=product.created&page_size=100&occurred_from={Uri.EscapeDataString(cut.ToString("O"))}"))
            .ShouldBe(HttpStatusCode.OK);
        var ids = since.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("data").GetProperty("id").GetInt64()).ToList();
        ids.Should().Contain(after.Id()).And.NotContain(before.Id());
        var until = await (await staff.Http.GetAsync($"/api/events?type=product.created&page_size=100&occurred_to={Uri.EscapeDataString(cut.ToString("O"))}"))
            .ShouldBe(HttpStatusCode.OK);
        until.GetProperty("results").EnumerateArray().Select(e => e.GetProperty("data").GetProperty("id").GetInt64()).Should().Contain(before.Id()).And.NotContain(after.Id());
        (await (await staff.Http.GetAsync("/api/events?occurred_from=yesterday")).ShouldBeProblem(HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("occurred_from")[0].GetString().Should().Contain("ISO 8601");
    }

    /// <summary>The product's events, oldest first, read through GET /api/events.</summary>
    private static async Task<List<JsonElement>> EventsOfProductAsync(HttpClient client, long id)
    {
        var page = await (await client.GetAsync("/api/events?page_size=100")).ShouldBe(HttpStatusCode.OK);
        return page.GetProperty("results").EnumerateArray()
            .Where(e => e.Str("type").StartsWith("product.", StringComparison.Ordinal) && e.GetProperty("data").GetProperty("id").GetInt64() == id)
            .Reverse()
            .ToList();
    }
}

public sealed class ProductEventTestsOnSqlite(SqliteApp app) : ProductEventTests(app), IClassFixture<SqliteApp>;

public sealed class ProductEventTestsOnPostgres(PostgresApp app) : ProductEventTests(app), IClassFixture<PostgresApp>;
