using Emporium.Platform.Workers;

namespace Emporium.Features.Identity;

/// <summary>
/// Deletes refresh tokens that expired more than <see cref="Grace"/> ago, and failed sign-ins that no longer count, every
/// Auth:RefreshTokenPurgeInterval, in worker processes. An expired token is refused whatever its row says, so the rows only
/// cost space; the grace keeps a just-expired family visible to anyone investigating a session. Several workers purging at
/// once is harmless.
/// </summary>
internal sealed class RefreshTokenPurge(
    IServiceScopeFactory scopes,
    IOptions<JwtOptions> options,
    IOptions<Microsoft.AspNetCore.Identity.IdentityOptions> identity,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<RefreshTokenPurge> logger) : PeriodicSweep(emporium, clock, logger, "expired refresh tokens")
{
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    protected override TimeSpan Interval => options.Value.RefreshTokenPurgeInterval;

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        var cutoff = now - Grace;
        var tokens = await DeleteInChunksAsync<RefreshToken>(scopes, t => t.ExpiresAt < cutoff, cancellationToken);

        // Failed sign-ins a lockout apart no longer add up (SignInFailures), an ended lock no longer refuses, and a success
        // older than a session no longer makes its address known: rows with nothing left are forgotten.
        var forgotten = now - identity.Value.Lockout.DefaultLockoutTimeSpan;
        var unknown = now - options.Value.SessionLifetime;
        return tokens + await DeleteInChunksAsync<SignInFailure>(
            scopes,
            f => f.LastFailedAt < forgotten && (f.LockedUntil == null || f.LockedUntil < now) && (f.LastSucceededAt == null || f.LastSucceededAt < unknown),
            cancellationToken);
    }
}
