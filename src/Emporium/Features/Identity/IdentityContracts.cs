using System.Net.Mail;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

public sealed record RegisterRequest(string? Email, string? Password);

public sealed record LoginRequest(string? Email, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record ChangePasswordRequest(
    [property: Description("The password the account signs in with now.")] string? CurrentPassword,
    [property: Description("At least 10 characters, and not the current one.")] string? NewPassword);

public sealed record SetPasswordRequest(
    [property: Description("The account's new password: at least 10 characters.")] string? Password);

public sealed record CreateUserRequest(
    [property: Description("The sign-in email; unique in any letter case.")] string? Email,
    [property: Description("At least 10 characters.")] string? Password,
    [property: Description("Any of admin, staff, seller, customer; e.g. [\"staff\"] for someone who runs the store.")]
    IReadOnlyList<string?>? Roles);

public sealed record UpdateRolesRequest(
    [property: Description("The complete set of roles the user should have: any of admin, staff, seller, customer.")]
    IReadOnlyList<string?>? Roles);

public sealed record TokenResponse(
    [property: Description("JWT to send as Authorization: Bearer on API calls.")] string AccessToken,
    [property: Description("Opaque, single-use token for POST /api/auth/refresh.")] string RefreshToken,
    [property: Description("Seconds until the access token expires.")] int ExpiresIn,
    string TokenType = "Bearer");

public sealed record UserResponse(
    long Id,
    string Email,
    IReadOnlyList<string> Roles,
    DateTime CreatedAt,
    [property: Description("True while an admin has locked the account: it cannot sign in or refresh its tokens.")] bool Locked)
{
    public static UserResponse From(User user, IEnumerable<string> roles) => new(
        user.Id,
        user.Email ?? "",
        roles.Order(StringComparer.Ordinal).ToList(),
        // SQLite hands timestamps back without a kind; they are always stored in UTC.
        user.CreatedAt,
        UserAccounts.IsLockedByAdmin(user));
}

public sealed record UserQuery(
    [FromQuery(Name = "email")][property: Description("Only users whose email contains this text (case-insensitive).")] string? Email,
    [FromQuery(Name = "role")][property: Description("Only users with this role: admin, staff, seller or customer.")] string? Role);

internal static class Credentials
{
    /// <summary>The width of the users.email column.</summary>
    public const int EmailLength = 256;

    /// <summary>PBKDF2 accepts any length; this only keeps absurd bodies from costing hashing time.</summary>
    public const int PasswordLength = 1024;

    public static string? CheckEmail(string? email, ValidationErrors errors)
    {
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add("email", "email is required.");
            return null;
        }

        if (trimmed.Length > EmailLength)
        {
            errors.Add("email", $"email must be at most {EmailLength} characters.");
        }
        else if (!MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed ||
                 parsed.DisplayName.Length > 0 || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            errors.Add("email", "email must be a valid address such as name@example.com.");
        }

        return trimmed;
    }

    public static void CheckPasswordPresent(string? password, ValidationErrors errors, string field = "password")
    {
        if (string.IsNullOrEmpty(password))
        {
            errors.Add(field, $"{field} is required.");
        }
        else if (password.Length > PasswordLength)
        {
            errors.Add(field, $"{field} must be at most {PasswordLength} characters.");
        }
    }

    /// <summary>Records under <paramref name="field"/> why Identity's password rules refuse <paramref name="password"/>, if they do.</summary>
    public static async Task CheckPasswordRulesAsync(UserManager<User> users, User user, string? password, ValidationErrors errors, string field = "password")
    {
        if (string.IsNullOrEmpty(password))
        {
            return;
        }

        foreach (var validator in users.PasswordValidators)
        {
            foreach (var error in (await validator.ValidateAsync(users, user, password)).Errors)
            {
                errors.Add(field, error.Description);
            }
        }
    }
}
