namespace Emporium.Features.Jobs;

/// <summary>
/// A job's pace: items per second over about the last <see cref="Window"/>, so an attempt that slows down, or speeds up,
/// shows its present pace. A fresh attempt counts from nothing at its start. One that resumes reports the work settled by
/// earlier attempts at once, which is no pace at all: it counts from its first report (which has no rate yet).
/// </summary>
internal sealed class JobPace(TimeProvider clock, bool resuming)
{
    /// <summary>The rate is measured over about this much recent work.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly Queue<(long Timestamp, long Processed)> _samples = resuming ? new() : new([(clock.GetTimestamp(), 0)]);
    private long _lastSampleAt = clock.GetTimestamp();

    public double? Rate(long processed)
    {
        var now = clock.GetTimestamp();
        if (_samples.Count == 0)
        {
            _samples.Enqueue((now, processed));
            _lastSampleAt = now;
            return null;
        }

        if (clock.GetElapsedTime(_lastSampleAt, now) >= TimeSpan.FromMilliseconds(100))
        {
            // A sample per tenth of a second at most, however often the handler reports.
            _samples.Enqueue((now, processed));
            _lastSampleAt = now;
        }

        // Drop the oldest sample while the next one alone still spans the window.
        while (_samples.Count > 2 && clock.GetElapsedTime(_samples.Skip(1).First().Timestamp, now) >= Window)
        {
            _samples.Dequeue();
        }

        var (since, from) = _samples.Peek();
        var seconds = clock.GetElapsedTime(since, now).TotalSeconds;
        return seconds > 0 ? Math.Round(Math.Max(0, processed - from) / seconds, 1) : null;
    }
}
