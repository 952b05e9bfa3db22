using System.Threading.Channels;
using Emporium.Features.Jobs;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The in-process transport (default): a one-slot channel of wake-ups. Ids are not queued because the
/// claim takes the oldest due job anyway, so many signals coalesce into one wake-up.
/// </summary>
public sealed class InProcessJobTransport : IJobTransport
{
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = false });

    public void Publish(IReadOnlyCollection<long> jobIds) => _signals.Writer.TryWrite(true);

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
