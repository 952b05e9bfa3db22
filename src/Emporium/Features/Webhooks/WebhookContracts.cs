using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Webhooks;

/// <summary>Body of POST and PUT /api/webhooks. PUT replaces every field: an absent optional field gets its default.</summary>
public sealed record WebhookRequest
{
    [Required]
    [Description("Where events are POSTed: an absolute https URL (http only where Webhooks:AllowHttp), no user:password@, at most 2048 characters. "
        + "The host must resolve, and every address it resolves to must be allowed (no loopback, private, link-local or metadata addresses).")]
    public string? Url { get; init; }

    [Required]
    [Description("Event types to receive (see GET /api/events/types), or [\"*\"] for every type, including types added later.")]
    public IReadOnlyList<string?>? EventTypes { get; init; }

    [Description("Free text for people, at most 500 characters.")]
    public string? Description { get; init; }

    [Description("Default true. Setting it true again clears disabled_reason and failing_since.")]
    public bool? IsActive { get; init; }
}

/// <summary>A subscription as clients see it: never its secrets.</summary>
public sealed record WebhookResponse(
    long Id,
    string Url,
    string? Description,
    IReadOnlyList<string> EventTypes,
    bool IsActive,
    [property: Description("Why Emporium disabled the subscription (410 Gone, failing for Webhooks:DisableAfter); null when active or switched off by a user.")]
    string? DisabledReason,
    [property: Description("The first failed delivery since the last success; the subscription is disabled Webhooks:DisableAfter after it.")]
    DateTime? FailingSince,
    [property: Description("While set (and in the future), deliveries carry a second signature made with the secret before the last rotation.")]
    DateTime? PreviousSecretExpiresAt,
    long? CreatedById,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    internal static WebhookResponse From(WebhookSubscription s, DateTime now) => new(
        s.Id,
        s.Url,
        s.Description,
        WebhookRules.EventTypeList(s.EventTypes),
        s.IsActive,
        s.DisabledReason,
        s.FailingSince,
        s.PreviousSecret is not null && s.PreviousSecretExpiresAt > now ? s.PreviousSecretExpiresAt : null,
        s.CreatedById,
        s.CreatedAt,
        s.UpdatedAt);
}

/// <summary>The answer to POST /api/webhooks: the subscription plus its signing secret, which is never shown again.</summary>
public sealed record WebhookCreatedResponse(
    long Id,
    string Url,
    string? Description,
    IReadOnlyList<string> EventTypes,
    bool IsActive,
    DateTime CreatedAt,
    [property: Description("whsec_ + base64 key (Standard Webhooks). Shown in this response only: store it now; rotate it if it is lost.")]
    string Secret);

public sealed record RotateSecretRequest
{
    [Description("How long the current secret keeps signing next to the new one, 0 to Webhooks:SecretOverlap seconds (default: Webhooks:SecretOverlap).")]
    public long? OverlapSeconds { get; init; }
}

public sealed record RotateSecretResponse(
    [property: Description("The new whsec_ secret. Shown in this response only.")] string Secret,
    [property: Description("Until then deliveries are signed with the new and the previous secret; null when the previous stopped at once.")]
    DateTime? PreviousSecretExpiresAt);

/// <summary>What a test ping came to. Failures of the receiver are reported here, not as an error status.</summary>
public sealed record WebhookTestResponse(
    [property: Description("The webhook-id of the ping (fresh for every test).")] string WebhookId,
    bool Succeeded,
    [property: Description("The receiver's HTTP status; null when there was no answer (timeout, refused, blocked address).")] int? StatusCode,
    long DurationMs,
    [property: Description("The first 4 KB of the receiver's response body.")] string? ResponseBody,
    [property: Description("status, timeout, connection, blocked_address or blocked_scheme; null on success.")] string? Failure,
    [property: Description("What went wrong, e.g. \"HTTP 500\", \"timeout: ...\", \"connection refused\", \"blocked address: ...\".")] string? Error);

public sealed record WebhookListQuery(
    [property: Description("Only active (true) or inactive (false) subscriptions.")]
    [FromQuery(Name = "is_active")] bool? IsActive);
