using System.Security.Cryptography;
using Emporium.Platform.Persistence;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>
/// Creates the roles and, on first start, the admin account from EMPORIUM_ADMIN_EMAIL and
/// EMPORIUM_ADMIN_PASSWORD. On the embedded default without them, a random password is generated and
/// printed once; elsewhere the missing settings stop the start.
/// </summary>
public sealed partial class AdminAccountSeeder(
    EmporiumDbContext db,
    IWriteLocks locks,
    UserManager<User> users,
    RoleManager<Role> roles,
    IConfiguration configuration,
    DeploymentProfile profile,
    TimeProvider clock,
    ILogger<AdminAccountSeeder> logger) : IStartupTask
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Processes started together on a fresh database (two API replicas, say) race to create the roles and the admin:
        // the loser's insert hits a unique index, and its next pass finds what the winner created.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SeedAsync(cancellationToken);
                return;
            }
            catch (Exception exception) when (attempt < 5 && exception is DbUpdateException or CreatedElsewhere)
            {
                // The winner may be between its steps (the role, the user, the user's role): give it a moment.
                db.ChangeTracker.Clear();
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 250)), cancellationToken);
            }
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new Role(role));
            }
        }

        // The look for an admin, the account's creation (or its taking over) and its role are one transaction under the lock
        // every write that may take an admin away holds: a process started at the same moment waits, then finds the admin
        // this one made, rather than taking over (and setting the password of) an account this one is still creating.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await locks.HoldAsync(UserAccounts.AdminsLock, 0, cancellationToken);
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        if (admins.Count > 0)
        {
            return;
        }

        // Trimmed as sign-in trims what it is given: a stray space in an env file must not make the account unreachable.
        var email = configuration["EMPORIUM_ADMIN_EMAIL"]?.Trim();
        var password = configuration["EMPORIUM_ADMIN_PASSWORD"];
        var generated = false;
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(password))
        {
            if (!profile.Embedded)
            {
                throw new OptionsValidationException("EMPORIUM_ADMIN_EMAIL", typeof(string),
                    ["EMPORIUM_ADMIN_EMAIL and EMPORIUM_ADMIN_PASSWORD are required to create the first admin account on PostgreSQL."]);
            }

            email = string.IsNullOrWhiteSpace(email) ? "admin@emporium.local" : email;
            password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
            generated = true;
        }

        var admin = await users.FindByEmailAsync(email) ?? new User
        {
            UserName = email,
            Email = email,
            EmailConfirmed = true,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        // An account that already holds the address (a customer who registered it, an admin demoted by hand in the database)
        // becomes the admin with this password, and its sessions end: whoever holds the password configured or printed
        // here runs the store, not whoever registered the address (and a printed password that did not work for it).
        var result = admin.Id == 0 ? await users.CreateAsync(admin, password) : await TakeOverAsync(admin, password);
        if (admin.Id != 0 && result.Succeeded)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await db.Set<RefreshToken>().Where(t => t.UserId == admin.Id && t.RevokedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
        }

        if (!result.Succeeded && result.Errors.Any(error => error.Code is "DuplicateUserName" or "DuplicateEmail"))
        {
            throw new CreatedElsewhere();
        }

        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                "Could not create the admin account: " + string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        var promoted = await users.AddToRoleAsync(admin, Roles.Admin);
        if (!promoted.Succeeded)
        {
            throw new InvalidOperationException(
                "Could not make the account an admin: " + string.Join(" ", promoted.Errors.Select(e => e.Description)));
        }

        await transaction.CommitAsync(cancellationToken);
        if (generated)
        {
            // Printed once, on the console only, because nobody could log in otherwise.
            Console.WriteLine($"Emporium admin account created: {email} / {password} (set EMPORIUM_ADMIN_EMAIL and EMPORIUM_ADMIN_PASSWORD to choose your own)");
        }

        LogCreated(logger, email);
    }

    /// <summary>
    /// The account holding the admin address gets the password (checked by the rules a new account's is) and loses any lock,
    /// which would otherwise refuse the printed password, and count as an admin at every later start.
    /// </summary>
    private async Task<IdentityResult> TakeOverAsync(User account, string password)
    {
        foreach (var validator in users.PasswordValidators)
        {
            if (await validator.ValidateAsync(users, account, password) is { Succeeded: false } refused)
            {
                return refused;
            }
        }

        account.LockoutEnd = null;
        return await UserAccounts.SetPasswordAsync(users, account, password);
    }

    /// <summary>Another process created the admin account between this one's look-up and its insert.</summary>
    private sealed class CreatedElsewhere : Exception;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created admin account {Email}")]
    private static partial void LogCreated(ILogger logger, string email);
}
