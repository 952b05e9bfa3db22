using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Emporium.Tests.Features.Commerce;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Catalog.Products;

/// <summary>
/// Lists count exactly up to Paging:ExactCountLimit (3 here); beyond it PostgreSQL answers its planner's
/// estimate and says so, while SQLite, which cannot estimate, keeps counting exactly.
/// </summary>
public abstract class ProductCountTests(EmporiumApp app)
{
    protected abstract bool Estimates { get; }

    [Fact]
    public async Task Small_lists_are_counted_exactly()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        for (var i = 0; i < 3; i++)
        {
            await staff.CreateProductAsync(tag);
        }

        var page = await (await staff.GetAsync($"/api/products?name={tag}&page_size=2")).ShouldBe(HttpStatusCode.OK);
        page.GetProperty("count").GetInt64().Should().Be(3);
        page.GetProperty("count_exact").GetBoolean().Should().BeTrue();
        page.GetProperty("next").GetString().Should().Contain("cursor=");
    }

    [Fact]
    public async Task Lists_beyond_the_exact_count_limit_are_estimated_where_the_database_can_and_still_page_to_the_end()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        for (var i = 0; i < 6; i++)
        {
            await staff.CreateProductAsync(tag);
        }

        var first = await (await staff.GetAsync($"/api/products?name={tag}&page_size=4")).ShouldBe(HttpStatusCode.OK);
        first.GetProperty("count_exact").GetBoolean().Should().Be(!Estimates);
        if (Estimates)
        {
            first.GetProperty("count").GetInt64().Should().BeGreaterThan(3, "an estimate is never below what was counted");
        }
        else
        {
            first.GetProperty("count").GetInt64().Should().Be(6);
        }

        first.GetProperty("results").GetArrayLength().Should().Be(4);
        var next = first.Str("next");
        var second = await (await staff.GetAsync(next)).ShouldBe(HttpStatusCode.OK);
        second.GetProperty("results").GetArrayLength().Should().Be(2);
        second.GetProperty("next").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null, "a short page is the last one");
        first.GetProperty("results").EnumerateArray().Concat(second.GetProperty("results").EnumerateArray())
            .Select(p => p.Id()).Should().OnlyHaveUniqueItems().And.HaveCount(6);
    }
}

public sealed class SmallCountLimitSqliteApp : SqliteApp
{
    public SmallCountLimitSqliteApp() => With("Paging:ExactCountLimit", "3");
}

public sealed class SmallCountLimitPostgresApp : PostgresApp
{
    public SmallCountLimitPostgresApp() => With("Paging:ExactCountLimit", "3");
}

public sealed class ProductCountTestsOnSqlite(SmallCountLimitSqliteApp app) : ProductCountTests(app), IClassFixture<SmallCountLimitSqliteApp>
{
    protected override bool Estimates => false;
}

public sealed class ProductCountTestsOnPostgres(SmallCountLimitPostgresApp app) : ProductCountTests(app), IClassFixture<SmallCountLimitPostgresApp>
{
    protected override bool Estimates => true;

    [Fact]
    public async Task An_estimate_counts_the_listed_rows_not_the_rows_of_what_they_include()
    {
        // The order list includes each order's lines: the planner's rows for that join are lines, about three times the
        // orders of a typical store, and the admin page showed that as the number of orders.
        var customer = await app.NewUserAsync(Roles.Customer);
        for (var i = 0; i < 5; i++)
        {
            var item = await (await app.NewUserAsync(Roles.Staff)).Http.ProductForSaleAsync(2m, stock: 10);
            for (var line = 0; line < 3; line++)
            {
                var extra = await (await app.NewUserAsync(Roles.Staff)).Http.ProductForSaleAsync(1m, stock: 10);
                await customer.Http.AddToCartAsync(extra.VariantId, 1);
            }

            await customer.Http.AddToCartAsync(item.VariantId, 1);
            await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        }

        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("ANALYZE orders; ANALYZE order_lines"));
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>();
        var estimator = scope.ServiceProvider.GetRequiredService<Emporium.Platform.Paging.IRowEstimator>();
        var orders = db.Set<Emporium.Features.Commerce.Orders.Order>().AsNoTracking();

        var withLines = await estimator.EstimateAsync(orders.Include(o => o.Lines), CancellationToken.None);

        withLines.Should().Be(await estimator.EstimateAsync(orders, CancellationToken.None));
    }
}
