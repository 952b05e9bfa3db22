using Emporium.Features.Events;

namespace Emporium.Features.Webhooks;

/// <summary>
/// /api/webhooks: subscriptions (CRUD), secret rotation and the test ping. Every staff member and admin sees and manages
/// every subscription: they are an integration of the shop, not something one person owns (created_by_id says who made it).
/// </summary>
public static partial class WebhookEndpoints
{
    private const string What = "Webhook subscription";

    public static IEndpointRouteBuilder MapWebhookSubscriptions(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/api/webhooks").WithTags("Webhooks").RequireAuthorization(Policies.Staff);

        webhooks.MapGet("", ListWebhooks)
            .Documented("List webhook subscriptions", "Every subscription (all staff see all), oldest first; filter by is_active. Secrets are never listed. Staff or admin.");
        webhooks.MapGet("/{id:long}", GetWebhook)
            .ProducesETag()
            .Documented("Get a webhook subscription", "With an ETag for If-Match. The secret is never shown again after creation (rotate it if it is lost).", 404);
        webhooks.MapPost("", CreateWebhook)
            .ProducesETag()
            .Documented("Subscribe a URL to events", "Validates the URL (https, or http where Webhooks:AllowHttp) and resolves its host: every address must be allowed "
                + "(no loopback, private, link-local, metadata ... unless Webhooks:AllowPrivateNetworks), otherwise 400. Answers 201 with "
                + "`secret` (whsec_...), shown this once.");
        webhooks.MapPut("/{id:long}", ReplaceWebhook)
            .Documented("Replace a webhook subscription", "Every field is replaced (absent is_active means true). Turning a subscription on again clears disabled_reason "
                + "and failing_since; a new URL is checked like on create. Honours If-Match.", 404, 412);
        webhooks.MapPatch("/{id:long}", PatchWebhook)
            .AcceptsMergePatch<WebhookRequest>()
            .Documented("Change some fields of a webhook subscription", "JSON merge patch of url, event_types, description (null clears it) and is_active. Honours If-Match.", 404, 412);
        webhooks.MapDelete("/{id:long}", DeleteWebhook)
            .Documented("Delete a webhook subscription", "Deletes it for good; deliveries still pending for it are dropped. To pause deliveries and keep the "
                + "subscription, set is_active to false instead. Honours If-Match.", 404, 412);
        webhooks.MapPost("/{id:long}/rotate_secret", RotateWebhookSecret)
            .Documented("Rotate a subscription's signing secret", "Answers with the new secret (shown this once). The current secret keeps signing too, as a second signature, for "
                + "overlap_seconds (default and maximum Webhooks:SecretOverlap), so receivers can switch without losing a message. "
                + "Honours If-Match.", 404, 412);
        webhooks.MapPost("/{id:long}/test", TestWebhook)
            .RequireRateLimiting(WebhooksFeature.TestRateLimitPolicy)
            .Documented("Send a signed ping now", "POSTs {id, type: \"ping\", timestamp, data: {webhook_id}} with a fresh webhook-id, signed like every delivery, "
                + "and answers 200 with what happened: the receiver's status code, duration and the first 4 KB of its response, or the "
                + "error (timeout, connection refused, blocked address). Works for inactive subscriptions too; it is not logged as a delivery. "
                + "At most Webhooks:TestPermitLimit (10) per user per Webhooks:TestWindow (1 min); 429 with Retry-After beyond.", 404, 429);
        return app;
    }

    public static Task<Results<Ok<Paged<WebhookResponse>>, ValidationProblem>> ListWebhooks(
        [AsParameters] WebhookListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var subscriptions = scope.Db.Set<WebhookSubscription>().AsNoTracking().WhereIf(query.IsActive is not null, s => s.IsActive == query.IsActive);
        var now = scope.UtcNow;
        return pager.ListAsync(subscriptions, paging, new ValidationErrors(), s => s.OrderBy(x => x.Id), s => WebhookResponse.From(s, now), scope);
    }

    public static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> GetWebhook(long id, [AsParameters] RequestScope scope)
    {
        var subscription = await scope.Db.Set<WebhookSubscription>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, scope.Aborted);
        if (subscription is null)
        {
            return Problems.NotFound(What);
        }

        ETags.Set(scope.Http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Ok(WebhookResponse.From(subscription, scope.UtcNow));
    }

    public static async Task<Results<Created<WebhookCreatedResponse>, ValidationProblem>> CreateWebhook(
        WebhookRequest request,
        EmporiumDbContext db,
        WebhookRules rules,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var url = rules.Url(request.Url, errors);
        var eventTypes = WebhookRules.EventTypes(request.EventTypes, errors);
        var description = WebhookRules.Description(request.Description, errors);
        if (url is not null && errors.IsEmpty)
        {
            await rules.CheckAddressAsync(url, errors, cancellationToken);
        }

        if (url is null || eventTypes is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var subscription = new WebhookSubscription
        {
            Url = url.OriginalString.Trim(),
            EventTypes = eventTypes,
            Description = description,
            IsActive = request.IsActive ?? true,
            Secret = WebhookSignature.NewSecret(),
            CreatedById = http.User.UserId(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);

        ETags.Set(http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Created(
            $"/api/webhooks/{subscription.Id}",
            new WebhookCreatedResponse(
                subscription.Id,
                subscription.Url,
                subscription.Description,
                WebhookRules.EventTypeList(subscription.EventTypes),
                subscription.IsActive,
                subscription.CreatedAt,
                subscription.Secret));
    }

    public static Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> ReplaceWebhook(
        long id, WebhookRequest request, WebhookRules rules, [AsParameters] RequestScope scope) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => UpdateAsync(scope, rules, id, (_, _) => request));

    public static Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> PatchWebhook(
        long id, JsonElement patch, WebhookRules rules, [AsParameters] RequestScope scope) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => UpdateAsync(
            scope,
            rules,
            id,
            (subscription, errors) => MergePatch.Apply(
                new WebhookRequest
                {
                    Url = subscription.Url,
                    EventTypes = WebhookRules.EventTypeList(subscription.EventTypes),
                    Description = subscription.Description,
                    IsActive = subscription.IsActive,
                },
                patch,
                errors,
                "url",
                "event_types",
                "is_active")));

    // A worker raises the version when it disables the subscription (410 Gone, failing too long): a write without If-Match
    // runs again rather than answering 412 to a client that asked for no precondition.
    public static Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(long id, [AsParameters] RequestScope scope) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => DeleteOnceAsync(id, scope));

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteOnceAsync(long id, RequestScope scope)
    {
        var (db, _, http, cancellationToken) = scope;
        var target = await VersionedRows.FindForWriteAsync(db.Set<WebhookSubscription>().AsNoTracking(), s => s.Id == id, What, http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var subscription = target.Row;

        // Guarded by the version read above, so a change made in between is reported instead of deleted unseen.
        var deleted = await db.Set<WebhookSubscription>()
            .Where(s => s.Id == subscription.Id && s.Version == subscription.Version)
            .ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? Problems.PreconditionFailed() : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<RotateSecretResponse>, ValidationProblem, ProblemHttpResult>> RotateWebhookSecret(
        long id,
        [FromBody] RotateSecretRequest? request,
        EmporiumDbContext db,
        IOptions<WebhooksOptions> options,
        TimeProvider clock,
        ILoggerFactory loggers,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var maximum = options.Value.SecretOverlap;
        var overlap = maximum;
        if (request?.OverlapSeconds is { } seconds)
        {
            if (seconds < 0 || seconds > maximum.TotalSeconds)
            {
                return Problems.Validation("overlap_seconds", $"overlap_seconds must be between 0 and {(long)maximum.TotalSeconds} (Webhooks:SecretOverlap).");
            }

            overlap = TimeSpan.FromSeconds(seconds);
        }

        return await VersionedRows.UnlessStaleAsync(http.Request, db, () => RotateOnceAsync(id, overlap, db, clock, loggers, http, cancellationToken));
    }

    private static async Task<Results<Ok<RotateSecretResponse>, ValidationProblem, ProblemHttpResult>> RotateOnceAsync(
        long id, TimeSpan overlap, EmporiumDbContext db, TimeProvider clock, ILoggerFactory loggers, HttpContext http, CancellationToken cancellationToken)
    {
        var target = await VersionedRows.FindForWriteAsync(db.Set<WebhookSubscription>(), s => s.Id == id, What, http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        // One previous secret at most: rotating again during an overlap retires the older one at once (as Svix does).
        var subscription = target.Row;
        var now = clock.GetUtcNow().UtcDateTime;
        subscription.PreviousSecret = overlap > TimeSpan.Zero ? subscription.Secret : null;
        subscription.PreviousSecretExpiresAt = overlap > TimeSpan.Zero ? now + overlap : null;
        subscription.Secret = WebhookSignature.NewSecret();
        subscription.UpdatedAt = now;
        subscription.Version++;
        if (await VersionedRows.SaveAsync(db, cancellationToken) is { } problem)
        {
            return problem;
        }

        LogRotated(loggers.CreateLogger(typeof(WebhookEndpoints)), subscription.Id, overlap);
        ETags.Set(http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Ok(new RotateSecretResponse(subscription.Secret, subscription.PreviousSecretExpiresAt));
    }

    public static async Task<Results<Ok<WebhookTestResponse>, ProblemHttpResult>> TestWebhook(
        long id,
        EmporiumDbContext db,
        WebhookSender sender,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        TimeProvider clock,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var subscription = await db.Set<WebhookSubscription>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (subscription is null)
        {
            return Problems.NotFound(What);
        }

        var now = clock.GetUtcNow();
        var messageId = EventOutbox.NewEventId();
        var body = JsonSerializer.Serialize(
            new PingEnvelope(messageId, EventTypes.Ping, now.UtcDateTime, new PingData(subscription.Id)),
            json.Value.SerializerOptions);
        var result = await sender.SendAsync(
            new Uri(subscription.Url), new WebhookMessage(messageId, now, body), subscription.SigningSecrets(now.UtcDateTime), cancellationToken);

        var failure = WebhookFailures.Name(result.Failure);
        LogTested(loggers.CreateLogger(typeof(WebhookEndpoints)), subscription.Id, result.StatusCode, result.Error ?? "ok");
        return TypedResults.Ok(new WebhookTestResponse(
            messageId,
            result.Succeeded,
            result.StatusCode,
            (long)result.Duration.TotalMilliseconds,
            result.ResponseBody,
            failure,
            result.Error));
    }

    private sealed record PingEnvelope(string Id, string Type, DateTime Timestamp, PingData Data);

    private sealed record PingData(long WebhookId);

    /// <summary>PUT and PATCH: the subscription If-Match allows, given the body <paramref name="build"/> makes of it, checked as on create.</summary>
    private static async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        RequestScope scope, WebhookRules rules, long id, Func<WebhookSubscription, ValidationErrors, WebhookRequest> build)
    {
        var (db, clock, http, cancellationToken) = scope;
        var target = await VersionedRows.FindForWriteAsync(db.Set<WebhookSubscription>(), s => s.Id == id, What, http.Request, cancellationToken);
        if (!target.Found)
        {
            return target.Problem;
        }

        var subscription = target.Row;
        var errors = new ValidationErrors();
        var request = build(subscription, errors);
        var url = errors.IsEmpty ? rules.Url(request.Url, errors, subscription.Url) : null;
        var eventTypes = errors.IsEmpty ? WebhookRules.EventTypes(request.EventTypes, errors) : null;
        var description = errors.IsEmpty ? WebhookRules.Description(request.Description, errors) : null;
        if (url is null || eventTypes is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var newUrl = url.OriginalString.Trim() != subscription.Url ? url : null;
        if (newUrl is not null)
        {
            // Only a new URL is resolved again: the address check also runs at every connection, and an unchanged URL
            // must stay editable (e.g. switched off) even if its host stopped resolving.
            await rules.CheckAddressAsync(newUrl, errors, cancellationToken);
            if (!errors.IsEmpty)
            {
                return errors.ToProblem();
            }

            subscription.Url = newUrl.OriginalString.Trim();
            subscription.FailingSince = null;   // a new receiver starts with a clean record
        }

        subscription.EventTypes = eventTypes;
        subscription.Description = description;
        if ((request.IsActive ?? true) is var active && active != subscription.IsActive)
        {
            subscription.IsActive = active;
            // Switched on again: whatever disabled it is considered dealt with. Switched off by a person: no automatic reason.
            subscription.DisabledReason = null;
            if (active)
            {
                subscription.FailingSince = null;
            }
        }

        var now = clock.GetUtcNow().UtcDateTime;
        subscription.UpdatedAt = now;
        subscription.Version++;
        if (await VersionedRows.SaveAsync(db, cancellationToken) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Ok(WebhookResponse.From(subscription, now));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {SubscriptionId}: signing secret rotated; the previous one signs for {Overlap} more")]
    private static partial void LogRotated(ILogger logger, long subscriptionId, TimeSpan overlap);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {SubscriptionId}: test ping answered {StatusCode} ({Outcome})")]
    private static partial void LogTested(ILogger logger, long subscriptionId, int? statusCode, string outcome);
}
