using Emporium.Features.Events;
using Emporium.Platform.OpenApi;

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
        var webhooks = app.MapGroup("/api/webhooks")
            .WithTags("Webhooks")
            .RequireAuthorization(Policies.Staff);

        webhooks.MapGet("", ListWebhooks)
            .WithSummary("List webhook subscriptions")
            .WithDescription("Every subscription (all staff see all), oldest first; filter by is_active. Secrets are never listed. Staff or admin.");
        webhooks.MapGet("/{id:long}", GetWebhook)
            .ProducesETag()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Get a webhook subscription")
            .WithDescription("With an ETag for If-Match. The secret is never shown again after creation (rotate it if it is lost).");
        webhooks.MapPost("", CreateWebhook)
            .ProducesETag()
            .WithSummary("Subscribe a URL to events")
            .WithDescription("Validates the URL (https, or http where Webhooks:AllowHttp) and resolves its host: every address must be allowed "
                + "(no loopback, private, link-local, metadata ... unless Webhooks:AllowPrivateNetworks), otherwise 400. Answers 201 with "
                + "`secret` (whsec_...), shown this once.");
        webhooks.MapPut("/{id:long}", ReplaceWebhook)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Replace a webhook subscription")
            .WithDescription("Every field is replaced (absent is_active means true). Turning a subscription on again clears disabled_reason "
                + "and failing_since; a new URL is checked like on create. Honours If-Match.");
        webhooks.MapPatch("/{id:long}", PatchWebhook)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .AcceptsMergePatch<WebhookRequest>()
            .WithSummary("Change some fields of a webhook subscription")
            .WithDescription("JSON merge patch of url, event_types, description (null clears it) and is_active. Honours If-Match.");
        webhooks.MapDelete("/{id:long}", DeleteWebhook)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Delete a webhook subscription")
            .WithDescription("Deletes it for good; deliveries still pending for it are dropped. To pause deliveries and keep the "
                + "subscription, set is_active to false instead. Honours If-Match.");
        webhooks.MapPost("/{id:long}/rotate_secret", RotateWebhookSecret)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Rotate a subscription's signing secret")
            .WithDescription("Answers with the new secret (shown this once). The current secret keeps signing too, as a second signature, for "
                + "overlap_seconds (default and maximum Webhooks:SecretOverlap), so receivers can switch without losing a message. "
                + "Honours If-Match.");
        webhooks.MapPost("/{id:long}/test", TestWebhook)
            .RequireRateLimiting(WebhooksFeature.TestRateLimitPolicy)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Send a signed ping now")
            .WithDescription("POSTs {id, type: \"ping\", timestamp, data: {webhook_id}} with a fresh webhook-id, signed like every delivery, "
                + "and answers 200 with what happened: the receiver's status code, duration and the first 4 KB of its response, or the "
                + "error (timeout, connection refused, blocked address). Works for inactive subscriptions too; it is not logged as a delivery. "
                + "At most Webhooks:TestPermitLimit (10) per user per Webhooks:TestWindow (1 min); 429 with Retry-After beyond.");
        return app;
    }

    public static async Task<Results<Ok<Paged<WebhookResponse>>, ValidationProblem>> ListWebhooks(
        [AsParameters] WebhookListQuery query,
        EmporiumDbContext db,
        PagingOptions paging,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = Pager.Resolve(new PageRequest(query.Page, query.PageSize), paging, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var subscriptions = db.Set<WebhookSubscription>().AsNoTracking();
        if (query.IsActive is { } active)
        {
            subscriptions = subscriptions.Where(s => s.IsActive == active);
        }

        var count = await subscriptions.LongCountAsync(cancellationToken);
        var rows = await subscriptions.OrderBy(s => s.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(Pager.Create(http.Request, page, count, rows.ConvertAll(s => WebhookResponse.From(s, now)), paging.MaxPageSize));
    }

    public static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> GetWebhook(
        long id,
        EmporiumDbContext db,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var subscription = await db.Set<WebhookSubscription>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (subscription is null)
        {
            return Problems.NotFound(What);
        }

        ETags.Set(http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Ok(WebhookResponse.From(subscription, clock.GetUtcNow().UtcDateTime));
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

    public static async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> ReplaceWebhook(
        long id,
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
        if (url is null || eventTypes is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var change = new Change(url, eventTypes, true, description, request.IsActive ?? true);
        return await UpdateAsync(db, rules, id, change, clock, http, cancellationToken);
    }

    public static async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> PatchWebhook(
        long id,
        JsonElement patch,
        EmporiumDbContext db,
        WebhookRules rules,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return Problems.Validation("body", "The body must be a JSON object (merge patch).");
        }

        var errors = new ValidationErrors();
        var change = new Change(null, null, false, null, null);
        if (patch.TryGetProperty("url", out var url))
        {
            change = change with { Url = rules.Url(url.ValueKind == JsonValueKind.String ? url.GetString() : null, errors) };
        }

        if (patch.TryGetProperty("event_types", out var types))
        {
            var list = types.ValueKind == JsonValueKind.Array
                ? types.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetRawText()).ToList()
                : null;
            change = change with { EventTypes = WebhookRules.EventTypes(list, errors) };
        }

        if (patch.TryGetProperty("description", out var description))
        {
            if (description.ValueKind is JsonValueKind.String or JsonValueKind.Null)
            {
                change = change with { SetDescription = true, Description = WebhookRules.Description(description.GetString(), errors) };
            }
            else
            {
                errors.Add("description", "description must be a string or null.");
            }
        }

        if (patch.TryGetProperty("is_active", out var active))
        {
            if (active.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                change = change with { IsActive = active.GetBoolean() };
            }
            else
            {
                errors.Add("is_active", "is_active must be true or false.");
            }
        }

        return errors.IsEmpty ? await UpdateAsync(db, rules, id, change, clock, http, cancellationToken) : errors.ToProblem();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(
        long id,
        EmporiumDbContext db,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await FindForWriteAsync(db.Set<WebhookSubscription>().AsNoTracking(), id, http.Request, cancellationToken);
        if (target.Subscription is not { } subscription)
        {
            return target.Problem!;
        }

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

        var target = await FindForWriteAsync(db.Set<WebhookSubscription>(), id, http.Request, cancellationToken);
        if (target.Subscription is not { } subscription)
        {
            return target.Problem!;
        }

        // One previous secret at most: rotating again during an overlap retires the older one at once (as Svix does).
        var now = clock.GetUtcNow().UtcDateTime;
        subscription.PreviousSecret = overlap > TimeSpan.Zero ? subscription.Secret : null;
        subscription.PreviousSecretExpiresAt = overlap > TimeSpan.Zero ? now + overlap : null;
        subscription.Secret = WebhookSignature.NewSecret();
        subscription.UpdatedAt = now;
        subscription.Version++;
        if (await SaveAsync(db, cancellationToken) is { } problem)
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

    /// <summary>A write's new values; null leaves a field as it is (merge patch), <see cref="SetDescription"/> says whether description is given.</summary>
    private sealed record Change(Uri? Url, string? EventTypes, bool SetDescription, string? Description, bool? IsActive);

    private sealed record PingEnvelope(string Id, string Type, DateTime Timestamp, PingData Data);

    private sealed record PingData(long WebhookId);

    private sealed record WriteTarget(WebhookSubscription? Subscription, ProblemHttpResult? Problem);

    private static async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        EmporiumDbContext db,
        WebhookRules rules,
        long id,
        Change change,
        TimeProvider clock,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var target = await FindForWriteAsync(db.Set<WebhookSubscription>(), id, http.Request, cancellationToken);
        if (target.Subscription is not { } subscription)
        {
            return target.Problem!;
        }

        var newUrl = change.Url is { } url && url.OriginalString.Trim() != subscription.Url ? url : null;
        if (newUrl is not null)
        {
            // Only a new URL is resolved again: the address check also runs at every connection, and an unchanged URL
            // must stay editable (e.g. switched off) even if its host stopped resolving.
            var errors = new ValidationErrors();
            await rules.CheckAddressAsync(newUrl, errors, cancellationToken);
            if (!errors.IsEmpty)
            {
                return errors.ToProblem();
            }

            subscription.Url = newUrl.OriginalString.Trim();
            subscription.FailingSince = null;   // a new receiver starts with a clean record
        }

        subscription.EventTypes = change.EventTypes ?? subscription.EventTypes;
        if (change.SetDescription)
        {
            subscription.Description = change.Description;
        }

        if (change.IsActive is { } active && active != subscription.IsActive)
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
        if (await SaveAsync(db, cancellationToken) is { } problem)
        {
            return problem;
        }

        ETags.Set(http.Response, ETags.For(subscription.Id, subscription.Version));
        return TypedResults.Ok(WebhookResponse.From(subscription, now));
    }

    /// <summary>The subscription to change, or the problem that stops the write: 404, or 412 when If-Match names another version.</summary>
    private static async Task<WriteTarget> FindForWriteAsync(
        IQueryable<WebhookSubscription> subscriptions, long id, HttpRequest request, CancellationToken cancellationToken)
    {
        var subscription = await subscriptions.FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (subscription is null)
        {
            return new WriteTarget(null, Problems.NotFound(What));
        }

        return ETags.IfMatchSatisfied(request, ETags.For(subscription.Id, subscription.Version))
            ? new WriteTarget(subscription, null)
            : new WriteTarget(null, Problems.PreconditionFailed());
    }

    private static async Task<ProblemHttpResult?> SaveAsync(EmporiumDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.PreconditionFailed();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {SubscriptionId}: signing secret rotated; the previous one signs for {Overlap} more")]
    private static partial void LogRotated(ILogger logger, long subscriptionId, TimeSpan overlap);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {SubscriptionId}: test ping answered {StatusCode} ({Outcome})")]
    private static partial void LogTested(ILogger logger, long subscriptionId, int? statusCode, string outcome);
}
