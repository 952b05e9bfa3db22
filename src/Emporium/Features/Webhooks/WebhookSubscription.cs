using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Webhooks;

/// <summary>A receiver of events: where to POST them, which types, and the secrets that sign them.</summary>
public sealed class WebhookSubscription : IVersioned
{
    public long Id { get; set; }

    public string Url { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>Event types received, space-separated, or "*" for all (a short list; kept in one column on purpose).</summary>
    public string EventTypes { get; set; } = "*";

    /// <summary>False when switched off by a user, by a 410 Gone, or after failing for Webhooks:DisableAfter.</summary>
    public bool IsActive { get; set; } = true;

    /// <summary>Why the subscription was disabled automatically (null when a user did it or it is active).</summary>
    public string? DisabledReason { get; set; }

    /// <summary>"whsec_" + base64 of 32 random bytes (Standard Webhooks form).</summary>
    public string Secret { get; set; } = "";

    /// <summary>The secret before the last rotation; it signs too until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousSecret { get; set; }

    public DateTime? PreviousSecretExpiresAt { get; set; }

    /// <summary>The first failure since the last success: auto-disable measures Webhooks:DisableAfter from here.</summary>
    public DateTime? FailingSince { get; set; }

    public long? CreatedById { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Concurrency token and ETag source.</summary>
    public int Version { get; set; } = 1;

    public bool Receives(string eventType) =>
        EventTypes == "*" || EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(eventType, StringComparer.Ordinal);

    /// <summary>The secrets that sign a message sent at <paramref name="now"/>: the current one, plus the previous during the overlap.</summary>
    public IReadOnlyList<string> SigningSecrets(DateTime now) =>
        PreviousSecret is not null && PreviousSecretExpiresAt > now ? [Secret, PreviousSecret] : [Secret];
}

internal sealed class WebhookSubscriptionConfiguration : IEntityTypeConfiguration<WebhookSubscription>
{
    public const int UrlLength = 2048;
    public const int DescriptionLength = 500;
    public const int EventTypesLength = 2000;
    public const int SecretLength = 100;

    public void Configure(EntityTypeBuilder<WebhookSubscription> builder)
    {
        builder.ToTable("webhook_subscriptions");
        builder.Property(s => s.Url).HasMaxLength(UrlLength);
        builder.Property(s => s.Description).HasMaxLength(DescriptionLength);
        builder.Property(s => s.EventTypes).HasMaxLength(EventTypesLength);
        builder.Property(s => s.DisabledReason).HasMaxLength(DescriptionLength);
        builder.Property(s => s.Secret).HasMaxLength(SecretLength);
        builder.Property(s => s.PreviousSecret).HasMaxLength(SecretLength);
        builder.Property(s => s.Version).IsConcurrencyToken();
    }
}
