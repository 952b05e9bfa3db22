namespace Emporium.Features.Catalog.Brands;

public static class BrandEndpoints
{
    public static IEndpointRouteBuilder MapBrands(this IEndpointRouteBuilder app) => app;
}
