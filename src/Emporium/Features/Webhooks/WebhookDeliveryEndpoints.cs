using System.ComponentModel.DataAnnotations;
using Emporium.Features.Events;

namespace Emporium.Features.Webhooks;

public sealed record WebhookAttemptResponse(
    [property: Description("att_{delivery}_{number}: the emporium-attempt-id header of this attempt; never sent twice.")] string Id,
    [property: Description("1 for the first attempt, then 2, 3, ...")] int Number,
    DateTime StartedAt,
    [property: Description("Null while in flight, or when the worker stopped before the answer was recorded (failure interrupted).")] DateTime? FinishedAt,
    [property: Description("The receiver's HTTP status, when it answered.")] int? StatusCode,
    [property: Description("Null on success; otherwise status, timeout, connection, blocked_address, blocked_scheme or interrupted.")] string? Failure,
    [property: Description("What went wrong, e.g. \"HTTP 500\", \"timeout: ...\", \"connection refused\", \"blocked address: ...\".")] string? Error,
    int? DurationMs,
    [property: Description("The first 4 KB of the receiver's response body.")] string? ResponseBody)
{
    public static WebhookAttemptResponse From(WebhookAttempt a) => new(
        WebhookDelivery.AttemptIdOf(a.DeliveryId, a.Number), a.Number, a.StartedAt, a.FinishedAt, a.StatusCode, a.Failure, a.Error, a.DurationMs, a.ResponseBody);
}

public sealed record WebhookDeliveryResponse(
    long Id,
    long SubscriptionId,
    [property: Description("The event's id: the webhook-id header of every attempt.")] string EventId,
    string EventType,
    [property: Description("PENDING (waiting for an attempt), SENDING (in flight), SUCCEEDED, or FAILED (gave up after the retry "
        + "schedule, or not sent because the subscription is disabled: last_error says which).")] string Status,
    [property: Description("Attempts started so far.")] int AttemptCount,
    [property: Description("When PENDING: the next attempt is not made before this.")] DateTime? NextAttemptAt,
    int? LastStatusCode,
    string? LastError,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? SucceededAt,
    [property: Description("Every attempt, oldest first.")] IReadOnlyList<WebhookAttemptResponse> Attempts)
{
    public static WebhookDeliveryResponse From(WebhookDelivery d, IEnumerable<WebhookAttempt> attempts) => new(
        d.Id, d.SubscriptionId, d.Event?.EventId ?? "", d.Event?.Type ?? "", d.Status.ToString(), d.Attempts,
        d.Status == WebhookDeliveryStatus.PENDING ? d.NextAttemptAt : null, d.LastStatusCode, d.LastError, d.CreatedAt, d.UpdatedAt, d.SucceededAt,
        attempts.OrderBy(a => a.Number).Select(WebhookAttemptResponse.From).ToList());
}

public sealed record WebhookRecoverResponse(
    [property: Description("FAILED deliveries created at or after `since` that were queued to be sent again now.")] int Requeued,
    DateTime Since);

public sealed record WebhookDeliveryListQuery(
    [property: Description("Only deliveries in this status: PENDING, SENDING, SUCCEEDED or FAILED.")]
    [FromQuery(Name = "status")] string? Status,
    [property: Description("Only deliveries of this event type, e.g. product.updated.")]
    [FromQuery(Name = "event_type")] string? EventType);

public sealed record WebhookRecoverQuery(
    [property: Required, Description("ISO 8601 instant, e.g. 2025-01-31T00:00:00Z: FAILED deliveries created at or after it are sent again.")]
    [FromQuery(Name = "since")] string? Since);

/// <summary>The delivery log of a subscription and the two ways to send again: one delivery, or every failure since a time.</summary>
public static class WebhookDeliveryEndpoints
{
    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services)
    {
        services.AddSingleton<WebhookSignals>();
        services.AddSingleton<Events.IEventsWrittenSignal>(provider => provider.GetRequiredService<WebhookSignals>());
        // Registered in every process; it returns at once unless Emporium:Role includes the worker.
        services.AddHostedService<WebhookDispatcher>();
        services.AddSingleton<EventRetention>();
        services.AddHostedService(provider => provider.GetRequiredService<EventRetention>());
        return services;
    }

    public static IEndpointRouteBuilder MapWebhookDeliveries(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/api/webhooks/{id:long}")
            .WithTags("Webhooks")
            .RequireAuthorization(Policies.Staff)
            .ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapGet("/deliveries", ListWebhookDeliveries)
            .Documented("List a subscription's deliveries", "The delivery log, newest first: one delivery per event sent to this subscription, each with every attempt "
                + "(time, status code or error, duration, the first 4 KB of the response, attempt id). Filter by status and event type. "
                + "Staff or admin; 404 when the subscription does not exist.");
        webhooks.MapGet("/deliveries/{delivery_id:long}", GetWebhookDelivery)
            .Documented("Get one delivery", "One delivery of this subscription with all its attempts; 404 when the subscription or the delivery does not exist.");
        webhooks.MapPost("/deliveries/{delivery_id:long}/retry", RetryWebhookDelivery)
            .Documented("Send one delivery again now", "Queues a new attempt of the delivery at once (202), whatever its status: the same webhook-id and body, a new "
                + "attempt id and a fresh signature. If that attempt fails, the delivery follows what is left of the retry schedule. "
                + "409 when an attempt is in flight (SENDING) or the subscription is disabled.", 409);
        webhooks.MapPost("/recover", RecoverWebhookDeliveries)
            .ProducesValidationProblem()
            .Documented("Send every failed delivery since a time again", "Queues every FAILED delivery of this subscription created at or after `since` (ISO 8601) to be sent again now, "
                + "and answers 202 with how many. For a receiver that was down: fix it, re-enable the subscription, then recover. Events written "
                + "while the subscription was disabled were never queued for it, so recover cannot send them: GET /api/events lists them. "
                + "400 when since is missing or not a date; 409 when the subscription is disabled.", 409);
        return app;
    }

    public static async Task<Results<Ok<Paged<WebhookDeliveryResponse>>, ValidationProblem, ProblemHttpResult>> ListWebhookDeliveries(
        long id, [AsParameters] WebhookDeliveryListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var (db, _, http, cancellationToken) = scope;
        var errors = new ValidationErrors();
        var page = pager.Resolve(paging, errors);
        var status = errors.OneOf<WebhookDeliveryStatus>(query.Status, "status");
        var eventType = query.EventType?.Trim();
        errors.When(!string.IsNullOrEmpty(eventType) && !EventTypes.IsKnown(eventType), "event_type",
            $"event_type must be one of {string.Join(", ", EventTypes.All.Keys)}.");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        if (!await SubscriptionExistsAsync(db, id, cancellationToken))
        {
            return Problems.NotFound("Webhook subscription");
        }

        var deliveries = db.Set<WebhookDelivery>().AsNoTracking()
            .Where(d => d.SubscriptionId == id)
            .WhereIf(status is not null, d => d.Status == status)
            .WhereIf(!string.IsNullOrEmpty(eventType), d => d.Event!.Type == eventType);
        return TypedResults.Ok(await pager.PageAsync(
            deliveries.Include(d => d.Event),
            page,
            d => d.OrderByDescending(x => x.Id),
            async (rows, ct) =>
            {
                var ids = rows.ConvertAll(d => d.Id);
                var attempts = (await db.Set<WebhookAttempt>().AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(ct))
                    .ToLookup(a => a.DeliveryId);
                return rows.ConvertAll(d => WebhookDeliveryResponse.From(d, attempts[d.Id]));
            },
            http.Request,
            cancellationToken));
    }

    public static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> GetWebhookDelivery(
        long id,
        [FromRoute(Name = "delivery_id")] long deliveryId,
        EmporiumDbContext db,
        CancellationToken cancellationToken)
    {
        if (!await SubscriptionExistsAsync(db, id, cancellationToken))
        {
            return Problems.NotFound("Webhook subscription");
        }

        return await FindAsync(db, id, deliveryId, cancellationToken) is { } delivery
            ? TypedResults.Ok(delivery)
            : Problems.NotFound("Webhook delivery");
    }

    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>> RetryWebhookDelivery(
        long id,
        [FromRoute(Name = "delivery_id")] long deliveryId,
        EmporiumDbContext db,
        WebhookSignals signals,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (await InactiveSubscriptionAsync(db, id, cancellationToken) is { } refused)
        {
            return refused;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var queued = await db.Set<WebhookDelivery>()
            .Where(d => d.Id == deliveryId && d.SubscriptionId == id && d.Status != WebhookDeliveryStatus.SENDING)
            .ExecuteUpdateAsync(set => set
                .SetProperty(d => d.Status, WebhookDeliveryStatus.PENDING)
                .SetProperty(d => d.NextAttemptAt, now)
                .SetProperty(d => d.UpdatedAt, now), cancellationToken);
        var delivery = await FindAsync(db, id, deliveryId, cancellationToken);
        if (delivery is null)
        {
            return Problems.NotFound("Webhook delivery");
        }

        if (queued == 0)
        {
            return Problems.Conflict("An attempt of this delivery is in flight (SENDING); retry after it is recorded.");
        }

        signals.DeliveriesDue();
        return TypedResults.Accepted($"/api/webhooks/{id}/deliveries/{deliveryId}", delivery);
    }

    public static async Task<Results<Accepted<WebhookRecoverResponse>, ValidationProblem, ProblemHttpResult>> RecoverWebhookDeliveries(
        long id,
        [AsParameters] WebhookRecoverQuery query,
        EmporiumDbContext db,
        WebhookSignals signals,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(query.Since))
        {
            return Problems.Validation("since", "since is required: an ISO 8601 instant such as 2025-01-31T00:00:00Z.");
        }

        var errors = new ValidationErrors();
        if (errors.Instant(query.Since, "since") is not { } since)
        {
            return errors.ToProblem();
        }

        if (await InactiveSubscriptionAsync(db, id, cancellationToken) is { } refused)
        {
            return refused;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var requeued = await db.Set<WebhookDelivery>()
            .Where(d => d.SubscriptionId == id && d.Status == WebhookDeliveryStatus.FAILED && d.CreatedAt >= since)
            .ExecuteUpdateAsync(set => set
                .SetProperty(d => d.Status, WebhookDeliveryStatus.PENDING)
                .SetProperty(d => d.NextAttemptAt, now)
                .SetProperty(d => d.UpdatedAt, now), cancellationToken);
        if (requeued > 0)
        {
            signals.DeliveriesDue();
        }

        return TypedResults.Accepted($"/api/webhooks/{id}/deliveries?status=PENDING", new WebhookRecoverResponse(requeued, since));
    }

    private static Task<bool> SubscriptionExistsAsync(EmporiumDbContext db, long id, CancellationToken cancellationToken) =>
        db.Set<WebhookSubscription>().AnyAsync(s => s.Id == id, cancellationToken);

    private static async Task<WebhookDeliveryResponse?> FindAsync(EmporiumDbContext db, long id, long deliveryId, CancellationToken cancellationToken)
    {
        var delivery = await db.Set<WebhookDelivery>().AsNoTracking().Include(d => d.Event).Include(d => d.AttemptLog)
            .FirstOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == id, cancellationToken);
        return delivery is null ? null : WebhookDeliveryResponse.From(delivery, delivery.AttemptLog);
    }

    /// <summary>404 for an unknown subscription, 409 for a disabled one (deliveries are queued only for active ones); else null.</summary>
    private static async Task<ProblemHttpResult?> InactiveSubscriptionAsync(EmporiumDbContext db, long id, CancellationToken cancellationToken)
    {
        var subscription = await db.Set<WebhookSubscription>().AsNoTracking().Where(s => s.Id == id)
            .Select(s => new { s.IsActive, s.DisabledReason }).FirstOrDefaultAsync(cancellationToken);
        return subscription is null ? Problems.NotFound("Webhook subscription")
            : subscription.IsActive ? null
            : Problems.Conflict("The subscription is disabled" + (subscription.DisabledReason is { } why ? $" ({why})" : "") + "; enable it first.");
    }
}
