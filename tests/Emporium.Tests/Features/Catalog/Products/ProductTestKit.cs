using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog.Products;

/// <summary>Helpers shared by the product tests: unique names, product creation, categories arranged in the database.</summary>
internal static class ProductTestKit
{
    public static string Tag() => Guid.NewGuid().ToString("N")[..10];

    public static async Task<JsonElement> CreateProductAsync(this HttpClient client, object body)
    {
        var response = await client.PostJson("/api/products", body);
        return await response.ShouldBe(HttpStatusCode.Created);
    }

    public static async Task<JsonElement> CreateProductAsync(
        this HttpClient client, string tag, string name = "Thing", decimal price = 10m, bool active = true, string? description = null) =>
        await client.CreateProductAsync(new
        {
            sku = $"SKU-{tag}-{Guid.NewGuid():N}"[..40],
            name = $"{name} {tag}",
            price,
            is_active = active,
            description,
        });

    public static long Id(this JsonElement element) => element.GetProperty("id").GetInt64();

    public static IReadOnlyList<string> Names(this JsonElement page) =>
        page.GetProperty("results").EnumerateArray().Select(p => p.Str("name")).ToList();

    public static async Task<Category> AddCategoryAsync(this EmporiumApp app, string name, long? parentId = null) =>
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var category = new Category
            {
                Name = name,
                Slug = Slugs.FromName(name, "category"),
                ParentId = parentId,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Add(category);
            await db.SaveChangesAsync();
            return category;
        });

    public static async Task<Brand> AddBrandAsync(this EmporiumApp app, string name) =>
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var brand = new Brand { Name = name, Slug = Slugs.FromName(name, "brand"), CreatedAt = now, UpdatedAt = now };
            db.Add(brand);
            await db.SaveChangesAsync();
            return brand;
        });
}
