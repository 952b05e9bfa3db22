namespace Emporium.Features.Catalog;

/// <summary>
/// The products a caller, or a background job acting for one, may change (decision 0013): every product for those who run
/// the store (admin, staff), only its own for a seller. Imports, exports and bulk deletes carry it in their payloads, so a
/// job applies the rule its requester had when the request was accepted.
/// </summary>
/// <param name="UserId">The requester; new products (an import's included) are owned by them.</param>
/// <param name="OwnProductsOnly">True for a seller: products owned by anyone else (or by nobody) are out of reach.</param>
public sealed record CatalogScope(long? UserId, bool OwnProductsOnly)
{
    public static CatalogScope Of(ClaimsPrincipal user) => new(user.UserId(), !user.IsStaffOrAdmin());

    /// <summary>The whole catalog: staff acting for the store, or a job queued before scopes were recorded.</summary>
    public static CatalogScope WholeCatalog(long? userId) => new(userId, false);

    public IQueryable<Product> Changeable(IQueryable<Product> products)
    {
        if (!OwnProductsOnly)
        {
            return products;
        }

        var ownerId = UserId;
        return ownerId is null ? products.Where(p => false) : products.Where(p => p.OwnerId == ownerId);
    }

    /// <summary>Whether a stored product with <paramref name="ownerId"/> is within reach.</summary>
    public bool Reaches(long? ownerId) => !OwnProductsOnly || (ownerId is not null && ownerId == UserId);
}

/// <summary>Who sees which products (decision 0013). Everyone else's hidden products answer 404, never 403.</summary>
public static class ProductVisibility
{
    /// <summary>Products the caller may change: every product for staff and admins, only its own for a seller.</summary>
    public static IQueryable<Product> ChangeableBy(this IQueryable<Product> products, ClaimsPrincipal user) =>
        CatalogScope.Of(user).Changeable(products);

    /// <summary>
    /// Products the caller may read. Staff and admins: all, deleted ones only when <paramref name="includeDeleted"/>.
    /// Everyone: active, live products. A seller also sees its own inactive ones, and its own deleted ones when asked.
    /// </summary>
    public static IQueryable<Product> VisibleTo(this IQueryable<Product> products, ClaimsPrincipal user, bool includeDeleted)
    {
        if (user.IsStaffOrAdmin())
        {
            return includeDeleted ? products : products.Where(p => p.DeletedAt == null);
        }

        if (user.IsInRole(Roles.Seller) && user.UserId() is { } sellerId)
        {
            return includeDeleted
                ? products.Where(p => (p.IsActive && p.DeletedAt == null) || p.OwnerId == sellerId)
                : products.Where(p => p.DeletedAt == null && (p.IsActive || p.OwnerId == sellerId));
        }

        return products.Where(p => p.IsActive && p.DeletedAt == null);
    }

    /// <summary>
    /// <see cref="VisibleTo"/> for one product already loaded (a read that does not filter in SQL): the same rules, on the
    /// row's active flag, deletion and owner.
    /// </summary>
    public static bool CanSee(this ClaimsPrincipal user, bool isActive, DateTime? deletedAt, long? ownerId, bool includeDeleted)
    {
        if (user.IsStaffOrAdmin())
        {
            return includeDeleted || deletedAt == null;
        }

        if (user.IsInRole(Roles.Seller) && user.UserId() is { } sellerId)
        {
            return includeDeleted
                ? (isActive && deletedAt == null) || ownerId == sellerId
                : deletedAt == null && (isActive || ownerId == sellerId);
        }

        return isActive && deletedAt == null;
    }

    /// <summary>Whether the caller may ask for deleted products (include_deleted=true): those who run the store, and sellers (their own).</summary>
    public static bool MaySeeDeleted(this ClaimsPrincipal user) => user.IsStaffOrAdmin() || user.IsInRole(Roles.Seller);
}
