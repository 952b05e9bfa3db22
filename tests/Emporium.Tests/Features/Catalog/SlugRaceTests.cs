using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog;

/// <summary>
/// Concurrent creates that need the same generated slug all succeed, with -2, -3, ... as sequential ones get (issue 12: nine
/// of ten concurrent brand creates answered 409 "slug taken").
/// </summary>
public abstract class SlugRaceTests(EmporiumApp app)
{
    private const int Racers = 10;

    [Theory]
    [InlineData("/api/brands")]
    [InlineData("/api/categories")]
    [InlineData("/api/products")]
    public async Task Concurrent_creates_of_one_name_all_succeed_with_distinct_slugs(string url)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var name = $"Race {ProductTestKit.Tag()}";
        using var start = new SemaphoreSlim(0);

        var creates = Enumerable.Range(0, Racers).Select(async i =>
        {
            await start.WaitAsync();
            object body = url == "/api/products" ? new { sku = $"RACE-{i}-{Guid.NewGuid():N}"[..30], name, price = 1m } : new { name };
            return await staff.Http.PostJson(url, body);
        }).ToList();
        start.Release(Racers);
        var responses = await Task.WhenAll(creates);

        var slugs = new List<string>();
        foreach (var response in responses)
        {
            slugs.Add((await response.ShouldBe(HttpStatusCode.Created)).Str("slug"));
        }

        var first = name.ToLowerInvariant().Replace(' ', '-');
        slugs.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(Enumerable.Range(1, Racers).Select(n => n == 1 ? first : $"{first}-{n}"));
    }
}

public sealed class SlugRaceTestsOnSqlite(SqliteApp app) : SlugRaceTests(app), IClassFixture<SqliteApp>;

public sealed class SlugRaceTestsOnPostgres(PostgresApp app) : SlugRaceTests(app), IClassFixture<PostgresApp>;
