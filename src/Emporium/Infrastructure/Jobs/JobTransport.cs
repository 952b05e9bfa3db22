using Emporium.Features.Jobs;
using Emporium.Platform.Workers;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The in-process transport (default): a wake-up signal. Ids are not queued because the claim takes the oldest due job
/// anyway, so many signals coalesce into one wake-up.
/// </summary>
public sealed class InProcessJobTransport : IJobTransport
{
    private readonly WakeSignal _signal = new();

    public void Publish(IReadOnlyCollection<long> jobIds) => _signal.Signal();

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
