namespace Emporium.Features.Catalog.Brands;

public static class BrandEndpoints
{
    private static readonly TaxonomyKind<Brand, BrandRequest, BrandResponse> Brands = new(
        "brand",
        "/api/brands",
        BrandResponse.From,
        blank: now => new Brand { Name = "", Slug = "", CreatedAt = now, UpdatedAt = now },
        current: brand => new BrandRequest { Name = brand.Name, Slug = brand.Slug });

    public static IEndpointRouteBuilder MapBrands(this IEndpointRouteBuilder app)
    {
        Brands.MapOperations(app.MapGroup("/api/brands").WithTags("Brands"), "Brand", "Brands", new TaxonomyTexts(
            List: new("List brands", "Paged; filter by name fragment; staff may add include_deleted=true."),
            Get: new("Get a brand by id or slug", "Answers with an ETag; If-None-Match with the current tag gives 304. Deleted brands are visible to staff only."),
            Create: new("Create a brand", "The slug is generated from the name when absent (brand-name, brand-name-2, ...). Staff or admin."),
            Replace: new("Replace a brand", "Honours If-Match (412 when the brand changed meanwhile). An absent slug keeps the current one."),
            Patch: new("Change some fields of a brand", "JSON merge patch: only the fields present change; \"slug\": null derives a new slug from the name. Honours If-Match."),
            Delete: new("Soft-delete a brand", "Products keep their brand reference. Honours If-Match. Deleting a deleted brand is a no-op."),
            Restore: new("Undo a brand's soft delete", "Restoring a live brand is a no-op. Honours If-Match.")),
            CreateBrand, ReplaceBrand);
        return app;
    }

    public static Task<Results<Created<BrandResponse>, ValidationProblem, ProblemHttpResult>> CreateBrand(BrandRequest request, [AsParameters] RequestScope scope) =>
        Brands.CreateAsync(scope, request);

    public static Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> ReplaceBrand(
        [FromRoute(Name = "ref")] string reference, BrandRequest request, [AsParameters] RequestScope scope) =>
        Brands.ReplaceAsync(scope, reference, request);
}
