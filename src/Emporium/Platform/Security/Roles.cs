namespace Emporium.Platform.Security;

public static class Roles
{
    public const string Admin = "admin";
    public const string Staff = "staff";
    public const string Customer = "customer";

    /// <summary>A marketplace merchant: manages only the products it owns (decision 0013).</summary>
    public const string Seller = "seller";

    public static readonly IReadOnlyList<string> All = [Admin, Staff, Seller, Customer];
}

/// <summary>Authorization policy names used on route groups.</summary>
public static class Policies
{
    /// <summary>Those who run the store: staff or admin (the whole catalog, taxonomy, webhooks).</summary>
    public const string Staff = "staff";

    /// <summary>Those who manage products: staff and admins (any product) and sellers (their own).</summary>
    public const string ManageProducts = "manage-products";

    public const string Admin = "admin";
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The user id from the token's sub claim, or null for anonymous callers.</summary>
    public static long? UserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue("sub"), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(Roles.Admin);

    /// <summary>Runs the store: may see and change every product (decision 0013).</summary>
    public static bool IsStaffOrAdmin(this ClaimsPrincipal principal) =>
        principal.IsInRole(Roles.Admin) || principal.IsInRole(Roles.Staff);

    /// <summary>A seller that does not also run the store: sees and changes only its own products.</summary>
    public static bool IsSellerOnly(this ClaimsPrincipal principal) =>
        principal.IsInRole(Roles.Seller) && !principal.IsStaffOrAdmin();
}
