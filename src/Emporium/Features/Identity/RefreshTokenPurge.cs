using Emporium.Platform.Workers;

namespace Emporium.Features.Identity;

/// <summary>
/// Deletes refresh tokens that expired more than <see cref="Grace"/> ago, every Auth:RefreshTokenPurgeInterval, in worker
/// processes. An expired token is refused whatever its row says, so the rows only cost space; the grace keeps a just-expired
/// family visible to anyone investigating a session. Several workers purging at once is harmless.
/// </summary>
internal sealed partial class RefreshTokenPurge(
    IServiceScopeFactory scopes,
    IOptions<JwtOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<RefreshTokenPurge> logger) : PeriodicSweep(emporium, clock)
{
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    private const int BatchSize = 5_000;

    protected override TimeSpan Interval => options.Value.RefreshTokenPurgeInterval;

    public override Task<int> SweepAsync(CancellationToken cancellationToken) => PurgeAsync(cancellationToken);

    protected override void OnSwept(int count) => LogPurged(count);

    protected override void OnFailed(Exception exception) => LogPurgeFailed(exception);

    private async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - Grace;
        var total = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            var batch = await db.Set<RefreshToken>()
                .Where(t => t.ExpiresAt < cutoff)
                .OrderBy(t => t.Id)
                .Select(t => t.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return total;
            }

            total += await db.Set<RefreshToken>().Where(t => batch.Contains(t.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} expired refresh tokens")]
    private partial void LogPurged(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting expired refresh tokens failed; the next run tries again")]
    private partial void LogPurgeFailed(Exception exception);
}
