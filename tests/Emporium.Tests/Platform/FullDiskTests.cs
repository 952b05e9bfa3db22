using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Emporium.Platform.Security;
using Emporium.Platform.Storage;
using Emporium.Tests.Features.Catalog.Images;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Platform;

/// <summary>The file store fails as a full disk does: after reading what it was given, with an IOException.</summary>
public sealed class FullDiskApp : SqliteApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            var real = services.Single(d => d.ServiceType == typeof(IFileStore));
            services.Remove(real);
            services.AddSingleton<IFileStore>(provider => new FullStore((IFileStore)(real.ImplementationInstance
                ?? real.ImplementationFactory?.Invoke(provider) ?? ActivatorUtilities.CreateInstance(provider, real.ImplementationType!))));
        });
    }

    private sealed class FullStore(IFileStore inner) : IFileStore
    {
        public async Task<long> PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
        {
            await content.CopyToAsync(Stream.Null, cancellationToken);
            throw new IOException("No space left on device");
        }

        public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

        /// <summary>Files under a prefix holding "unreachable" are listed but cannot be deleted (the store failing mid-request).</summary>
        public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
            key.Contains("unreachable", StringComparison.Ordinal) ? throw new IOException("Input/output error") : inner.DeleteAsync(key, cancellationToken);

        public IAsyncEnumerable<StoredFile> ListAsync(string prefix, CancellationToken cancellationToken) =>
            prefix.Contains("unreachable", StringComparison.Ordinal)
                ? new[] { new StoredFile($"{prefix}original.png", 10, DateTime.UtcNow) }.ToAsyncEnumerable()
                : inner.ListAsync(prefix, cancellationToken);

        public Uri? DirectUrl(string key, TimeSpan lifetime) => inner.DirectUrl(key, lifetime);

        public Task CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);
    }
}

public sealed class FullDiskTests(FullDiskApp app) : IClassFixture<FullDiskApp>
{
    [Fact]
    public async Task An_upload_the_store_cannot_keep_is_a_server_fault_not_the_clients()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag());

        var csv = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes("sku,name\r\nA,B\r\n")), "file", "a.csv" } };
        var image = new ByteArrayContent(TestImages.Png(10, 10));
        image.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        var images = new MultipartFormDataContent { { image, "file", "a.png" } };

        foreach (var (url, body) in new (string, HttpContent)[] { ("/api/products/upload", csv), ($"/api/products/{product.Id()}/images", images) })
        {
            var problem = await (await staff.Http.PostAsync(url, body)).ShouldBeProblem(HttpStatusCode.InternalServerError);
            problem.GetRawText().Should().NotContain("cut short", "the client sent its upload whole");
        }
    }

    [Fact]
    public async Task An_image_whose_files_cannot_be_removed_is_still_deleted_and_the_client_told_so()
    {
        // The row goes first (a job still working on it cleans up after itself); a store failing after that is the
        // service's to log, not a 500 that makes the client send a delete that then finds nothing.
        var staff = await app.NewUserAsync(Roles.Staff);
        var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag());
        var imageId = await app.WithDbAsync(async db =>
        {
            var image = new Emporium.Features.Catalog.Images.ProductImage
            {
                ProductId = product.Id(), StoragePrefix = $"images/{product.Id()}/unreachable", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Add(image);
            await db.SaveChangesAsync();
            return image.Id;
        });

        (await staff.Http.DeleteAsync($"/api/images/{imageId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await staff.Http.GetAsync($"/api/images/{imageId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
