using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Webhooks;

/// <summary>Webhook delivery settings (section Webhooks). Every schedule and window is configurable so tests run in seconds.</summary>
public sealed class WebhooksOptions : IValidatableObject
{
    public const string Section = "Webhooks";

    /// <summary>Allows receivers on loopback, private, link-local and unique-local addresses (development and tests only).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Allows http:// receiver URLs; https is always allowed.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>A delivery that has no complete response within this time failed (timeout).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delays before the 2nd, 3rd, ... attempt; one attempt more than entries. Each gets up to ±20 % jitter.</summary>
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    /// <summary>A subscription whose deliveries have failed without a success for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>After a secret rotation, the previous secret keeps signing (a second signature) for this long.</summary>
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Deliveries in flight to one subscription at once, per worker process.</summary>
    [Range(1, 100)]
    public int MaxConcurrencyPerSubscription { get; set; } = 8;

    /// <summary>Deliveries in flight at once, per worker process.</summary>
    [Range(1, 1000)]
    public int MaxConcurrency { get; set; } = 128;

    /// <summary>How long a claimed delivery stays with its worker; a worker that dies mid-send loses it after this and another sends again.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an idle worker looks for new events, due retries and expired leases.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest Retry-After (429/503) honoured; a receiver asking for more is retried after this.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Test pings (POST /api/webhooks/{id}/test) one user may send per <see cref="TestWindow"/>; 429 beyond.</summary>
    [Range(1, 10_000)]
    public int TestPermitLimit { get; set; } = 10;

    /// <summary>The window of <see cref="TestPermitLimit"/>.</summary>
    public TimeSpan TestWindow { get; set; } = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan[] DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>The configured schedule, or the default (Standard Webhooks' / Svix's) when none is set.</summary>
    public IReadOnlyList<TimeSpan> Schedule => RetrySchedule.Count > 0 ? RetrySchedule : DefaultRetrySchedule;

    /// <summary>The largest part of a receiver's response body kept in the delivery log.</summary>
    public const int ResponseBodyLimit = 4096;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Webhooks:Timeout must be between 00:00:00.001 and 00:05:00.", [nameof(Timeout)]);
        }

        // An attempt answered just before its timeout must still be recorded under its lease, or another worker sends it again.
        if (LeaseDuration < Timeout * 2 || LeaseDuration > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Webhooks:LeaseDuration must be at least twice Webhooks:Timeout and at most 01:00:00.", [nameof(LeaseDuration)]);
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Webhooks:PollInterval must be between 00:00:00.01 and 00:10:00.", [nameof(PollInterval)]);
        }

        if (TestWindow <= TimeSpan.Zero || TestWindow > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult("Webhooks:TestWindow must be between 00:00:00.001 and 1.00:00:00.", [nameof(TestWindow)]);
        }

        if (MaxRetryAfter < TimeSpan.Zero || MaxRetryAfter > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult("Webhooks:MaxRetryAfter must be between 00:00:00 and 1.00:00:00.", [nameof(MaxRetryAfter)]);
        }

        if (RetrySchedule.Any(delay => delay < TimeSpan.Zero || delay > TimeSpan.FromDays(7)))
        {
            yield return new ValidationResult("Webhooks:RetrySchedule delays must be between 00:00:00 and 7.00:00:00.", [nameof(RetrySchedule)]);
        }

        if (DisableAfter <= TimeSpan.Zero || DisableAfter > TimeSpan.FromDays(365))
        {
            yield return new ValidationResult("Webhooks:DisableAfter must be between 00:00:00.001 and 365.00:00:00.", [nameof(DisableAfter)]);
        }

        if (SecretOverlap < TimeSpan.Zero || SecretOverlap > TimeSpan.FromDays(30))
        {
            yield return new ValidationResult("Webhooks:SecretOverlap must be between 00:00:00 and 30.00:00:00.", [nameof(SecretOverlap)]);
        }
    }
}
