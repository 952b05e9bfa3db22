using System.Net;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Catalog.Products;

public sealed class ProductOpenApiTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task OpenApi_document_describes_every_product_endpoint()
    {
        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        var paths = document.GetProperty("paths");

        paths.GetProperty("/api/products").GetProperty("get").Str("operationId").Should().Be("ListProducts");
        paths.GetProperty("/api/products").TryGetProperty("post", out _).Should().BeTrue();
        foreach (var method in new[] { "get", "put", "patch", "delete" })
        {
            paths.GetProperty("/api/products/{ref}").TryGetProperty(method, out _).Should().BeTrue(method);
        }

        paths.TryGetProperty("/api/products/{ref}/restore", out _).Should().BeTrue();
        paths.TryGetProperty("/api/categories/{ref}/products", out _).Should().BeTrue();
        var parameters = paths.GetProperty("/api/products").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Select(p => p.Str("name")).ToList();
        parameters.Should().Contain(["min_price", "include_deleted", "search", "sort", "page", "page_size"]);
    }
}
