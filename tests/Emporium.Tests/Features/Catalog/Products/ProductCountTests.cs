using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

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
}
