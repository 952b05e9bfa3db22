using Emporium.Platform.Persistence;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>Creating accounts (self-registration and by an admin), their roles, and the lock an admin can put on one.</summary>
internal static class UserAccounts
{
    /// <summary>An admin's lock has no end, unlike the lockout after repeated failed sign-ins.</summary>
    public static readonly DateTimeOffset AdminLock = DateTimeOffset.MaxValue;

    /// <summary>The <see cref="IWriteLocks"/> lock of writes that may add or take away an admin.</summary>
    public const string AdminsLock = "admins";

    public static readonly string KnownRoles = string.Join(", ", Roles.All);

    public static bool IsLockedByAdmin(User user) => user.LockoutEnd == AdminLock;

    /// <summary>
    /// Whether an admin who can sign in remains besides <paramref name="userId"/>, read under a lock every write that may
    /// take an admin away holds (a role change, a lock) to the end of its transaction: two admins demoting or locking each
    /// other at once each saw the other still there, and the store was left with no admin.
    /// </summary>
    public static async Task<bool> AnotherAdminRemainsAsync(EmporiumDbContext db, IWriteLocks locks, long userId, CancellationToken cancellationToken)
    {
        await locks.HoldAsync(AdminsLock, 0, cancellationToken);
        var admin = Roles.Admin.ToUpperInvariant();
        var lockouts = await db.Users.AsNoTracking()
            .Where(u => u.Id != userId && db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == admin)))
            .Select(u => u.LockoutEnd)
            .ToListAsync(cancellationToken);
        // A lockout after failed sign-ins does not count (anyone who knows the email can cause one, as StillAnAdmin says):
        // otherwise an attacker holding one admin account could keep the others from locking it.
        return lockouts.Exists(end => end != AdminLock);
    }

    public static ProblemHttpResult LastAdmin(string what) =>
        Problems.Conflict($"No other admin who can sign in would remain; {what} another admin first.");

    /// <summary>
    /// Runs <paramref name="change"/>, an Identity change of <paramref name="user"/> that saves the row, and when another
    /// write of the same user came first (Identity's concurrency stamp refuses the save) reads the row again and repeats
    /// it: a failed sign-in is always counted, a lock always lands. The last result when the races never stop.
    /// </summary>
    public static async Task<IdentityResult> ChangeAsync(EmporiumDbContext db, User user, Func<Task<IdentityResult>> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await change();
            if (result.Succeeded || attempt == 10 || !result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                return result;
            }

            await db.Entry(user).ReloadAsync();
        }
    }

    /// <summary>
    /// Replaces the password's hash and the security stamp in one write (the caller checked the rules), and clears the count of
    /// failed sign-ins; a <see cref="IdentityErrorDescriber.ConcurrencyFailure"/> is left to <see cref="ChangeAsync"/>.
    /// </summary>
    public static Task<IdentityResult> SetPasswordAsync(UserManager<User> users, User user, string password)
    {
        user.PasswordHash = users.PasswordHasher.HashPassword(user, password);
        user.AccessFailedCount = 0;
        return users.UpdateSecurityStampAsync(user);
    }

    /// <summary>The distinct, lower-case roles of a request, or null after recording why they are unacceptable.</summary>
    public static List<string>? CheckRoles(IReadOnlyList<string?>? given, ValidationErrors errors)
    {
        if (given is null)
        {
            errors.Add("roles", "roles is required (an empty list removes every role).");
            return null;
        }

        var blank = given.Select((role, index) => (role, index)).Where(r => string.IsNullOrWhiteSpace(r.role)).ToList();
        if (blank.Count > 0)
        {
            errors.Add("roles", $"roles[{blank[0].index}] is {(blank[0].role is null ? "null" : "empty")}: each role is one of {KnownRoles}.");
            return null;
        }

        var unknown = given.Where(r => !Roles.All.Contains(r!.Trim(), StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
        {
            errors.Add("roles", $"Unknown role(s) {string.Join(", ", unknown.Select(r => $"'{r}'"))}. Roles are {KnownRoles}.");
            return null;
        }

        return given.Select(r => r!.Trim().ToLowerInvariant()).Distinct().ToList();
    }

    /// <summary>
    /// A new account with <paramref name="roles"/>: 400 for a malformed email or a password the validators refuse (checked
    /// before the duplicate test, so a weak password reads as 400 whoever owns the address), 409 for an email already
    /// registered in any letter case. User and roles land together or not at all.
    /// </summary>
    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string? email, string? password, IReadOnlyList<string> roles, UserManager<User> users, RequestScope scope, ValidationErrors? errors = null)
    {
        errors ??= new ValidationErrors();
        var address = Credentials.CheckEmail(email, errors);
        Credentials.CheckPasswordPresent(password, errors);
        var user = new User { UserName = address, Email = address, CreatedAt = scope.UtcNow };
        await Credentials.CheckPasswordRulesAsync(users, user, password, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        await using var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        IdentityResult outcome;
        try
        {
            outcome = await users.CreateAsync(user, password!);
            if (outcome.Succeeded && roles.Count > 0)
            {
                outcome = await users.AddToRolesAsync(user, roles);
            }
        }
        catch (DbUpdateException)
        {
            // The unique index on the normalized user name (the email) caught a concurrent registration.
            return DuplicateEmail();
        }

        if (!outcome.Succeeded)
        {
            if (outcome.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                return DuplicateEmail();
            }

            foreach (var error in outcome.Errors)
            {
                errors.Add(error.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "email", error.Description);
            }

            return errors.ToProblem();
        }

        await transaction.CommitAsync(scope.Aborted);
        return TypedResults.Created($"/api/users/{user.Id}", UserResponse.From(user, roles));
    }

    private static ProblemHttpResult DuplicateEmail() => Problems.Conflict("An account with this email already exists.");
}
