using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Demo;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Emporium.Tests.Features.Catalog.Demo;

public abstract class DemoCatalogTests(EmporiumApp app)
{
    [Fact]
    public async Task Seed_demo_loads_the_eShop_catalog_once_however_often_it_runs()
    {
        await SeedAsync();
        await SeedAsync();

        var (products, brands, outdoorChildren) = await app.WithDbAsync(async db => (
            await db.Set<Product>().Where(p => p.Sku.StartsWith("ESHOP-")).Include(p => p.Brand).Include(p => p.Categories).ToListAsync(),
            await db.Set<Brand>().CountAsync(),
            await db.Set<Category>().CountAsync(c => c.Parent!.Slug == "outdoor")));

        products.Should().HaveCount(101);
        products.Select(p => p.Slug).Should().OnlyHaveUniqueItems();
        brands.Should().BeGreaterThanOrEqualTo(13);
        outdoorChildren.Should().Be(8);
        var boots = products.Single(p => p.Sku == "ESHOP-001");
        boots.Name.Should().Be("Wanderer Black Hiking Boots");
        boots.Price.Should().Be(109.99m);
        boots.Brand!.Name.Should().Be("Daybird");
        boots.Categories.Single().Slug.Should().Be("footwear");
    }

    private Task<bool> SeedAsync() => SeedAsync(app);

    public static Task<bool> SeedAsync(EmporiumApp app) => app.WithDbAsync(async db =>
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["seed-demo"] = "true" })
            .Build();
        var seeder = new DemoCatalogSeeder(
            db, configuration, Options.Create(new EmporiumOptions()), TimeProvider.System, NullLogger<DemoCatalogSeeder>.Instance);
        await seeder.RunAsync(CancellationToken.None);
        return true;
    });
}

/// <summary>A catalog that already holds a demo SKU on a variant, and deleted the demo's brand and root category.</summary>
public abstract class DemoCatalogOnAUsedCatalogTests(EmporiumApp app)
{
    [Fact]
    public async Task Seeding_skips_a_sku_a_variant_holds_and_links_no_deleted_brand_or_category()
    {
        var staff = (await app.NewUserAsync(Emporium.Platform.Security.Roles.Staff)).Http;
        var host = await staff.CreateProductAsync(new { sku = $"HOST-{Guid.NewGuid():N}"[..20], name = "Host", price = 1m });
        var size = await (await staff.PostJson("/api/attributes", new { name = "Size", values = new[] { new { name = "M", slug = "m" } } }))
            .ShouldBe(System.Net.HttpStatusCode.Created);
        await (await staff.PostJson($"/api/products/{host.Id()}/variants", new { sku = "eshop-002", price = 1m, attributes = new Dictionary<string, string> { [size.Str("slug")] = "m" } }))
            .ShouldBe(System.Net.HttpStatusCode.Created);
        var daybird = await (await staff.PostJson("/api/brands", new { name = "Daybird" })).ShouldBe(System.Net.HttpStatusCode.Created);
        var outdoor = await (await staff.PostJson("/api/categories", new { name = "Outdoor", slug = "outdoor" })).ShouldBe(System.Net.HttpStatusCode.Created);
        (await staff.DeleteAsync($"/api/brands/{daybird.Str("slug")}")).StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);
        (await staff.DeleteAsync("/api/categories/outdoor")).StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);

        await DemoCatalogTests.SeedAsync(app);

        var (products, footwear) = await app.WithDbAsync(async db => (
            await db.Set<Product>().Where(p => p.Sku.StartsWith("ESHOP-")).Include(p => p.Brand).Include(p => p.Categories).ToListAsync(),
            await db.Set<Category>().SingleAsync(c => c.Slug == "footwear")));
        products.Should().HaveCount(100, "ESHOP-002 is a variant's SKU already");
        products.Should().NotContain(p => p.Sku == "ESHOP-002");
        var boots = products.Single(p => p.Sku == "ESHOP-001");
        boots.Brand.Should().BeNull("its brand, Daybird, is deleted");
        boots.Categories.Single().Slug.Should().Be("footwear");
        footwear.ParentId.Should().BeNull("the deleted 'outdoor' is nobody's parent");
        products.Should().OnlyContain(p => p.Brand == null || p.Brand.DeletedAt == null);
    }
}

public sealed class DemoCatalogOnAUsedCatalogTestsOnSqlite(SqliteApp app) : DemoCatalogOnAUsedCatalogTests(app), IClassFixture<SqliteApp>;

public sealed class DemoCatalogOnAUsedCatalogTestsOnPostgres(PostgresApp app) : DemoCatalogOnAUsedCatalogTests(app), IClassFixture<PostgresApp>;

public sealed class DemoCatalogTestsOnSqlite(SqliteApp app) : DemoCatalogTests(app), IClassFixture<SqliteApp>;

public sealed class DemoCatalogTestsOnPostgres(PostgresApp app) : DemoCatalogTests(app), IClassFixture<PostgresApp>;

/// <summary>
/// The real binary started the way the README says (scripts/run --seed-demo): the switch reaches the seeder, on both
/// databases, and the catalog answers with the demo's 101 products.
/// </summary>
public sealed class SeedDemoSwitchTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Starting_with_seed_demo_serves_the_eShop_catalog(DatabaseProvider provider)
    {
        var data = Directory.CreateTempSubdirectory("emporium-seed-");
        var database = PostgresServer.NewDatabaseName();
        if (provider == DatabaseProvider.Postgres)
        {
            await PostgresServer.CreateDatabaseAsync(database);
        }

        try
        {
            List<string> arguments = ["--seed-demo", $"--Emporium:DataDirectory={data.FullName}", $"--Database:Provider={provider}"];
            if (provider == DatabaseProvider.Postgres)
            {
                arguments.Add($"--Database:ConnectionString={PostgresServer.ConnectionStringFor(database)}");
            }

            await using var service = await ServiceProcess.StartAsync(arguments, new Dictionary<string, string?>
            {
                ["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail,
                ["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword,
            });

            var page = await (await service.Http.GetAsync("/api/products?page_size=1")).ShouldBe(System.Net.HttpStatusCode.OK);
            page.GetProperty("count").GetInt64().Should().Be(101, "a fresh database holds exactly the demo's products");
            var boots = await (await service.Http.GetAsync("/api/products?sku=ESHOP-001")).ShouldBe(System.Net.HttpStatusCode.OK);
            boots.GetProperty("results")[0].Str("name").Should().Be("Wanderer Black Hiking Boots");
        }
        finally
        {
            data.Delete(recursive: true);
            if (provider == DatabaseProvider.Postgres)
            {
                await PostgresServer.DropDatabaseAsync(database);
            }
        }
    }
}
