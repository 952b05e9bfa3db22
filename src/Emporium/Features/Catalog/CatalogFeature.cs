using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Brands;
using Emporium.Features.Catalog.Categories;
using Emporium.Features.Catalog.Demo;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog;

public static class CatalogFeature
{
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddStartupTask<DemoCatalogSeeder>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder app)
    {
        app.MapProducts();
        app.MapBrands();
        app.MapCategories();
        app.MapAttributes();
        app.MapVariants();
        return app;
    }
}
