using System.Buffers.Text;
using System.Text;
using Emporium.Features.Jobs;
using Emporium.Infrastructure.Persistence;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The broker side of the RabbitMQ transport, idle unless Jobs:Transport=RabbitMq. Every process publishes the
/// ids its commits queued (persistent messages, publisher confirms awaited; a failure is logged and left to the
/// sweeper, since the job row is the truth). Worker processes also consume (manual acks, prefetch =
/// Jobs:Concurrency; an unparseable body is rejected to the dead-letter queue) and sweep: every
/// Jobs:RabbitMq:SweepInterval they re-publish PENDING jobs that have been due for that long without being
/// claimed and that this process has not published within it, so a message lost between commit and broker
/// (a crash, a broker outage) still arrives.
/// </summary>
internal sealed partial class RabbitMqJobService(
    RabbitMqJobTransport transport,
    RabbitMqConnection connection,
    IServiceScopeFactory scopes,
    IOptions<JobTransportOptions> transportOptions,
    IOptions<JobsOptions> jobsOptions,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    IEnumerable<HandledJobKind> handled,
    ILogger<RabbitMqJobService> logger) : BackgroundService
{
    private readonly List<string> _handledKinds = [.. handled.Select(h => h.Kind).Distinct()];

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private const int SweepBatch = 1000;

    private RabbitMqJobOptions Settings => transportOptions.Value.RabbitMq;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!transportOptions.Value.UsesRabbitMq)
        {
            return;
        }

        await Task.Yield();
        List<Task> loops = [PublishAsync(stoppingToken)];
        if (emporium.Value.RunsWorker)
        {
            // A worker limited by Jobs:Kinds consumes too: a message is only a wake-up, and one for a kind it leaves alone
            // costs it one claim attempt while the workers that take that kind find the job at their next poll
            // (Jobs:PollInterval). When no worker consumed (every one limited, as docs/operations.md suggests), each job
            // left messages in the queue for ever, and the sweeper, which waits for an empty queue, never ran again.
            loops.Add(ConsumeAsync(stoppingToken));
            loops.Add(SweepAsync(stoppingToken));
        }

        await Task.WhenAll(loops);
    }

    private async Task PublishAsync(CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        var properties = new BasicProperties { Persistent = true, ContentType = "text/plain" };
        try
        {
            while (await transport.Outbox.WaitToReadAsync(stoppingToken))
            {
                while (transport.Outbox.TryRead(out var id))
                {
                    try
                    {
                        if (channel is null || channel.IsClosed)
                        {
                            channel = await OpenPublisherAsync(channel, stoppingToken);
                        }

                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        timeout.CancelAfter(Settings.ConfirmTimeout);
                        var body = Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture));
                        // mandatory: an unroutable message (queue deleted) comes back as a failure, not silence.
                        await channel.BasicPublishAsync(Settings.Exchange, Settings.Queue, mandatory: true, properties, body, timeout.Token);
                        if (emporium.Value.RunsWorker)
                        {
                            // Only the sweeper reads (and prunes) the publish times, and it runs in workers only.
                            transport.Confirmed(id);
                        }
                    }
                    catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                    {
                        LogPublishFailed(exception, id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await CloseAsync(channel);
        }
    }

    private async Task<IChannel> OpenPublisherAsync(IChannel? previous, CancellationToken cancellationToken)
    {
        await CloseAsync(previous);
        var open = await connection.GetAsync(cancellationToken);
        // Tracking makes BasicPublishAsync complete on the broker's ack and throw on a nack or a return.
        var channel = await open.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        await connection.DeclareTopologyAsync(channel, cancellationToken);
        return channel;
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            IChannel? channel = null;
            try
            {
                var open = await connection.GetAsync(stoppingToken);
                channel = await open.CreateChannelAsync(cancellationToken: stoppingToken);
                await connection.DeclareTopologyAsync(channel, stoppingToken);
                await channel.BasicQosAsync(0, (ushort)jobsOptions.Value.Concurrency, global: false, stoppingToken);
                var consumer = new AsyncEventingBasicConsumer(channel);
                var acks = new SemaphoreSlim(1, 1);
                var consuming = channel;
                consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(consuming, acks, delivery);
                await channel.BasicConsumeAsync(Settings.Queue, autoAck: false, consumer, stoppingToken);
                LogConsuming(Settings.Queue);

                // Automatic recovery re-opens the connection, this channel and its consumer after a network
                // failure; only a channel the broker closed for good (its queue deleted, say) is opened again here.
                while (!channel.IsClosed || open.IsOpen is false)
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }

                LogConsumerClosed(channel.CloseReason?.ReplyText);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                LogConsumeFailed(exception);
            }
            finally
            {
                await CloseAsync(channel);
            }

            try
            {
                await Task.Delay(RetryDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task OnDeliveryAsync(IChannel channel, SemaphoreSlim acks, BasicDeliverEventArgs delivery)
    {
        var tag = delivery.DeliveryTag;
        var body = delivery.Body.Span;
        if (!Utf8Parser.TryParse(body, out long id, out var consumed) || consumed != body.Length || id <= 0)
        {
            LogPoison(body.Length);
            await SettleAsync(channel, acks, () => channel.BasicRejectAsync(tag, requeue: false).AsTask());
            return;
        }

        // Duplicates and stale ids are harmless: the claim is idempotent and finds nothing to do.
        transport.Delivered(() => SettleAsync(channel, acks, () => channel.BasicAckAsync(tag, multiple: false).AsTask()));
    }

    /// <summary>One ack or reject at a time on the channel; a failure only means the broker delivers it again.</summary>
    private async Task SettleAsync(IChannel channel, SemaphoreSlim acks, Func<Task> settle)
    {
        try
        {
            await acks.WaitAsync();
            try
            {
                if (!channel.IsClosed)
                {
                    await settle().WaitAsync(TimeSpan.FromSeconds(5));
                }
            }
            finally
            {
                acks.Release();
            }
        }
        catch (Exception exception)
        {
            LogSettleFailed(exception);
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        var interval = Settings.SweepInterval;
        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var cutoff = clock.GetUtcNow().UtcDateTime - interval;
                    // Messages still queued wake the workers, and a woken worker claims the longest-due job whatever id
                    // woke it: publishing the backlog again (every interval, from every worker) only grows the queue. A
                    // lost message matters once nothing is queued.
                    if (await QueuedAsync(stoppingToken) > 0)
                    {
                        transport.ForgetPublishedBefore(cutoff);
                        continue;
                    }

                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
                    // Only kinds this release handles: a kind only a newer (or rolled-back) release knows waits for its workers.
                    var due = await db.Set<Job>()
                        .Where(j => j.Status == JobStatus.PENDING && j.NextRunAt <= cutoff && _handledKinds.Contains(j.Kind))
                        .OrderBy(j => j.NextRunAt).ThenBy(j => j.Id)
                        .Select(j => j.Id)
                        .Take(SweepBatch)
                        .ToListAsync(stoppingToken);
                    var lost = due.Where(id => !transport.PublishedSince(id, cutoff)).ToList();
                    transport.ForgetPublishedBefore(cutoff);
                    if (lost.Count > 0)
                    {
                        LogSweeping(lost.Count, interval);
                        transport.Publish(lost);
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>How many messages the job queue holds, not counting those delivered and not yet acknowledged.</summary>
    private async Task<uint> QueuedAsync(CancellationToken cancellationToken)
    {
        var open = await connection.GetAsync(cancellationToken);
        var channel = await open.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            return await channel.MessageCountAsync(Settings.Queue, cancellationToken);
        }
        finally
        {
            await CloseAsync(channel);
        }
    }

    private async Task CloseAsync(IChannel? channel)
    {
        if (channel is null)
        {
            return;
        }

        try
        {
            if (!channel.IsClosed)
            {
                await channel.CloseAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception exception)
        {
            LogCloseFailed(exception);
        }

        channel.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: publishing to RabbitMQ failed or was not confirmed; the sweeper publishes it again")]
    private partial void LogPublishFailed(Exception exception, long jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming job ids from RabbitMQ queue {Queue}")]
    private partial void LogConsuming(string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The RabbitMQ consumer's channel was closed ({Reason}); opening it again")]
    private partial void LogConsumerClosed(string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming from RabbitMQ failed; retrying")]
    private partial void LogConsumeFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a RabbitMQ message that is not a job id ({Length} bytes) to the dead-letter queue")]
    private partial void LogPoison(int length);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Acknowledging a RabbitMQ delivery failed; the broker delivers it again")]
    private partial void LogSettleFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-publishing {Count} PENDING jobs due for over {Interval} without a claim")]
    private partial void LogSweeping(int count, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping for jobs whose message was lost failed")]
    private partial void LogSweepFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a RabbitMQ channel failed")]
    private partial void LogCloseFailed(Exception exception);
}
