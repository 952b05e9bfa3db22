namespace Emporium.Features.Catalog.Products;

/// <summary>
/// Filters and sort of GET /api/products (and /api/categories/{ref}/products). Values arrive as text and
/// are parsed by the handler, so a bad value is a field error naming the parameter, not a bare 400.
/// </summary>
public sealed record ProductQuery(
    [FromQuery(Name = "sku")][property: Description("Exact SKU, any case.")] string? Sku,
    [FromQuery(Name = "active")][property: Description("true or false.")] string? Active,
    [FromQuery(Name = "name")][property: Description("Part of the name, any case.")] string? Name,
    [FromQuery(Name = "description")][property: Description("Part of the description, any case.")] string? Description,
    [FromQuery(Name = "min_price")][property: Description("Lowest price, inclusive.")] string? MinPrice,
    [FromQuery(Name = "max_price")][property: Description("Highest price, inclusive.")] string? MaxPrice,
    [FromQuery(Name = "brand")][property: Description("Brand id or slug.")] string? Brand,
    [FromQuery(Name = "category")][property: Description("Category id or slug; products of its subcategories are included.")] string? Category,
    [FromQuery(Name = "owner")][property: Description("'me' (the caller's own products) or a user id.")] string? Owner,
    [FromQuery(Name = "search")][property: Description("Words to find in the SKU, name or description; each word matches as a prefix.")] string? Search,
    [FromQuery(Name = "sort")][property: Description("name, price, created_at or updated_at; prefix - for descending. Default -created_at.")] string? Sort,
    [FromQuery(Name = "include_deleted")][property: Description("true: include soft-deleted products (staff: every product; sellers: their own). Needs a signed-in staff member or seller.")] string? IncludeDeleted,
    [FromQuery(Name = "cursor")][property: Description("Position from a list's next or previous link (keyset paging, fast at any depth); instead of page.")] string? Cursor);
