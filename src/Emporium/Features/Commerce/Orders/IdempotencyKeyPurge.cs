using Emporium.Platform.Workers;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Deletes checkout Idempotency-Keys past their expiry (Commerce:IdempotencyKeyLifetime), every
/// Commerce:IdempotencyKeyPurgeInterval, in worker processes. An expired key is never replayed whatever its row says (a
/// request that finds one deletes it and runs anew), so the rows only cost space. Several workers purging at once is harmless.
/// </summary>
internal sealed class IdempotencyKeyPurge(
    IServiceScopeFactory scopes,
    IOptions<CommerceOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<IdempotencyKeyPurge> logger) : PeriodicSweep(emporium, clock, logger, "expired checkout idempotency keys")
{
    protected override TimeSpan Interval => options.Value.IdempotencyKeyPurgeInterval;

    public override Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        return DeleteInChunksAsync<IdempotencyKey>(scopes, k => k.ExpiresAt <= now, cancellationToken);
    }
}
