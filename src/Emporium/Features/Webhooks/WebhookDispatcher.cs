using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Emporium.Platform.Workers;

namespace Emporium.Features.Webhooks;

/// <summary>
/// In-process wake-ups for the dispatcher: only hints (workers also poll every Webhooks:PollInterval), so a lost one
/// delays work by one poll, and many coalesce into one.
/// </summary>
public sealed class WebhookSignals : Events.IEventsWrittenSignal
{
    private readonly WakeSignal _events = new();
    private readonly WakeSignal _deliveries = new();

    /// <summary>Events may be waiting for fan-out.</summary>
    public void EventsWritten() => _events.Signal();

    /// <summary>Deliveries may be due now (fanned out, re-queued, a slot freed).</summary>
    public void DeliveriesDue() => _deliveries.Signal();

    internal Task WaitForEventsAsync(TimeSpan timeout, CancellationToken cancellationToken) => _events.WaitAsync(timeout, cancellationToken);

    internal Task WaitForDeliveriesAsync(TimeSpan timeout, CancellationToken cancellationToken) => _deliveries.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// The webhook worker (docs/decisions/0007-webhooks.md), in processes whose role includes the worker. Three loops:
/// fan-out (events to deliveries), dispatch (claim due deliveries in batches within Webhooks:MaxConcurrency and
/// Webhooks:MaxConcurrencyPerSubscription, send each on its own task, so a slow receiver only ever holds its own slots),
/// and record (write finished attempts in batches).
/// </summary>
internal sealed partial class WebhookDispatcher(
    IServiceScopeFactory scopes,
    WebhookSender sender,
    WebhookSignals signals,
    IOptions<WebhooksOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    Platform.Telemetry.EmporiumMetrics metrics,
    ITransientConflicts conflicts,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private const int FanOutBatch = 1000;
    private const int RecordBatch = 1000;

    private readonly WebhooksOptions _options = options.Value;
    private readonly Channel<DeliveryOutcome> _outcomes = Channel.CreateUnbounded<DeliveryOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, int> _busy = [];

    /// <summary>Subscriptions that answered 410 Gone, held back from claims until the disable is recorded.</summary>
    private readonly HashSet<long> _gone = [];
    private int _inFlight;

    /// <summary>Unique per dispatcher (several hosts may share a process in tests), readable in the deliveries table.</summary>
    public string Owner { get; } = Leases.NewOwner(WebhookDeliveryConfiguration.LeaseOwnerLength);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!emporium.Value.RunsWorker)
        {
            return;
        }

        await Task.Yield();
        var recorder = Task.Run(RecordLoopAsync, CancellationToken.None);
        var fanOut = Task.Run(() => FanOutLoopAsync(stoppingToken), CancellationToken.None);
        var sends = new List<Task>();
        try
        {
            await DispatchLoopAsync(sends, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Interrupted sends record themselves as such (due again at once); write those before the process exits.
        await Task.WhenAll(sends.Where(task => !task.IsCompleted).Append(fanOut));
        _outcomes.Writer.TryComplete();
        await recorder;
    }

    private async Task FanOutLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int dispatched;
                do
                {
                    dispatched = await StoreAsync(store => store.FanOutAsync(FanOutBatch, Now, stoppingToken));
                    if (dispatched > 0)
                    {
                        signals.DeliveriesDue();
                    }
                }
                while (dispatched == FanOutBatch && !stoppingToken.IsCancellationRequested);

                if (await StoreAsync(store => store.SkipInactiveAsync(Now, stoppingToken)) is > 0 and var skipped)
                {
                    LogSkipped(skipped);
                }

                await signals.WaitForEventsAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogLoopFailed(exception, "fan-out");
                await Delay(_options.PollInterval, stoppingToken);
            }
        }
    }

    private async Task DispatchLoopAsync(List<Task> sends, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            sends.RemoveAll(task => task.IsCompleted);
            var free = _options.MaxConcurrency - Volatile.Read(ref _inFlight);
            var claimed = 0;
            if (free > 0)
            {
                try
                {
                    Dictionary<long, int> busy;
                    lock (_busy)
                    {
                        busy = new Dictionary<long, int>(_busy);
                        foreach (var subscription in _gone)
                        {
                            busy[subscription] = _options.MaxConcurrencyPerSubscription;
                        }
                    }

                    var batch = await StoreAsync(store => store.ClaimAsync(
                        Owner, Now, _options.LeaseDuration, _options.MaxConcurrencyPerSubscription, busy, free, stoppingToken));
                    claimed = batch.Count;
                    foreach (var delivery in batch)
                    {
                        Interlocked.Increment(ref _inFlight);
                        lock (_busy)
                        {
                            _busy[delivery.SubscriptionId] = _busy.GetValueOrDefault(delivery.SubscriptionId) + 1;
                        }

                        sends.Add(Task.Run(() => SendAsync(delivery, stoppingToken), CancellationToken.None));
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogLoopFailed(exception, "claim");
                }
            }

            if (claimed > 0 && claimed == free)
            {
                // Saturated: wait for a slot, then a moment more, so the next claim takes a batch rather than one row.
                await signals.WaitForDeliveriesAsync(_options.PollInterval, stoppingToken);
                await Delay(TimeSpan.FromMilliseconds(5), stoppingToken);
            }
            else if (claimed == 0)
            {
                await signals.WaitForDeliveriesAsync(_options.PollInterval, stoppingToken);
            }
            else
            {
                // Some subscriptions are at their limit; what they free (or new work) wakes us.
                await signals.WaitForDeliveriesAsync(_options.PollInterval, stoppingToken);
                await Delay(TimeSpan.FromMilliseconds(2), stoppingToken);
            }
        }
    }

    private async Task SendAsync(ClaimedDelivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            var now = clock.GetUtcNow();
            var message = new WebhookMessage(delivery.EventId, now, Envelope(delivery), WebhookDelivery.AttemptIdOf(delivery.Id, delivery.Attempt));
            var secrets = delivery.PreviousSecret is not null && delivery.PreviousSecretExpiresAt > now.UtcDateTime
                ? new[] { delivery.Secret, delivery.PreviousSecret }
                : [delivery.Secret];
            DeliveryOutcome outcome;
            // The attempt continues the trace the event was written in; the traceparent header carries it to the receiver.
            using var activity = Platform.Telemetry.TraceContext.Start($"webhook {delivery.EventType}", delivery.TraceParent, System.Diagnostics.ActivityKind.Producer);
            activity.SetTag("emporium.webhook.delivery_id", delivery.Id).SetTag("emporium.webhook.attempt", delivery.Attempt);
            try
            {
                var result = await sender.SendAsync(new Uri(delivery.Url), message, secrets, stoppingToken);
                outcome = Decide(delivery, result);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                var result = new WebhookAttemptResult(null, clock.GetUtcNow() - now, null, null, "the worker stopped during the attempt", null);
                outcome = new DeliveryOutcome(delivery.Id, delivery.Attempt, delivery.SubscriptionId, result, Now,
                    WebhookDeliveryStatus.PENDING, Now, "the worker stopped during the attempt; sent again", Interrupted: true);
            }
            catch (Exception exception)
            {
                // A bug or an unusable URL: count it as a failed attempt so the schedule still ends.
                LogSendFailed(exception, delivery.Id);
                var result = new WebhookAttemptResult(null, clock.GetUtcNow() - now, null, WebhookFailure.Connection, exception.Message, null);
                outcome = Decide(delivery, result);
            }

            if (outcome.Gone)
            {
                lock (_busy)
                {
                    _gone.Add(delivery.SubscriptionId);
                }
            }

            metrics.WebhookAttempt(
                outcome.Interrupted ? "interrupted" : outcome.Next switch
                {
                    WebhookDeliveryStatus.SUCCEEDED => "succeeded",
                    WebhookDeliveryStatus.PENDING => "retrying",
                    _ => "failed",
                },
                outcome.Result.Duration);
            _outcomes.Writer.TryWrite(outcome);
        }
        finally
        {
            lock (_busy)
            {
                if (_busy.GetValueOrDefault(delivery.SubscriptionId) <= 1)
                {
                    _busy.Remove(delivery.SubscriptionId);
                }
                else
                {
                    _busy[delivery.SubscriptionId]--;
                }
            }

            Interlocked.Decrement(ref _inFlight);
            signals.DeliveriesDue();
        }
    }

    /// <summary>Success, a retry (Retry-After when the receiver gave one, else the schedule with jitter), or give up.</summary>
    internal DeliveryOutcome Decide(ClaimedDelivery delivery, WebhookAttemptResult result)
    {
        var now = Now;
        DeliveryOutcome Outcome(WebhookDeliveryStatus next, DateTime at, string? error) =>
            new(delivery.Id, delivery.Attempt, delivery.SubscriptionId, result, now, next, at, error);

        if (result.Succeeded)
        {
            return Outcome(WebhookDeliveryStatus.SUCCEEDED, now, null);
        }

        if (result.StatusCode == 410)
        {
            return Outcome(WebhookDeliveryStatus.FAILED, now, $"{result.Error}: {WebhookDeliveries.Disabled410}, so the subscription was disabled");
        }

        var schedule = _options.Schedule;
        if (delivery.Attempt > schedule.Count)
        {
            return Outcome(WebhookDeliveryStatus.FAILED, now, $"gave up after {delivery.Attempt} attempts: {result.Error}");
        }

        // A Retry-After may lengthen the wait, never shorten it: a throttled receiver answering "1" to a burst would
        // otherwise use up the whole schedule (days) in seconds, every delivery retrying at the same instant.
        var delay = schedule[delivery.Attempt - 1] * (1 + ((Random.Shared.NextDouble() * 0.4) - 0.2));
        if (result.RetryAfter is { } retryAfter)
        {
            var asked = retryAfter < _options.MaxRetryAfter ? retryAfter : _options.MaxRetryAfter;
            delay = asked > delay ? asked : delay;
        }

        return Outcome(WebhookDeliveryStatus.PENDING, now + delay, result.Error);
    }

    private async Task RecordLoopAsync()
    {
        var batch = new List<DeliveryOutcome>(RecordBatch);
        while (await _outcomes.Reader.WaitToReadAsync())
        {
            while (batch.Count < RecordBatch && _outcomes.Reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            try
            {
                await RecordAsync(batch);
                if (batch.Exists(o => o.Next == WebhookDeliveryStatus.PENDING && o.NextAttemptAt <= Now))
                {
                    signals.DeliveriesDue();
                }
            }
            catch (Exception exception)
            {
                // The leases expire and the deliveries are sent again: nothing is lost, only repeated.
                LogRecordFailed(exception, batch.Count);
            }

            lock (_busy)
            {
                foreach (var outcome in batch.Where(o => o.Gone))
                {
                    _gone.Remove(outcome.SubscriptionId);
                }
            }

            batch.Clear();
        }
    }

    /// <summary>The envelope {"id","type","timestamp","data"} as GET /api/events shows it; the same bytes for every attempt.</summary>
    internal static string Envelope(ClaimedDelivery delivery)
    {
        var buffer = new ArrayBufferWriter<byte>(delivery.Data.Length + 160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", delivery.EventId);
            writer.WriteString("type", delivery.EventType);
            writer.WriteString("timestamp", DateTime.SpecifyKind(delivery.OccurredAt, DateTimeKind.Utc));
            writer.WritePropertyName("data");
            writer.WriteRawValue(delivery.Data, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, clock, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Writes a batch of outcomes, again when the database aborted the write for a lost race (a deadlock with a
    /// subscription's delete, which locks the subscription before its deliveries): the receivers already answered, and a
    /// lost batch would be sent to all of them again.
    /// </summary>
    private async Task RecordAsync(List<DeliveryOutcome> batch) =>
        await conflicts.RetryAsync(
            async () =>
            {
                await StoreAsync(store => store.RecordAsync(Owner, batch, Now, _options.DisableAfter, CancellationToken.None));
                return true;
            },
            attempts: 5,
            clock,
            CancellationToken.None);

    private Task<T> StoreAsync<T>(Func<IWebhookDeliveryStore, Task<T>> work) => scopes.WithScopedAsync(work);

    private Task StoreAsync(Func<IWebhookDeliveryStore, Task> work) => scopes.WithScopedAsync(work);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhooks: the {Loop} step failed; trying again")]
    private partial void LogLoopFailed(Exception exception, string loop);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhooks: recording {Count} attempt outcome(s) failed; those deliveries are sent again when their leases expire")]
    private partial void LogRecordFailed(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhooks: delivery {DeliveryId} could not be attempted")]
    private partial void LogSendFailed(Exception exception, long deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhooks: {Count} delivery(ies) of disabled subscriptions marked FAILED without sending")]
    private partial void LogSkipped(int count);
}
