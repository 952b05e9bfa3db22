namespace Emporium.Platform.Http;

/// <summary>
/// What a handler that reads or writes rows needs besides its route values and body, bound as one [AsParameters]
/// argument: the database, the clock, the request (its caller and conditional headers) and the request's cancellation.
/// </summary>
public readonly record struct RequestScope(EmporiumDbContext Db, TimeProvider Clock, HttpContext Http, CancellationToken Aborted)
{
    public DateTime UtcNow => Clock.GetUtcNow().UtcDateTime;
}
