using System.Diagnostics.Metrics;

namespace Emporium.Platform.Telemetry;

/// <summary>
/// Emporium's own instruments on meter Emporium.Work (exported with the others when telemetry is on): how background
/// jobs end, what checkouts come to, webhook delivery attempts and imported rows. The queue's gauges are in JobQueueMetrics.
/// </summary>
public sealed class EmporiumMetrics : IDisposable
{
    public const string MeterName = "Emporium.Work";

    private readonly Meter _meter;
    private readonly Counter<long> _jobs;
    private readonly Counter<long> _checkouts;
    private readonly Counter<long> _webhookAttempts;
    private readonly Histogram<double> _webhookDuration;
    private readonly Counter<long> _importRows;

    public EmporiumMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _jobs = _meter.CreateCounter<long>("emporium.jobs.finished", "{job}", "Jobs that ended, by kind and outcome (completed, failed, dead).");
        _checkouts = _meter.CreateCounter<long>("emporium.checkouts", "{checkout}",
            "Checkouts by outcome: placed, out_of_stock (a line short: a stock conflict) or refused (any other 4xx).");
        _webhookAttempts = _meter.CreateCounter<long>("emporium.webhooks.attempts", "{attempt}",
            "Webhook delivery attempts by outcome: succeeded, retrying (sent again later), failed (given up, or 410 Gone) or interrupted (the worker stopped).");
        _webhookDuration = _meter.CreateHistogram("emporium.webhooks.attempt.duration", "s", "How long a receiver took to answer a delivery attempt, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _importRows = _meter.CreateCounter<long>("emporium.import.rows", "{row}",
            "CSV rows imported, counted as each transaction commits, by outcome (created, updated, unchanged, rejected): its rate is rows per second.");
    }

    public void JobFinished(string kind, string outcome) =>
        _jobs.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void Checkout(string outcome) => _checkouts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void WebhookAttempt(string outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _webhookAttempts.Add(1, tag);
        _webhookDuration.Record(duration.TotalSeconds, tag);
    }

    public void ImportRows(long created, long updated, long unchanged, long rejected)
    {
        foreach (var (outcome, rows) in new[] { ("created", created), ("updated", updated), ("unchanged", unchanged), ("rejected", rejected) })
        {
            if (rows > 0)
            {
                _importRows.Add(rows, new KeyValuePair<string, object?>("outcome", outcome));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
