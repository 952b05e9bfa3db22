using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Brands;
using Emporium.Features.Catalog.Categories;
using Emporium.Features.Catalog.Demo;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Jobs;

namespace Emporium.Features.Catalog;

public static class CatalogFeature
{
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddStartupTask<DemoCatalogSeeder>();
        builder.Services.AddSettings<MediaOptions>(MediaOptions.Section);
        builder.Services.AddSingleton<MediaUrls>();
        builder.Services.AddSingleton<ProductRendering>();
        builder.Services.AddSingleton<MediaAddressGuard>();
        builder.Services.AddSingleton<ImageRenderer>();
        builder.Services.AddSingleton<ImageDownloader>();
        builder.Services.AddScoped<ImageIntake>();
        builder.Services.AddHttpClient(ImageDownloader.ClientName)
            .ConfigurePrimaryHttpMessageHandler(services => OutboundAddressGuard.CreateHandler(services.GetRequiredService<MediaAddressGuard>()))
            // Media:Download:Timeout covers the whole download, redirects included; the client's own timeout must not cut in first.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddJobHandler<ImageProcessingJobHandler>(ImageProcessingJobHandler.KindName);
        builder.Services.AddSingleton<ImageFileSweep>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ImageFileSweep>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder app)
    {
        app.MapProducts();
        app.MapBrands();
        app.MapCategories();
        app.MapAttributes();
        app.MapVariants();
        app.MapImages();
        app.MapMedia();
        return app;
    }
}
