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
    [FromQuery(Name = "type")] string? Type);

public static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/api/events").WithTags("Events").RequireAuthorization(Policies.Staff);

        events.MapGet("", ListEvents)
            .Documented("List events", "Every event Emporium emitted, newest first, in the envelope webhooks deliver ({id, type, timestamp, data}). "
                + "Filter by type. Staff or admin.");
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
        var events = scope.Db.Set<OutboxEvent>().AsNoTracking().WhereIf(!string.IsNullOrEmpty(type), e => e.Type == type);
        return pager.ListAsync(events, paging, errors, e => e.OrderByDescending(x => x.Id), EventResponse.From, scope);
    }

    public static Ok<List<EventTypeResponse>> ListEventTypes() =>
        TypedResults.Ok(EventTypes.All.Select(pair => new EventTypeResponse(pair.Key, pair.Value)).ToList());
}
