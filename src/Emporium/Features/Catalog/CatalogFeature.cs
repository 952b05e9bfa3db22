namespace Emporium.Features.Catalog;

public static class CatalogFeature
{
    public static WebApplicationBuilder AddCatalog(this WebApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder app) => app;
}
