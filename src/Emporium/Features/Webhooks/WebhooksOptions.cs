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
    public int MaxConcurrencyPerSubscription { get; set; } = 4;

    /// <summary>Deliveries in flight at once, per worker process.</summary>
    [Range(1, 1000)]
    public int MaxConcurrency { get; set; } = 64;

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

        if (RetrySchedule.Any(delay => delay < TimeSpan.Zero))
        {
            yield return new ValidationResult("Webhooks:RetrySchedule must not contain negative delays.", [nameof(RetrySchedule)]);
        }

        if (DisableAfter <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Webhooks:DisableAfter must be positive.", [nameof(DisableAfter)]);
        }

        if (SecretOverlap < TimeSpan.Zero)
        {
            yield return new ValidationResult("Webhooks:SecretOverlap must not be negative.", [nameof(SecretOverlap)]);
        }
    }
}
