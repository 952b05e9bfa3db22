using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>Admin-only user management, chiefly so an admin can make staff accounts.</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users")
            .WithTags("Users")
            .RequireAuthorization(Policies.Admin);

        group.MapGet("/", ListUsers)
            .WithSummary("List users")
            .WithDescription("Users ordered by id, paged, optionally filtered by part of the email and by role. Admins only.");

        group.MapGet("/{id:long}", GetUser)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Get a user")
            .WithDescription("One user with their roles. Admins only.");

        group.MapPut("/{id:long}/roles", SetRoles)
            .ProducesProblems(404, 409)
            .WithSummary("Replace a user's roles")
            .WithDescription("Sets the user's roles to exactly the given list (admin, staff, seller, customer). The change " +
                             "reaches the user's access token at their next refresh. Admins cannot drop their own " +
                             "admin role (409).");
        return app;
    }

    public static Task<Results<Ok<Paged<UserResponse>>, ValidationProblem>> ListUsers(
        [AsParameters] UserQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var errors = new ValidationErrors();
        var role = query.Role?.Trim();
        errors.When(role is { Length: > 0 } && !IsKnownRole(role), "role", KnownRolesMessage);

        // Identity's normalized columns are upper-cased, which makes both matches case-insensitive on both databases.
        var db = scope.Db;
        var email = query.Email?.Trim().ToUpperInvariant();
        var normalizedRole = role?.ToUpperInvariant();
        var users = db.Users.AsNoTracking()
            .WhereIf(!string.IsNullOrEmpty(email), u => u.NormalizedEmail!.Contains(email!))
            .WhereIf(!string.IsNullOrEmpty(normalizedRole), u => db.UserRoles.Any(ur =>
                ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == normalizedRole)));
        return pager.ListAsync(users, paging, errors, u => u.OrderBy(x => x.Id), async (rows, ct) =>
        {
            var roles = await RolesOfAsync(db, rows.ConvertAll(u => u.Id), ct);
            return rows.ConvertAll(u => UserResponse.From(u, roles[u.Id]));
        }, scope);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(long id, UserManager<User> users)
    {
        var user = await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture));
        return user is null
            ? Problems.NotFound("User")
            : TypedResults.Ok(UserResponse.From(user, await users.GetRolesAsync(user)));
    }

    public static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> SetRoles(
        long id,
        UpdateRolesRequest request,
        ClaimsPrincipal principal,
        UserManager<User> users,
        EmporiumDbContext db,
        CancellationToken cancellationToken)
    {
        if (request.Roles is null)
        {
            return Problems.Validation("roles", "roles is required (an empty list removes every role).");
        }

        var blank = request.Roles.Select((role, index) => (role, index)).Where(r => string.IsNullOrWhiteSpace(r.role)).ToList();
        if (blank.Count > 0)
        {
            return Problems.Validation("roles", $"roles[{blank[0].index}] is {(blank[0].role is null ? "null" : "empty")}: each role is one of {KnownRoles}.");
        }

        var unknown = request.Roles.Where(r => !IsKnownRole(r!)).ToList();
        if (unknown.Count > 0)
        {
            return Problems.Validation("roles", $"Unknown role(s) {string.Join(", ", unknown.Select(r => $"'{r}'"))}. {KnownRolesMessage}");
        }

        var user = await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture));
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        var wanted = request.Roles.Select(r => r!.Trim().ToLowerInvariant()).Distinct().ToList();
        if (principal.UserId() == id && !wanted.Contains(Roles.Admin))
        {
            return Problems.Conflict("You cannot remove your own admin role; ask another admin to do it.");
        }

        var current = await users.GetRolesAsync(user);
        var toRemove = current.Where(r => !wanted.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        var toAdd = wanted.Where(r => !current.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var outcome = IdentityResult.Success;
        if (toRemove.Count > 0)
        {
            outcome = await users.RemoveFromRolesAsync(user, toRemove);
        }

        if (outcome.Succeeded && toAdd.Count > 0)
        {
            outcome = await users.AddToRolesAsync(user, toAdd);
        }

        if (!outcome.Succeeded)
        {
            // In practice a concurrency failure: another admin changed the same user at the same moment.
            return Problems.Conflict(string.Join(" ", outcome.Errors.Select(e => e.Description)));
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(UserResponse.From(user, wanted));
    }

    private static readonly string KnownRoles = string.Join(", ", Roles.All);

    private static readonly string KnownRolesMessage = $"Roles are {KnownRoles}.";

    private static bool IsKnownRole(string role) => Roles.All.Contains(role.Trim(), StringComparer.OrdinalIgnoreCase);

    private static async Task<ILookup<long, string>> RolesOfAsync(EmporiumDbContext db, List<long> userIds, CancellationToken cancellationToken)
    {
        var pairs = await (
                from userRole in db.UserRoles
                join role in db.Roles on userRole.RoleId equals role.Id
                where userIds.Contains(userRole.UserId)
                select new { userRole.UserId, role.Name })
            .ToListAsync(cancellationToken);
        return pairs.ToLookup(p => p.UserId, p => p.Name ?? "");
    }
}
