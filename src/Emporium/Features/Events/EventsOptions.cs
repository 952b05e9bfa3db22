using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Events;

/// <summary>How long events are kept (section Events).</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>
    /// How long an event (GET /api/events, webhooks' bodies) and a webhook delivery that ended (succeeded or failed, with its
    /// attempts) are kept; then workers delete them, every <see cref="RetentionSweepInterval"/>. An event whose delivery is
    /// still waiting or in flight, or that was never handed to webhooks, stays.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan RetainFor { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);
}
