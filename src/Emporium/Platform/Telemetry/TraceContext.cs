using System.Diagnostics;

namespace Emporium.Platform.Telemetry;

/// <summary>
/// Carries a trace from the request that queued work into the work (issue 17): a job row and an event row keep the W3C
/// traceparent current when they were written, and the job's run and each webhook delivery continue it. Spans are
/// exported under source Emporium.Work when tracing is on; without a listener the context still flows (logs' trace ids,
/// the traceparent header of outgoing HTTP calls, the jobs and events written inside).
/// </summary>
public static class TraceContext
{
    public const string SourceName = "Emporium.Work";

    /// <summary>The longest W3C traceparent (version 00): 2 + 1 + 32 + 1 + 16 + 1 + 2.</summary>
    public const int MaxLength = 55;

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The current trace's W3C traceparent, or null outside one.</summary>
    public static string? Current() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { Length: <= MaxLength } id } ? id : null;

    /// <summary>
    /// Starts the work's span as a child of <paramref name="traceParent"/> (a new trace when it is null or not a valid
    /// traceparent); dispose it when the work ends.
    /// </summary>
    public static Activity Start(string name, string? traceParent, ActivityKind kind = ActivityKind.Internal)
    {
        ActivityContext.TryParse(traceParent, null, out var parent);
        return Source.StartActivity(name, kind, parent)
            ?? (parent == default ? new Activity(name) : new Activity(name).SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags)).Start();
    }
}
