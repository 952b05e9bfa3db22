namespace Emporium.Features.Events;

/// <summary>The envelope every consumer sees, webhooks included: {id, type, timestamp, data}.</summary>
public sealed record EventResponse(
    [property: Description("evt_…: the same for every delivery of this event (the webhook-id header).")] string Id,
    string Type,
    DateTime Timestamp,
    [property: Description("The subject as the REST API returned it when the event happened.")] JsonElement Data)
{
    public static EventResponse From(OutboxEvent e)
    {
        using var data = JsonDocument.Parse(e.Data);
        return new EventResponse(e.EventId, e.Type, e.OccurredAt, data.RootElement.Clone());
    }
}

public sealed record EventTypeResponse(string Type, string Description);

public sealed record EventListQuery(
    [property: Description("Only events of this type, e.g. product.updated.")]
    [FromQuery(Name = "type")] string? Type,
    [property: Description("Only events that happened at or after this ISO 8601 instant (2026-01-31T00:00:00Z); a receiver catching up "
        + "after an outage asks from a little before its last event, since events commit slightly out of time order.")]
    [FromQuery(Name = "occurred_from")] string? OccurredFrom = null,
    [property: Description("Only events that happened before this ISO 8601 instant.")]
    [FromQuery(Name = "occurred_to")] string? OccurredTo = null);

public static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/api/events").WithTags("Events").RequireAuthorization(Policies.Staff);

        events.MapGet("", ListEvents)
            .Documented("List events", "Every event Emporium emitted, newest first, in the envelope webhooks deliver ({id, type, timestamp, data}). "
                + "Filter by type and by when they happened (occurred_from, occurred_to); kept Events:RetainFor (30 days). Staff or admin.");
        events.MapGet("/types", ListEventTypes)
            .Documented("List event types", "Every event type a webhook subscription can name, with what its data holds.");
        return app;
    }

    public static Task<Results<Ok<Paged<EventResponse>>, ValidationProblem>> ListEvents(
        [AsParameters] EventListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var errors = new ValidationErrors();
        var type = query.Type?.Trim();
        errors.When(!string.IsNullOrEmpty(type) && !EventTypes.IsKnown(type), "type",
            $"type must be one of {string.Join(", ", EventTypes.All.Keys)}.");
        var from = errors.Instant(query.OccurredFrom, "occurred_from");
        var to = errors.Instant(query.OccurredTo, "occurred_to");
        var events = scope.Db.Set<OutboxEvent>().AsNoTracking()
            .WhereIf(!string.IsNullOrEmpty(type), e => e.Type == type)
            .WhereIf(from is not null, e => e.OccurredAt >= from)
            .WhereIf(to is not null, e => e.OccurredAt < to);
        return pager.ListAsync(events, paging, errors, e => e.OrderByDescending(x => x.Id), EventResponse.From, scope);
    }

    public static Ok<List<EventTypeResponse>> ListEventTypes() =>
        TypedResults.Ok(EventTypes.All.Select(pair => new EventTypeResponse(pair.Key, pair.Value)).ToList());
}
