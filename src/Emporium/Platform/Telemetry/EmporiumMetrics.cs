using System.Diagnostics.Metrics;

namespace Emporium.Platform.Telemetry;

/// <summary>
/// Emporium's own instruments on meter Emporium.Work (exported with the others when telemetry is on): how background
/// jobs end and what checkouts come to.
/// </summary>
public sealed class EmporiumMetrics : IDisposable
{
    public const string MeterName = "Emporium.Work";

    private readonly Meter _meter;
    private readonly Counter<long> _jobs;
    private readonly Counter<long> _checkouts;

    public EmporiumMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _jobs = _meter.CreateCounter<long>("emporium.jobs.finished", "{job}", "Jobs that ended, by kind and outcome (completed, failed, dead).");
        _checkouts = _meter.CreateCounter<long>("emporium.checkouts", "{checkout}",
            "Checkouts by outcome: placed, out_of_stock (a line short: a stock conflict) or refused (any other 4xx).");
    }

    public void JobFinished(string kind, string outcome) =>
        _jobs.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void Checkout(string outcome) => _checkouts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => _meter.Dispose();
}
