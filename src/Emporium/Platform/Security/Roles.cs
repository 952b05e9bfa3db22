using System.Security.Claims;

namespace Emporium.Platform.Security;

public static class Roles
{
    public const string Admin = "admin";
    public const string Staff = "staff";
    public const string Customer = "customer";

    public static readonly IReadOnlyList<string> All = [Admin, Staff, Customer];
}

/// <summary>Authorization policy names used on route groups.</summary>
public static class Policies
{
    /// <summary>Catalog writers: staff or admin.</summary>
    public const string Staff = "staff";

    public const string Admin = "admin";
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The user id from the token's sub claim, or null for anonymous callers.</summary>
    public static long? UserId(this ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue("sub"), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(Roles.Admin);

    public static bool IsStaffOrAdmin(this ClaimsPrincipal principal) =>
        principal.IsInRole(Roles.Admin) || principal.IsInRole(Roles.Staff);
}
