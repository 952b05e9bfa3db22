namespace Emporium.Platform.Workers;

/// <summary>
/// Housekeeping that worker processes run every <see cref="Interval"/>: one sweep at start, then one per tick. A failed
/// sweep is logged and the next tick tries again; several workers sweeping at once must be harmless.
/// </summary>
internal abstract class PeriodicSweep(IOptions<EmporiumOptions> emporium, TimeProvider clock) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected EmporiumOptions HostSettings { get; } = emporium.Value;

    protected abstract TimeSpan Interval { get; }

    /// <summary>Does one round of the work; answers how many things it removed (0 logs nothing).</summary>
    public abstract Task<int> SweepAsync(CancellationToken cancellationToken);

    protected abstract void OnSwept(int count);

    protected abstract void OnFailed(Exception exception);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!HostSettings.RunsWorker)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, Clock);
        do
        {
            try
            {
                var swept = await SweepAsync(stoppingToken);
                if (swept > 0)
                {
                    OnSwept(swept);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                OnFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
