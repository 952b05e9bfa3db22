namespace Emporium.Features.Webhooks;

/// <summary>A delivery as claimed by one worker: everything needed to send attempt <see cref="Attempt"/>.</summary>
public sealed record ClaimedDelivery(
    long Id,
    int Attempt,
    long SubscriptionId,
    string Url,
    string Secret,
    string? PreviousSecret,
    DateTime? PreviousSecretExpiresAt,
    string EventId,
    string EventType,
    DateTime OccurredAt,
    string Data,
    string? TraceParent = null);

/// <summary>What one attempt came to and what the delivery does next.</summary>
public sealed record DeliveryOutcome(
    long DeliveryId,
    int Attempt,
    long SubscriptionId,
    WebhookAttemptResult Result,
    DateTime FinishedAt,
    WebhookDeliveryStatus Next,
    DateTime NextAttemptAt,
    string? Error,
    bool Interrupted = false)
{
    /// <summary>410 Gone: the receiver says the endpoint is gone for good.</summary>
    public bool Gone => Result.StatusCode == 410;
}

/// <summary>Names the dispatcher and the store share.</summary>
public static class WebhookDeliveries
{
    /// <summary>Why a subscription whose receiver answered 410 Gone was disabled.</summary>
    public const string Disabled410 = "receiver answered 410 Gone";
}

/// <summary>
/// The dispatcher's writes to the deliveries (implemented per database by the infrastructure): fan-out, batch claim,
/// batched outcome writes, each after the claim guarded by the lease, so a worker that lost its lease changes nothing.
/// </summary>
public interface IWebhookDeliveryStore
{
    Task<int> FanOutAsync(int batch, DateTime now, CancellationToken cancellationToken);

    Task<int> SkipInactiveAsync(DateTime now, CancellationToken cancellationToken);

    Task<List<ClaimedDelivery>> ClaimAsync(
        string owner, DateTime now, TimeSpan lease, int perSubscription, IReadOnlyDictionary<long, int> busy, int max, CancellationToken cancellationToken);

    Task RecordAsync(string owner, IReadOnlyList<DeliveryOutcome> outcomes, DateTime now, TimeSpan disableAfter, CancellationToken cancellationToken);
}
