namespace Emporium.Features.Events;

/// <summary>
/// Adds events to the caller's unit of work: they are saved by the caller's SaveChanges, in its transaction, so an
/// event exists exactly when the change it describes was committed.
/// </summary>
public interface IEventOutbox
{
    /// <summary>Adds an event of <paramref name="type"/> whose data is <paramref name="data"/> serialized as the API serializes it.</summary>
    OutboxEvent Add(string type, object data);
}

/// <summary>
/// Told after a commit that wrote events (by the outbox's after-commit interceptor), so their fan-out starts at once; the
/// consumers' own polling stays the safety net for a signal that is lost or was raised in another process.
/// </summary>
public interface IEventsWrittenSignal
{
    void EventsWritten();
}

internal sealed class EventOutbox(
    EmporiumDbContext db,
    TimeProvider clock,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IEventOutbox
{
    public OutboxEvent Add(string type, object data)
    {
        if (!EventTypes.IsKnown(type))
        {
            throw new ArgumentException($"'{type}' is not a registered event type (EventTypes.All).", nameof(type));
        }

        var outboxEvent = new OutboxEvent
        {
            EventId = NewEventId(),
            Type = type,
            Data = JsonSerializer.Serialize(data, data.GetType(), json.Value.SerializerOptions),
            OccurredAt = clock.GetUtcNow().UtcDateTime,
            TraceParent = Platform.Telemetry.TraceContext.Current(),
        };
        db.Add(outboxEvent);
        return outboxEvent;
    }

    /// <summary>Version-7 GUIDs sort by time, so ids read in order in logs and receivers' stores.</summary>
    public static string NewEventId() => "evt_" + Guid.CreateVersion7().ToString("N");
}
