using Emporium.Features.Jobs;
using Emporium.Platform.Workers;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The RabbitMQ transport's in-process side (Jobs:Transport=RabbitMq). Publish only queues the ids for
/// <see cref="RabbitMqJobService"/>, which publishes them with confirms, so a commit never waits for the broker.
/// A delivery wakes the runner; its ack waits until the runner has made its claim attempt (the next time the
/// runner comes back to <see cref="WaitAsync"/>, having claimed every due job it had room for), so a worker
/// whose slots are all busy keeps at most Jobs:Concurrency messages unacknowledged and the broker gives
/// the rest to other workers.
/// </summary>
public sealed class RabbitMqJobTransport(TimeProvider clock) : IJobTransport
{
    private readonly Channel<long> _outbox = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WakeSignal _signal = new();
    private readonly ConcurrentDictionary<long, DateTime> _published = new();
    private readonly Lock _lock = new();
    private List<Func<Task>> _arrived = [];
    private List<Func<Task>> _woken = [];

    public void Publish(IReadOnlyCollection<long> jobIds)
    {
        foreach (var id in jobIds)
        {
            _outbox.Writer.TryWrite(id);
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Back here, the runner has tried to claim since these deliveries woke it: their work is done.
        List<Func<Task>> handled;
        lock (_lock)
        {
            handled = _woken;
            _woken = [];
        }

        foreach (var ack in handled)
        {
            await ack();
        }

        await _signal.WaitAsync(timeout, cancellationToken);

        lock (_lock)
        {
            _woken.AddRange(_arrived);
            _arrived.Clear();
        }
    }

    internal ChannelReader<long> Outbox => _outbox.Reader;

    /// <summary>A consumer received a job id; <paramref name="ack"/> runs after the runner's next claim attempt.</summary>
    internal void Delivered(Func<Task> ack)
    {
        lock (_lock)
        {
            _arrived.Add(ack);
        }

        _signal.Signal();
    }

    internal void Confirmed(long id) => _published[id] = clock.GetUtcNow().UtcDateTime;

    /// <summary>Whether this process published <paramref name="id"/> (confirmed) after <paramref name="since"/>.</summary>
    internal bool PublishedSince(long id, DateTime since) => _published.TryGetValue(id, out var at) && at > since;

    internal void ForgetPublishedBefore(DateTime cutoff)
    {
        foreach (var (id, at) in _published)
        {
            if (at <= cutoff)
            {
                _published.TryRemove(id, out _);
            }
        }
    }
}
