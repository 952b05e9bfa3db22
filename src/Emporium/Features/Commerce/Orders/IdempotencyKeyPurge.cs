using Emporium.Platform.Workers;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Deletes checkout Idempotency-Keys past their expiry (Commerce:IdempotencyKeyLifetime), every
/// Commerce:IdempotencyKeyPurgeInterval, in worker processes. An expired key is never replayed whatever its row says (a
/// request that finds one deletes it and runs anew), so the rows only cost space. Several workers purging at once is harmless.
/// </summary>
internal sealed partial class IdempotencyKeyPurge(
    IServiceScopeFactory scopes,
    IOptions<CommerceOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<IdempotencyKeyPurge> logger) : PeriodicSweep(emporium, clock)
{
    private const int BatchSize = 5_000;

    protected override TimeSpan Interval => options.Value.IdempotencyKeyPurgeInterval;

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        var total = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            var batch = await db.Set<IdempotencyKey>()
                .Where(k => k.ExpiresAt <= now)
                .OrderBy(k => k.Id)
                .Select(k => k.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return total;
            }

            total += await db.Set<IdempotencyKey>().Where(k => batch.Contains(k.Id) && k.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        }
    }

    protected override void OnSwept(int count) => LogPurged(count);

    protected override void OnFailed(Exception exception) => LogPurgeFailed(exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} expired checkout idempotency keys")]
    private partial void LogPurged(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting expired checkout idempotency keys failed; the next run tries again")]
    private partial void LogPurgeFailed(Exception exception);
}
