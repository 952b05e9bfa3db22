using System.Collections.Concurrent;
using System.Diagnostics;
using Emporium.Features.Catalog.Caching;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// Which product entries are in Redis (decision 0019, "Asking Redis only for shared entries"). A process that writes an
/// entry there adds its key to a sorted set (scored by when the entry expires) and publishes it; every process remembers
/// the keys it hears of until they expire. A process subscribes first and then reads the set, so from then on it knows
/// every shared key. Until it has (starting, or after a lost connection), and while it cannot keep them all (more than
/// Cache:MaxEntries), it cannot tell, and every miss asks Redis. A key missed all the same costs one database read, never
/// a stale one, and at worst for one Cache:Duration, after which the entry has expired in Redis too.
/// </summary>
internal sealed partial class RedisSharedEntries : ISharedEntries, IDisposable
{
    /// <summary>Most keys one page of the set's load reads.</summary>
    private const int LoadPage = 10_000;

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger _logger;
    private readonly RedisChannel _channel;
    private readonly RedisKey _set;
    private readonly TimeSpan _duration;
    private readonly long _lifetime;
    private readonly long _maxEntries;
    private readonly ConcurrentDictionary<string, long> _keys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _count;
    private long _nextSweep;

    /// <summary>Stopwatch ticks from which the keys remembered are every key shared; long.MaxValue while that is unknown.</summary>
    private long _knowsAllFrom = long.MaxValue;

    /// <summary>Raised by every break (a lost connection, a key not kept): a load begun before it does not make the keys complete.</summary>
    private long _breaks;

    private int _listening;
    private ChannelMessageQueue? _queue;
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
    internal bool KnowsAll()
    {
        Listen();
        return Stopwatch.GetTimestamp() >= Volatile.Read(ref _knowsAllFrom);
    }

    public bool MayHold(string key)
    {
        Listen();
        var now = Stopwatch.GetTimestamp();
        return now < Volatile.Read(ref _knowsAllFrom) || (_keys.TryGetValue(key, out var expires) && now < expires);
    }

    public void Shared(string key)
    {
        Remember(key, Stopwatch.GetTimestamp() + _lifetime);
        try
        {
            // On one connection, in this order: a process that reads the set after the add finds the key there, and one that
            // read it before has subscribed before that, and hears the message.
            _redis.GetDatabase().SortedSetAdd(_set, key, DateTimeOffset.UtcNow.Add(_duration).ToUnixTimeMilliseconds(), CommandFlags.FireAndForget);
            _redis.GetSubscriber().Publish(_channel, key, CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The others load the product from the database instead: nothing is wrong, only slower.
            LogNotTold(_logger, exception.Message);
        }
    }

    /// <summary>Starts listening on the first read: a process that only writes the catalog (a worker) never reads, and keeps no keys.</summary>
    private void Listen()
    {
        if (Volatile.Read(ref _listening) == 0 && Interlocked.Exchange(ref _listening, 1) == 0)
        {
            _ = ListenAsync();
        }
    }

    /// <summary>Subscribes, trying again every second until Redis answers, then reads the set; the multiplexer renews the subscription after a break.</summary>
    private async Task ListenAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var queue = await _redis.GetSubscriber().SubscribeAsync(_channel);
                queue.OnMessage(message => Remember((string)message.Message!, Stopwatch.GetTimestamp() + _lifetime));
                _queue = queue;
                Heard();
                Load();
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
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
    }

    /// <summary>Starts reading the set, unless a read is under way.</summary>
    private void Load()
    {
        lock (_gate)
        {
            if (_load.IsCompleted && !_stopping.IsCancellationRequested)
            {
                _load = LoadAsync();
            }
        }
    }

    /// <summary>
    /// Remembers every key in the set that has not expired; then, unless a break came meanwhile, this process knows every
    /// shared key. After a break or a failed read it reads the set again, once a second until it has. Whatever happens, it
    /// knows them all one Cache:Duration after it started listening (again): see <see cref="Heard"/>.
    /// </summary>
    private async Task LoadAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var breaks = Interlocked.Read(ref _breaks);
            try
            {
                var database = _redis.GetDatabase();
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                for (long skip = 0; ; skip += LoadPage)
                {
                    var page = await database.SortedSetRangeByScoreWithScoresAsync(_set, now, double.PositiveInfinity, skip: skip, take: LoadPage);
                    var ticks = Stopwatch.GetTimestamp();
                    foreach (var entry in page)
                    {
                        Remember((string)entry.Element!, ticks + (long)((entry.Score - now) / 1000 * Stopwatch.Frequency));
                    }

                    if (page.Length < LoadPage)
                    {
                        break;
                    }
                }

                lock (_gate)
                {
                    if (_breaks == breaks)
                    {
                        Volatile.Write(ref _knowsAllFrom, Stopwatch.GetTimestamp());
                        return;
                    }
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogNotLoaded(_logger, exception.Message);
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

    /// <summary>Listening (again): every key shared before now, heard or not, has expired within one Cache:Duration.</summary>
    private void Heard()
    {
        lock (_gate)
        {
            var (known, window) = (Volatile.Read(ref _knowsAllFrom), Stopwatch.GetTimestamp() + _lifetime);
            Volatile.Write(ref _knowsAllFrom, known == long.MaxValue ? window : Math.Max(known, window));
        }
    }

    private void Remember(string key, long expires)
    {
        var now = Stopwatch.GetTimestamp();
        if (now >= Volatile.Read(ref _nextSweep))
        {
            Sweep(now);
        }

        if (_keys.TryGetValue(key, out var known))
        {
            _keys[key] = Math.Max(known, expires);
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
                Volatile.Write(ref _knowsAllFrom, Math.Max(Volatile.Read(ref _knowsAllFrom), expires));
            }
        }
    }

    /// <summary>Forgets keys whose entries have expired, here and in the set, a few times per Cache:Duration.</summary>
    private void Sweep(long now)
    {
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
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
        if (_queue is null)
        {
            return;  // still subscribing, and reads the set once subscribed
        }

        // Listening again (the multiplexer renews the subscription): within one Cache:Duration every key missed meanwhile has
        // expired, and sooner once the set has been read again.
        Heard();
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
            _queue?.Unsubscribe();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Redis is away: the subscription went with the connection.
        }

        _stopping.Dispose();
    }

    [LoggerMessage(LogLevel.Debug, "The other processes were not told of an entry shared in Redis; they read it from the database: {Reason}")]
    private static partial void LogNotTold(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Warning, "Reading which entries are in Redis failed; misses ask Redis until it is read again: {Reason}")]
    private static partial void LogNotLoaded(ILogger logger, string reason);
}
