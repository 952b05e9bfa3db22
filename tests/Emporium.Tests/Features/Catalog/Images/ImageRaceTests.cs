using System.Net;
using Emporium.Data;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Images;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Catalog.Images;

/// <summary>
/// PostgreSQL runs an upload and a product's delete side by side: another transaction holds the product's row here, so
/// the upload certainly waits for it after its files have arrived.
/// </summary>
public sealed class ImageRaceTestsOnPostgres(ImagesPostgresS3App app) : IClassFixture<ImagesPostgresS3App>
{
    [Fact]
    public async Task An_upload_that_ends_after_its_product_was_deleted_keeps_nothing_and_says_so()
    {
        // Checked before the files streamed in only: the rows and jobs were committed on a deleted product, and 202 said so.
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var productId = (await staff.CreateProductAsync(new { sku = $"RACE-{tag}", name = $"Raced {tag}", price = 5m })).Id();

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM products WHERE id = {productId} FOR UPDATE");
            using var form = TestImages.Files((TestImages.Jpeg(64, 48), "late.jpg", "image/jpeg"));
            var upload = staff.PostAsync($"/api/products/{productId}/images", form);
            await app.WaitForALockWaitAsync();

            var now = DateTime.UtcNow;
            await db.Set<Product>().Where(p => p.Id == productId).ExecuteUpdateAsync(set => set.SetProperty(p => p.DeletedAt, now));
            await held.CommitAsync();

            var problem = await (await upload).ShouldBeProblem(HttpStatusCode.Conflict);
            problem.Str("detail").Should().Contain("deleted");
        }

        (await app.WithDbAsync(other => other.Set<ProductImage>().CountAsync(i => i.ProductId == productId))).Should().Be(0);
    }
}
