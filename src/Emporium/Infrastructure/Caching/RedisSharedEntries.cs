using System.Collections.Concurrent;
using System.Diagnostics;
using Emporium.Features.Catalog.Caching;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// Which product entries are in Redis (decision 0019, "Asking Redis only for shared entries"). A process that writes an
/// entry there adds its key to a sorted set (scored by when the entry expires) and publishes it; every process remembers
/// the keys it hears of until they expire. A process subscribes, hears a ping of its own on the channel (so messages
/// published from then on reach it), then reads the set: from then on it knows every shared key. Until it has (starting,
/// after a lost connection) it cannot tell, and every miss asks Redis; so it does while it cannot keep them all (more
/// than Cache:MaxEntries), until the key it could not keep has expired. A key missed all the same costs one database
/// read, never a stale one, and at worst for one Cache:Duration, after which the entry has expired in Redis too.
/// </summary>
internal sealed partial class RedisSharedEntries : ISharedEntries, IDisposable
{
    /// <summary>How often a process that cannot tell, and reads nothing, checks whether it can read the set again.</summary>
    private static readonly TimeSpan RepairEvery = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly RedisKey _set;
    private readonly TimeSpan _duration;
    private readonly long _lifetime;
    private readonly long _maxEntries;
    private readonly string _id = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, long> _keys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _count;
    private long _nextSweep;
    private long _nextRepair;

    /// <summary>Stopwatch ticks from which the keys remembered are every key shared; long.MaxValue while that is unknown.</summary>
    private long _knowsAllFrom = long.MaxValue;

    /// <summary>Raised by every break (a lost connection, a key not kept): a read of the set begun before it proves nothing.</summary>
    private long _breaks;

    /// <summary>Raised by every key not kept: reading the set again would not keep it either.</summary>
    private long _overflows;

    private bool _subscribed;
    private long _nonce;
    private Ping? _ping;
    private Task _load = Task.CompletedTask;

    public RedisSharedEntries(IConnectionMultiplexer redis, CacheOptions options, ILogger<RedisSharedEntries> logger)
    {
        (_redis, _logger, _maxEntries, _duration) = (redis, logger, options.MaxEntries, options.Duration);
        _channel = RedisChannel.Literal($"{options.KeyPrefix}shared");
        _set = $"{options.KeyPrefix}shared";
        _lifetime = (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>Whether this process knows every shared key now (for tests; like a read, starts listening).</summary>
    internal bool KnowsAll() => !MayHold("?");

    public bool MayHold(string key)
    {
        var now = Stopwatch.GetTimestamp();
        var knowsAllFrom = Volatile.Read(ref _knowsAllFrom);
        if (now >= knowsAllFrom)
        {
            return _keys.TryGetValue(key, out var expires) && now < expires;
        }

        if (knowsAllFrom == long.MaxValue && now >= Volatile.Read(ref _nextRepair))
        {
            // Not knowing, with no end in sight: the first read starts listening, later ones make sure the set is read again
            // (a break's events can arrive out of order).
            Volatile.Write(ref _nextRepair, now + (long)(RepairEvery.TotalSeconds * Stopwatch.Frequency));
            Load();
        }

        return true;
    }

    public void Shared(string key)
    {
        Remember(key, Stopwatch.GetTimestamp() + _lifetime, sweep: false);
        try
        {
            // With RESP2 these go out on one connection in this order, so a process that reads the set after the add finds the
            // key there, and one that read it before was listening already and hears the message. The set expires when
            // nothing has been shared for a whole Cache:Duration.
            var database = _redis.GetDatabase();
            database.SortedSetAdd(_set, key, DateTimeOffset.UtcNow.Add(_duration).ToUnixTimeMilliseconds(), CommandFlags.FireAndForget);
            database.KeyExpire(_set, _duration, CommandFlags.FireAndForget);
            _redis.GetSubscriber().Publish(_channel, key, CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The others load the product from the database instead: nothing is wrong, only slower.
            LogNotTold(_logger, exception.Message);
        }
    }

    /// <summary>Starts reading the set (subscribing first, once), unless a read is under way.</summary>
    private void Load()
    {
        lock (_gate)
        {
            if (_load.IsCompleted && !_stopping.IsCancellationRequested)
            {
                _load = Task.Run(LoadAsync);
            }
        }
    }

    /// <summary>
    /// Subscribes if need be; then, once a second until it succeeds: hears a ping of its own, reads every key in the set
    /// that has not expired, and, unless a break came meanwhile, knows every shared key. Stops for good when a key could
    /// not be kept: the set would not fit again before that key has expired.
    /// </summary>
    private async Task LoadAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var (breaks, overflows) = (Interlocked.Read(ref _breaks), Interlocked.Read(ref _overflows));
            try
            {
                await SubscribeAsync();
                await PingAsync();
                var (ticks, now) = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await foreach (var entry in _redis.GetDatabase().SortedSetScanAsync(_set, pageSize: 1000).WithCancellation(_stopping.Token))
                {
                    if (entry.Score > now)
                    {
                        Remember((string)entry.Element!, ticks + (long)((entry.Score - now) / 1000 * Stopwatch.Frequency), sweep: true);
                    }
                }

                lock (_gate)
                {
                    if (_breaks == breaks)
                    {
                        Volatile.Write(ref _knowsAllFrom, Stopwatch.GetTimestamp());
                        return;
                    }

                    if (_overflows != overflows)
                    {
                        // Listening, as the ping proved: once the key not kept has expired, and every key missed before the
                        // ping has too, this process knows them all, without reading the set again (the gate is reentrant).
                        Heard();
                        return;
                    }
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogNotLoaded(_logger, exception.Message);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SubscribeAsync()
    {
        if (_subscribed)
        {
            return;
        }

        var subscriber = _redis.GetSubscriber();
        try
        {
            await subscriber.SubscribeAsync(_channel, (_, message) => OnMessage((string)message!));
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The multiplexer registers a subscription before it is sent: one that failed must not stay, or the next try
            // would add a second handler.
            try
            {
                await subscriber.UnsubscribeAsync(_channel);
            }
            catch (Exception again) when (again is RedisException or TimeoutException)
            {
                // Still away: the registration is dropped locally all the same.
            }

            throw;
        }

        Volatile.Write(ref _subscribed, true);
        Heard();
    }

    /// <summary>Publishes a ping and waits until it comes back on the channel: messages published from then on reach this process.</summary>
    private async Task PingAsync()
    {
        var ping = new Ping($"?{_id}:{Interlocked.Increment(ref _nonce)}");
        Volatile.Write(ref _ping, ping);
        await _redis.GetSubscriber().PublishAsync(_channel, ping.Text);
        await ping.Heard.Task.WaitAsync(PingTimeout, _stopping.Token);
    }

    private void OnMessage(string text)
    {
        if (text.StartsWith('?'))
        {
            if (Volatile.Read(ref _ping) is { } ping && text == ping.Text)
            {
                ping.Heard.TrySetResult();
            }

            return;
        }

        Remember(text, Stopwatch.GetTimestamp() + _lifetime, sweep: true);
    }

    private void Remember(string key, long expires, bool sweep)
    {
        if (sweep && Stopwatch.GetTimestamp() >= Volatile.Read(ref _nextSweep))
        {
            Sweep();
        }

        if (_keys.TryGetValue(key, out var known))
        {
            if (expires > known)
            {
                _keys.TryUpdate(key, expires, known);
            }
        }
        else if (Interlocked.Read(ref _count) < _maxEntries)
        {
            if (_keys.TryAdd(key, expires))
            {
                Interlocked.Increment(ref _count);
            }
        }
        else
        {
            // Not kept: until its entry has expired in Redis, this process cannot tell which keys are shared.
            lock (_gate)
            {
                _breaks++;
                _overflows++;
                Volatile.Write(ref _knowsAllFrom, Math.Max(Volatile.Read(ref _knowsAllFrom), expires));
            }
        }
    }

    /// <summary>Forgets keys whose entries have expired, here and in the set, a few times per Cache:Duration (on the channel's thread).</summary>
    private void Sweep()
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
            var now = Stopwatch.GetTimestamp();
            Volatile.Write(ref _nextSweep, now + _lifetime / 4);
            foreach (var (key, expires) in _keys)
            {
                if (expires <= now && _keys.TryRemove(new KeyValuePair<string, long>(key, expires)))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            _redis.GetDatabase().SortedSetRemoveRangeByScore(
                _set, double.NegativeInfinity, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), flags: CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Left for the next sweep, here or in another process.
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Listening (again): every key shared before now, heard or not, has expired within one Cache:Duration.</summary>
    private void Heard()
    {
        lock (_gate)
        {
            var (known, window) = (Volatile.Read(ref _knowsAllFrom), Stopwatch.GetTimestamp() + _lifetime);
            Volatile.Write(ref _knowsAllFrom, known == long.MaxValue ? window : Math.Max(known, window));
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        lock (_gate)
        {
            _breaks++;
            Volatile.Write(ref _knowsAllFrom, long.MaxValue);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (!Volatile.Read(ref _subscribed))
        {
            return;  // still subscribing; the set is read once subscribed
        }

        if (e.ConnectionType == ConnectionType.Subscription)
        {
            // Listening again (the multiplexer renews the subscription): within one Cache:Duration every key missed meanwhile
            // has expired, and sooner once the set has been read again.
            Heard();
        }

        Load();
    }

    public void Dispose()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        _stopping.Cancel();
        _load.Wait(TimeSpan.FromSeconds(5));
        try
        {
            if (_subscribed)
            {
                _redis.GetSubscriber().Unsubscribe(_channel);
            }
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Redis is away: the subscription went with the connection.
        }

        _stopping.Dispose();
    }

    /// <summary>A ping of this process's own on the channel (messages starting with '?' are pings; keys never do).</summary>
    private sealed record Ping(string Text)
    {
        public TaskCompletionSource Heard { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Debug, "The other processes were not told of an entry shared in Redis; they read it from the database: {Reason}")]
    private static partial void LogNotTold(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Debug, "Reading which entries are in Redis failed, and is tried again in a second; meanwhile misses ask Redis: {Reason}")]
    private static partial void LogNotLoaded(ILogger logger, string reason);
}
