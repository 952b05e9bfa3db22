using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>
/// Creates the roles and, on first start, the admin account from EMPORIUM_ADMIN_EMAIL and
/// EMPORIUM_ADMIN_PASSWORD. On the embedded default without them, a random password is generated and
/// printed once; elsewhere the missing settings stop the start.
/// </summary>
public sealed partial class AdminAccountSeeder(
    EmporiumDbContext db,
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
        var result = admin.Id == 0 ? await users.CreateAsync(admin, password) : IdentityResult.Success;
        if (!result.Succeeded && result.Errors.Any(error => error.Code is "DuplicateUserName" or "DuplicateEmail"))
        {
            throw new CreatedElsewhere();
        }

        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                "Could not create the admin account: " + string.Join(" ", result.Errors.Select(e => e.Description)));
        }

        await users.AddToRoleAsync(admin, Roles.Admin);
        if (generated)
        {
            // Printed once, on the console only, because nobody could log in otherwise.
            Console.WriteLine($"Emporium admin account created: {email} / {password} (set EMPORIUM_ADMIN_EMAIL and EMPORIUM_ADMIN_PASSWORD to choose your own)");
        }

        LogCreated(logger, email);
    }

    /// <summary>Another process created the admin account between this one's look-up and its insert.</summary>
    private sealed class CreatedElsewhere : Exception;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created admin account {Email}")]
    private static partial void LogCreated(ILogger logger, string email);
}
