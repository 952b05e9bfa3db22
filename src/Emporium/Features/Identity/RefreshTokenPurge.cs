using Emporium.Platform.Workers;

namespace Emporium.Features.Identity;

/// <summary>
/// Deletes refresh tokens that expired more than <see cref="Grace"/> ago, every Auth:RefreshTokenPurgeInterval, in worker
/// processes. An expired token is refused whatever its row says, so the rows only cost space; the grace keeps a just-expired
/// family visible to anyone investigating a session. Several workers purging at once is harmless.
/// </summary>
internal sealed class RefreshTokenPurge(
    IServiceScopeFactory scopes,
    IOptions<JwtOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<RefreshTokenPurge> logger) : PeriodicSweep(emporium, clock, logger, "expired refresh tokens")
{
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    protected override TimeSpan Interval => options.Value.RefreshTokenPurgeInterval;

    public override Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - Grace;
        return DeleteInChunksAsync<RefreshToken>(scopes, t => t.ExpiresAt < cutoff, cancellationToken);
    }
}
