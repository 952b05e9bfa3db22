using System.Threading.Channels;

namespace Emporium.Platform.Workers;

/// <summary>
/// A wake-up for a worker loop that also polls: only a hint, so a lost one delays work by one poll, and any number of
/// signals before the next wait coalesce into one wake-up (the loop takes whatever is due anyway).
/// </summary>
public sealed class WakeSignal
{
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = false });

    public void Signal() => _signals.Writer.TryWrite(true);

    /// <summary>Completes at the next signal (or at once if one came since the last wait), or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _signals.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
