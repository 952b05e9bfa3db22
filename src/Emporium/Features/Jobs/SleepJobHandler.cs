namespace Emporium.Features.Jobs;

/// <summary>
/// diagnostics.sleep: sleeps for payload.seconds (default 5, at most 3600) while reporting progress every
/// tenth of a second. Lets operators check that workers claim, heartbeat and report, and lets the tests
/// kill a real worker mid-job.
/// </summary>
internal sealed class SleepJobHandler(TimeProvider clock) : IJobHandler
{
    public const string KindName = "diagnostics.sleep";

    public sealed record Payload(double? Seconds);

    public sealed record Result(double SleptSeconds, int Attempt);


    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var seconds = context.ReadPayload<Payload>().Seconds ?? 5;
        if (seconds is < 0 or > 3600 || double.IsNaN(seconds))
        {
            throw new PermanentJobFailure("payload.seconds must be between 0 and 3600.");
        }

        var steps = Math.Max(1, (long)Math.Ceiling(seconds * 10));
        var step = TimeSpan.FromSeconds(seconds / steps);
        for (var done = 1L; done <= steps; done++)
        {
            await Task.Delay(step, clock, cancellationToken);
            await context.ReportProgressAsync(done, steps, $"slept {done * step.TotalSeconds:0.0} of {seconds:0.0} s", cancellationToken);
        }

        context.SetResult(new Result(seconds, context.Attempt));
    }
}
