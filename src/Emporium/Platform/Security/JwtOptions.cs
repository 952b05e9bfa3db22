using System.ComponentModel.DataAnnotations;

namespace Emporium.Platform.Security;

/// <summary>Access and refresh token settings (section Auth).</summary>
public sealed class JwtOptions : IValidatableObject
{
    public const string Section = "Auth";

    [Required]
    public string Issuer { get; set; } = "emporium";

    [Required]
    public string Audience { get; set; } = "emporium";

    /// <summary>
    /// HMAC-SHA256 key, at least 32 bytes. When unset, a key is generated once and kept in
    /// {Emporium:DataDirectory}/jwt-signing.key; every process of a deployment must share one key.
    /// </summary>
    public string? SigningKey { get; set; }

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// How long a login lasts however often its refresh token is rotated: each rotation gives a token of
    /// <see cref="RefreshTokenLifetime"/>, but never past the sign-in plus this. A stolen token its owner never presents
    /// again (so no reuse is seen) otherwise kept a session alive for ever.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(90);

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Failed sign-ins to one account from all addresses together, each within Identity:Lockout:DefaultLockoutTimeSpan of
    /// the last, that lock it for that span except from the addresses it signed in from within <see cref="SessionLifetime"/>:
    /// guessing from many networks (one address each) stops, and the owner's known addresses still sign in.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int AccountLockoutThreshold { get; set; } = 50;

    /// <summary>
    /// How often a process reads a user's security stamp again to check their access tokens: a lock, a role change, a new
    /// password or a sign-out everywhere reaches every process's requests within this (the one that made it, at once).
    /// Zero reads it on every request.
    /// </summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long after a rotation the rotated token may be presented again while its successor is still unused: the answer
    /// that carried the successor was lost (a proxy's 502, a dropped connection), and the client still holds the old
    /// token. It then gets a new pair and the unused successor is revoked. Zero makes every second use a theft.
    /// </summary>
    public TimeSpan RefreshReuseGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a worker deletes refresh tokens that expired more than a day ago.</summary>
    public TimeSpan RefreshTokenPurgeInterval { get; set; } = TimeSpan.FromHours(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SigningKey is { } key && System.Text.Encoding.UTF8.GetByteCount(key) < 32)
        {
            yield return new ValidationResult("Auth:SigningKey must be at least 32 bytes.", [nameof(SigningKey)]);
        }

        if (AccessTokenLifetime <= TimeSpan.Zero || AccessTokenLifetime > TimeSpan.FromHours(24))
        {
            yield return new ValidationResult("Auth:AccessTokenLifetime must be between 00:00:01 and 1.00:00:00.", [nameof(AccessTokenLifetime)]);
        }

        if (RefreshTokenPurgeInterval < TimeSpan.FromMilliseconds(100) || RefreshTokenPurgeInterval > TimeSpan.FromDays(30))
        {
            yield return new ValidationResult("Auth:RefreshTokenPurgeInterval must be between 00:00:00.1 and 30.00:00:00.", [nameof(RefreshTokenPurgeInterval)]);
        }

        if (RefreshTokenLifetime <= AccessTokenLifetime || RefreshTokenLifetime > TimeSpan.FromDays(365))
        {
            yield return new ValidationResult(
                "Auth:RefreshTokenLifetime must be longer than Auth:AccessTokenLifetime and at most 365.00:00:00.", [nameof(RefreshTokenLifetime)]);
        }

        // Not tied to Auth:RefreshTokenLifetime: shorter, it only ends logins earlier (a refresh lifetime of 120 days set before
        // this setting existed must still start).
        if (SessionLifetime <= TimeSpan.Zero || SessionLifetime > TimeSpan.FromDays(365))
        {
            yield return new ValidationResult(
                "Auth:SessionLifetime must be between 00:00:00.001 and 365.00:00:00.", [nameof(SessionLifetime)]);
        }

        if (SessionCheckInterval < TimeSpan.Zero || SessionCheckInterval > AccessTokenLifetime)
        {
            yield return new ValidationResult(
                "Auth:SessionCheckInterval must be between 0 and Auth:AccessTokenLifetime.", [nameof(SessionCheckInterval)]);
        }

        if (RefreshReuseGrace < TimeSpan.Zero || RefreshReuseGrace > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Auth:RefreshReuseGrace must be between 0 and 00:05:00.", [nameof(RefreshReuseGrace)]);
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromSeconds(30))
        {
            yield return new ValidationResult("Auth:ClockSkew must be between 0 and 30 seconds.", [nameof(ClockSkew)]);
        }
    }
}
