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
        var brands = app.MapGroup("/api/brands").WithTags("Brands");

        brands.MapGet("", ListBrands)
            .Documented("List brands", "Paged; filter by name fragment; staff may add include_deleted=true.", 403);
        brands.MapGet("/{ref}", GetBrand)
            .Produces(StatusCodes.Status304NotModified)
            .Documented("Get a brand by id or slug", "Answers with an ETag; If-None-Match with the current tag gives 304. Deleted brands are visible to staff only.", 404);

        var writes = brands.MapGroup("").RequireAuthorization(Policies.Staff);
        writes.MapPost("", CreateBrand)
            .ProducesETag()
            .Documented("Create a brand", "The slug is generated from the name when absent (brand-name, brand-name-2, ...). Staff or admin.", 409);
        writes.MapPut("/{ref}", ReplaceBrand)
            .Documented("Replace a brand", "Honours If-Match (412 when the brand changed meanwhile). An absent slug keeps the current one.", 404, 409, 412);
        writes.MapPatch("/{ref}", PatchBrand)
            .AcceptsMergePatch<BrandRequest>()
            .Documented("Change some fields of a brand", "JSON merge patch: only the fields present change; \"slug\": null derives a new slug from the name. Honours If-Match.", 404, 409, 412);
        writes.MapDelete("/{ref}", DeleteBrand)
            .Documented("Soft-delete a brand", "Products keep their brand reference. Honours If-Match. Deleting a deleted brand is a no-op.", 404, 412);
        writes.MapPost("/{ref}/restore", RestoreBrand)
            .Documented("Undo a brand's soft delete", "Restoring a live brand is a no-op. Honours If-Match.", 404, 412);
        return app;
    }

    public static Task<Results<Ok<Paged<BrandResponse>>, ValidationProblem, ProblemHttpResult>> ListBrands(
        [AsParameters] TaxonomyListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope) =>
        Brands.ListAsync(scope, query, paging, pager);

    public static Task<Results<Ok<BrandResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetBrand(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Brands.GetAsync(scope, reference);

    public static Task<Results<Created<BrandResponse>, ValidationProblem, ProblemHttpResult>> CreateBrand(
        BrandRequest request, [AsParameters] RequestScope scope) =>
        Brands.CreateAsync(scope, request);

    public static Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> ReplaceBrand(
        [FromRoute(Name = "ref")] string reference, BrandRequest request, [AsParameters] RequestScope scope) =>
        Brands.ReplaceAsync(scope, reference, request);

    public static Task<Results<Ok<BrandResponse>, ValidationProblem, ProblemHttpResult>> PatchBrand(
        [FromRoute(Name = "ref")] string reference, JsonElement patch, [AsParameters] RequestScope scope) =>
        Brands.PatchAsync(scope, reference, patch);

    public static Task<Results<NoContent, ProblemHttpResult>> DeleteBrand(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Brands.DeleteAsync(scope, reference);

    public static Task<Results<Ok<BrandResponse>, ProblemHttpResult>> RestoreBrand(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        Brands.RestoreAsync(scope, reference);
}
