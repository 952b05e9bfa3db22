using Emporium.Platform.Persistence;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>Admin-only user management, chiefly so an admin can make staff accounts.</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        // Admins only, by their account as it is now (403 for one locked or demoted since their access token was issued).
        var group = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization(Policies.Admin)
            .AddEndpointFilter(StillAnAdmin);

        group.MapGet("/", ListUsers)
            .Documented("List users", "Users ordered by id, paged, optionally filtered by part of the email and by role. Admins only.");

        group.MapPost("/", CreateUser)
            .Documented("Create a user", "An account with the given roles, e.g. a staff member or a seller. The password must be at least 10 " +
                "characters; an email already registered, in any letter case, answers 409. Admins only.", 409);

        group.MapPost("/{id:long}/lock", LockUser)
            .Documented("Lock a user out", "The account can no longer sign in or refresh its tokens, every refresh token it holds is revoked, and its access " +
                "tokens are refused (401 invalid_token) within Auth:SessionCheckInterval. Admins cannot lock " +
                "themselves out (409), nor the last admin who can sign in (409). Locking a locked account is a no-op. A concurrent write of the account (another admin, a password " +
                "change) is read and the lock applied again; 409 only when that keeps happening. Admins only.", 404, 409);

        group.MapPost("/{id:long}/unlock", UnlockUser)
            .Documented("Unlock a user", "Lifts an admin's lock and the lockout of every client address after failed sign-ins; the user signs in again. " +
                "Admins only. 409 when the account kept changing (another admin) through several tries; nothing changed.", 404, 409);

        group.MapPut("/{id:long}/password", SetPassword)
            .Documented("Set a user's password", "For a user who lost theirs, or whose account was taken over: the new password (at least " +
                "10 characters) replaces the old one, every client address's count of failed sign-ins is cleared, and every refresh token the account holds " +
                "is revoked and its access tokens refused (within Auth:SessionCheckInterval), so each of its sessions ends. An admin's " +
                "lock stays as it is. Admins only.", 404, 409);

        group.MapGet("/{id:long}", GetUser)
            .Documented("Get a user", "One user with their roles. Admins only.", 404);

        group.MapPut("/{id:long}/roles", SetRoles)
            .Documented("Replace a user's roles", "Sets the user's roles to exactly the given list (admin, staff, seller, customer). The user's " +
                "access tokens are refused (401 invalid_token) within Auth:SessionCheckInterval, and their refresh carries the new " +
                "roles. Admins cannot drop their own " +
                "admin role (409), and the last admin who can sign in keeps theirs (409).", 404, 409);
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

    public static Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateUser(
        CreateUserRequest request, UserManager<User> users, [AsParameters] RequestScope scope)
    {
        var errors = new ValidationErrors();
        var roles = UserAccounts.CheckRoles(request.Roles, errors) ?? [];
        return UserAccounts.CreateAsync(request.Email, request.Password, roles, users, scope, errors);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> LockUser(
        long id, UserManager<User> users, RefreshTokenStore refreshTokens, IWriteLocks locks, SessionStamps stamps, [AsParameters] RequestScope scope)
    {
        if (scope.Http.User.UserId() == id)
        {
            return Problems.Conflict("You cannot lock yourself out; ask another admin to do it.");
        }

        if (await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } user)
        {
            return Problems.NotFound("User");
        }

        await using var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        if (await users.IsInRoleAsync(user, Roles.Admin)
            && !await UserAccounts.AnotherAdminRemainsAsync(scope.Db, locks, user.Id, scope.Aborted))
        {
            return UserAccounts.LastAdmin("unlock or make");
        }

        var locked = await UserAccounts.ChangeAsync(scope.Db, user, async () =>
            UserAccounts.IsLockedByAdmin(user) ? IdentityResult.Success
            : await users.SetLockoutEnabledAsync(user, true) is { Succeeded: false } failed ? failed
            : await users.SetLockoutEndDateAsync(user, UserAccounts.AdminLock) is { Succeeded: false } unlockable ? unlockable
            : await users.UpdateSecurityStampAsync(user));
        if (!locked.Succeeded)
        {
            return Problems.Conflict("The account kept changing while it was being locked; nothing was locked. Try again.");
        }

        await refreshTokens.RevokeAllOfAsync(user.Id, scope.Aborted);
        await transaction.CommitAsync(scope.Aborted);
        stamps.Forget(user.Id);
        return TypedResults.Ok(UserResponse.From(user, await users.GetRolesAsync(user)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UnlockUser(
        long id, UserManager<User> users, SignInFailures failures, EmporiumDbContext db, CancellationToken cancellationToken)
    {
        if (await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } user)
        {
            return Problems.NotFound("User");
        }

        var unlocked = await UserAccounts.ChangeAsync(db, user, async () =>
            await users.SetLockoutEndDateAsync(user, null) is { Succeeded: false } failed ? failed : await users.ResetAccessFailedCountAsync(user));
        if (!unlocked.Succeeded)
        {
            return Problems.Conflict("The account kept changing while it was being unlocked; try again.");
        }

        await failures.ForgetAllAsync(user.Id, cancellationToken);

        return TypedResults.Ok(UserResponse.From(user, await users.GetRolesAsync(user)));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SetPassword(
        long id, SetPasswordRequest request, UserManager<User> users, RefreshTokenStore refreshTokens, SignInFailures failures,
        SessionStamps stamps, [AsParameters] RequestScope scope)
    {
        if (await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } user)
        {
            return Problems.NotFound("User");
        }

        var errors = new ValidationErrors();
        Credentials.CheckPasswordPresent(request.Password, errors);
        await Credentials.CheckPasswordRulesAsync(users, user, request.Password, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        await using var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        var changed = await UserAccounts.ChangeAsync(scope.Db, user, () => UserAccounts.SetPasswordAsync(users, user, request.Password!));
        if (!changed.Succeeded)
        {
            return Problems.Conflict("The account kept changing while its password was being set; nothing changed. Try again.");
        }

        await refreshTokens.RevokeAllOfAsync(user.Id, scope.Aborted);
        await failures.ForgetAllAsync(user.Id, scope.Aborted);
        await transaction.CommitAsync(scope.Aborted);
        stamps.Forget(user.Id);
        return TypedResults.NoContent();
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
        IWriteLocks locks,
        SessionStamps stamps,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (UserAccounts.CheckRoles(request.Roles, errors) is not { } wanted)
        {
            return errors.ToProblem();
        }

        var user = await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture));
        if (user is null)
        {
            return Problems.NotFound("User");
        }

        if (principal.UserId() == id && !wanted.Contains(Roles.Admin))
        {
            return Problems.Conflict("You cannot remove your own admin role; ask another admin to do it.");
        }

        var current = await users.GetRolesAsync(user);
        var toRemove = current.Where(r => !wanted.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        var toAdd = wanted.Where(r => !current.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (toRemove.Contains(Roles.Admin, StringComparer.OrdinalIgnoreCase)
            && !await UserAccounts.AnotherAdminRemainsAsync(db, locks, user.Id, cancellationToken))
        {
            return UserAccounts.LastAdmin("make");
        }

        var outcome = IdentityResult.Success;
        if (toRemove.Count > 0)
        {
            outcome = await users.RemoveFromRolesAsync(user, toRemove);
        }

        if (outcome.Succeeded && toAdd.Count > 0)
        {
            outcome = await users.AddToRolesAsync(user, toAdd);
        }

        if (outcome.Succeeded && toRemove.Count + toAdd.Count > 0)
        {
            // The user's access tokens carry the old roles: a new stamp ends them (SessionStamps), and the refresh reads the new.
            outcome = await users.UpdateSecurityStampAsync(user);
        }

        if (!outcome.Succeeded)
        {
            // In practice a concurrency failure: another admin changed the same user at the same moment.
            return Problems.Conflict(string.Join(" ", outcome.Errors.Select(e => e.Description)));
        }

        await transaction.CommitAsync(cancellationToken);
        stamps.Forget(user.Id);
        return TypedResults.Ok(UserResponse.From(user, wanted));
    }

    /// <summary>
    /// The caller's account, not only its access token, is an admin's that no admin has locked: a token outlives a lock or
    /// a demotion by up to Auth:AccessTokenLifetime, and with it a locked or demoted admin could unlock or promote
    /// themselves again. A lockout after failed sign-ins does not count here (anyone who knows the email can cause one),
    /// as it does not at refresh.
    /// </summary>
    private static async ValueTask<object?> StillAnAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var users = http.RequestServices.GetRequiredService<UserManager<User>>();
        if (http.User.UserId() is not { } id
            || await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } caller
            || UserAccounts.IsLockedByAdmin(caller)
            || !await users.IsInRoleAsync(caller, Roles.Admin))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                detail: "Your account is no longer an unlocked admin's, whatever your access token still says.");
        }

        return await next(context);
    }

    private static readonly string KnownRolesMessage = $"Roles are {UserAccounts.KnownRoles}.";

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
