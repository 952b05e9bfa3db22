using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Emporium.Features.Catalog.Caching;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// This process's copy of the Redis stamps, so that a read needs no round trip to Redis (decision 0019, "Acknowledged
/// changes"). Every raise publishes the new stamps; each process applies them to its mirror in order and acknowledges,
/// and the writer waits for every live process's acknowledgement before it answers. A process is live while it holds a
/// lease in Redis (a sorted set scored by expiry, renewed every third of Cache:PeerLease), and it trusts its mirror only
/// while its own lease runs, counted from before the renewal was sent, so it stops trusting before Redis lets it go.
/// A writer waits at most one lease for a silent process: by then that process has either acknowledged or stopped
/// trusting its mirror. Any doubt (a lost connection, a ping that does not come back, a lease that ran out) empties the
/// mirror at the next ping, which is ordered after every change published before it; until then reads ask Redis.
/// Once trusted, the mirror loads every product stamp from Redis's hash (changes published meanwhile are applied too,
/// and the larger stamp wins), and from then on it is complete: a product it does not hold has never been written, so
/// its stamp is 0 and even a product this process never read needs no round trip. A hash larger than Cache:MaxEntries
/// is not loaded, and reads of products the mirror does not hold ask Redis.
/// </summary>
internal sealed partial class StampMirror : IDisposable
{
    // KEYS[1] the members; ARGV: this process, the lease in milliseconds. Answers Redis's clock (milliseconds).
    private const string RenewScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        return now
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger _logger;
    private readonly TimeSpan _lease;
    private readonly long _maxEntries;
    private readonly RedisKey _members;
    private readonly RedisChannel _changes;
    private readonly string _ackPrefix;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewals;

    private readonly ConcurrentDictionary<long, long> _products = new();
    private readonly ConcurrentDictionary<string, PendingChange> _pending = new();
    private readonly Lock _gate = new();
    private long _catalog;
    private long _count;

    /// <summary>Whether the mirror holds every product stamp in Redis (set under <see cref="_gate"/>; emptying clears it).</summary>
    private volatile bool _complete;

    private bool _reportedTooLarge;

    /// <summary>Raised whenever the mirror is emptied or doubted: a stamp read from Redis before it is not recorded after it.</summary>
    private long _epoch;

    /// <summary>
    /// Doubts so far, and how many of them the last ping's emptying covered (both under <see cref="_gate"/>). A process
    /// starts with one: reads sent before its subscription to changes is in place can miss a change published meanwhile,
    /// so nothing recorded before its first ping is kept.
    /// </summary>
    private long _losses = 1;
    private long _cleared;

    /// <summary>Stopwatch ticks until which the mirror may answer reads; 0 when it may not.</summary>
    private long _trustedUntil;

    private Task _load = Task.CompletedTask;

    private Ping? _ping;
    private long _nonce;
    private ChannelMessageQueue? _changeQueue;

    public StampMirror(IConnectionMultiplexer redis, CacheOptions options, ILogger logger)
    {
        (_redis, _logger, _lease, _maxEntries) = (redis, logger, options.PeerLease, options.MaxEntries);
        _members = $"{options.KeyPrefix}{{stamps}}:members";
        ChangesChannel = $"{options.KeyPrefix}{{stamps}}:changes";
        _changes = RedisChannel.Literal(ChangesChannel);
        _ackPrefix = $"{options.KeyPrefix}{{stamps}}:acks:";
        MembersKey = _members;
        CatalogKey = $"{options.KeyPrefix}{{stamps}}:catalog";
        ProductsKey = $"{options.KeyPrefix}{{stamps}}:products";
        _redis.ConnectionFailed += OnConnectionFailed;
        _renewals = Task.Run(RenewAsync);
    }

    /// <summary>This process among the members.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public string ChangesChannel { get; }

    public RedisKey MembersKey { get; }

    /// <summary>The catalog's stamp.</summary>
    public RedisKey CatalogKey { get; }

    /// <summary>The products' stamps: a hash of product id to stamp, with no expiry; a missing field is 0.</summary>
    public RedisKey ProductsKey { get; }

    /// <summary>Whether the mirror holds every product's stamp (for tests).</summary>
    internal bool Complete => _complete;

    public long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Whether reads may take stamps from memory now.</summary>
    public bool Trusted => Stopwatch.GetTimestamp() < Volatile.Read(ref _trustedUntil);

    /// <summary>The product's stamps from memory, when the mirror is trusted and holds them (or holds every stamp).</summary>
    public bool TryRead(long productId, out CatalogStamp stamp)
    {
        if (Trusted && Volatile.Read(ref _catalog) is var catalog and not 0)
        {
            if (_products.TryGetValue(productId, out var product))
            {
                stamp = new CatalogStamp(product, catalog);
                return true;
            }

            if (_complete)
            {
                stamp = new CatalogStamp(0, catalog);
                return true;
            }
        }

        stamp = default;
        return false;
    }

    public bool TryReadCatalog(out long catalog)
    {
        catalog = Volatile.Read(ref _catalog);
        return catalog != 0 && Trusted;
    }

    /// <summary>
    /// Keeps stamps read from Redis, unless the mirror was emptied or doubted since <paramref name="epoch"/> (taken before the
    /// read was sent): a change published after the read is applied in order, so a value read before it cannot overwrite it.
    /// </summary>
    public void Record(long epoch, ReadOnlySpan<(long ProductId, long Stamp)> products, long catalog)
    {
        lock (_gate)
        {
            if (epoch != _epoch)
            {
                return;
            }

            Merge(products, catalog, authoritative: false);
        }
    }

    /// <summary>Applies a change: this process's own raise, or another's as published.</summary>
    public void Apply(ReadOnlySpan<(long ProductId, long Stamp)> products, long catalog, bool restarted)
    {
        lock (_gate)
        {
            if (restarted)
            {
                Clear();
            }

            Merge(products, catalog, authoritative: true);
        }
    }

    /// <summary>
    /// Stamps only grow (one sequence; the catalog by INCR), so the larger value is the later one. When the new products
    /// do not fit Cache:MaxEntries, an authoritative change (published, applied in order: nothing later has been applied)
    /// empties the mirror and is kept; stamps read from Redis (a read's or a load's, possibly older than changes applied
    /// since) are dropped instead, since emptying would throw away the later stamps they must not replace.
    /// </summary>
    private bool Merge(ReadOnlySpan<(long ProductId, long Stamp)> products, long catalog, bool authoritative)
    {
        var added = 0;
        foreach (var (productId, _) in products)
        {
            if (!_products.ContainsKey(productId))
            {
                added++;
            }
        }

        if (_count + added > _maxEntries)
        {
            if (!authoritative)
            {
                return false;
            }

            Clear();
        }

        foreach (var (productId, stamp) in products)
        {
            if (!_products.TryGetValue(productId, out var known))
            {
                _products[productId] = stamp;
                _count++;
            }
            else if (stamp > known)
            {
                _products[productId] = stamp;
            }
        }

        if (catalog > Volatile.Read(ref _catalog))
        {
            Volatile.Write(ref _catalog, catalog);
        }

        return true;
    }

    private void Clear()
    {
        Interlocked.Increment(ref _epoch);
        _complete = false;
        _products.Clear();
        _count = 0;
        Volatile.Write(ref _catalog, 0);
    }

    /// <summary>Registers a change about to be published, so that acknowledgements arriving before its members are known count.</summary>
    public PendingChange Expect()
    {
        var change = new PendingChange(Guid.NewGuid().ToString("N"));
        _pending[change.Id] = change;
        return change;
    }

    /// <summary>
    /// Waits until every member the raise saw (but this process) has acknowledged the change, or one lease has passed: a
    /// member silent that long has stopped trusting its mirror.
    /// </summary>
    public async Task AcknowledgedAsync(PendingChange change, IEnumerable<string> members, CancellationToken cancellationToken)
    {
        try
        {
            change.Await(members.Where(member => member != Id));
            try
            {
                await change.Done.WaitAsync(_lease, cancellationToken);
            }
            catch (TimeoutException)
            {
                LogSilent(_logger, string.Join(", ", change.Missing()), _lease);
            }
        }
        finally
        {
            _pending.TryRemove(change.Id, out _);
        }
    }

    public void Forget(PendingChange change) => _pending.TryRemove(change.Id, out _);

    private async Task RenewAsync()
    {
        var every = _lease / 3;
        var database = _redis.GetDatabase();
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await SubscribeAsync();
                long losses;
                lock (_gate)
                {
                    if (_trustedUntil != 0 && Stopwatch.GetTimestamp() >= _trustedUntil)
                    {
                        Doubt("its lease ran out before it was renewed");
                    }

                    losses = _losses;
                }

                // Registered first, then pinged: a change published before the registration is ordered before the ping, and
                // one published after it waits for this process's acknowledgement.
                var sent = Stopwatch.GetTimestamp();
                await database.ScriptEvaluateAsync(RenewScript, [_members], [Id, (long)_lease.TotalMilliseconds]);
                await PingAsync(every);
                lock (_gate)
                {
                    if (_losses == losses && _cleared == losses)
                    {
                        Volatile.Write(ref _trustedUntil, sent + (long)(_lease.TotalSeconds * 0.9 * Stopwatch.Frequency));
                    }
                }

                if (!_complete && _load.IsCompleted)
                {
                    // Beside the renewals, which must keep their pace while a large hash is read.
                    _load = LoadAsync(database);
                }
            }
            catch (Exception exception)
            {
                if (_stopping.IsCancellationRequested)
                {
                    // Disposing: what the round was cut short by no longer matters, and Dispose waits for this loop to end.
                    return;
                }

                lock (_gate)
                {
                    Doubt(exception.Message);
                }
            }

            try
            {
                await Task.Delay(every, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Makes a trusted mirror complete: every product stamp in the hash, read in pages. A change published while the pages
    /// are read reaches the mirror on the channel as well (this process is registered and subscribed), and the larger
    /// stamp wins; a mirror emptied or doubted meanwhile does not keep what was read. A failed load is tried again at the
    /// next renewal; until one succeeds, reads of products the mirror does not hold ask Redis.
    /// </summary>
    private async Task LoadAsync(IDatabase database)
    {
        try
        {
            await LoadOnceAsync(database);
        }
        catch (Exception exception)
        {
            // Redis away or slow, or a malformed field: the mirror stays incomplete, which is safe.
            if (!_stopping.IsCancellationRequested)
            {
                LogLoadFailed(_logger, exception.Message);
            }
        }
    }

    private async Task LoadOnceAsync(IDatabase database)
    {
        long epoch;
        lock (_gate)
        {
            if (_complete || !Trusted)
            {
                return;
            }

            epoch = _epoch;
        }

        var count = await database.HashLengthAsync(ProductsKey);
        if (count > _maxEntries)
        {
            if (!_reportedTooLarge)
            {
                _reportedTooLarge = true;
                LogTooLarge(_logger, count, _maxEntries);
            }

            return;
        }

        var products = new List<(long ProductId, long Stamp)>((int)count + 64);
        await foreach (var entry in database.HashScanAsync(ProductsKey, pageSize: 4096).WithCancellation(_stopping.Token))
        {
            products.Add(((long)entry.Name, (long)entry.Value));
        }

        var catalog = await database.StringGetAsync(CatalogKey);
        if (catalog.IsNull)
        {
            return;  // Redis has lost its data; the first read starts the catalog's stamp and empties every mirror
        }

        lock (_gate)
        {
            if (epoch != _epoch)
            {
                return;
            }

            _complete = Merge(CollectionsMarshal.AsSpan(products), (long)catalog, authoritative: false);
        }
    }

    private async Task SubscribeAsync()
    {
        if (_changeQueue is not null)
        {
            return;
        }

        var subscriber = _redis.GetSubscriber();
        var acks = RedisChannel.Literal(_ackPrefix + Id);
        try
        {
            await subscriber.SubscribeAsync(acks, (_, message) => OnAcknowledged(message));
            var queue = await subscriber.SubscribeAsync(_changes);
            queue.OnMessage(OnChange);
            _changeQueue = queue;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The multiplexer registers a subscription before it is sent: a failed one must not stay, or the multiplexer
            // would renew it on reconnecting, and a queue nobody reads would hold every change from then on.
            try
            {
                await subscriber.UnsubscribeAsync(acks);
                await subscriber.UnsubscribeAsync(_changes);
            }
            catch (Exception again) when (again is RedisException or TimeoutException)
            {
                // Still away: the registrations are dropped locally all the same.
            }

            throw;
        }
    }

    /// <summary>Publishes a ping and waits until this process's ordered handler has seen it (and everything before it).</summary>
    private async Task PingAsync(TimeSpan timeout)
    {
        var nonce = Interlocked.Increment(ref _nonce);
        var ping = new Ping(nonce.ToString(CultureInfo.InvariantCulture));
        Volatile.Write(ref _ping, ping);
        await _redis.GetSubscriber().PublishAsync(_changes, $"p|{Id}|{ping.Nonce}");
        await ping.Done.Task.WaitAsync(timeout, _stopping.Token);
    }

    /// <summary>Messages on the changes channel, one at a time and in the order Redis published them.</summary>
    private void OnChange(ChannelMessage message)
    {
        var text = (string)message.Message!;
        var parts = text.Split('|');
        try
        {
            switch (parts[0])
            {
                case "c" when parts.Length == 6:
                    var (writer, changeId) = (parts[1], parts[2]);
                    if (writer == Id)
                    {
                        return;
                    }

                    Apply(ParseProducts(parts[5]), long.Parse(parts[4], CultureInfo.InvariantCulture), restarted: parts[3] == "1");
                    _redis.GetSubscriber().Publish(RedisChannel.Literal(_ackPrefix + writer), $"{changeId}|{Id}", CommandFlags.FireAndForget);
                    break;
                case "p" when parts.Length == 3 && parts[1] == Id:
                    if (Volatile.Read(ref _ping) is { } ping && ping.Nonce == parts[2])
                    {
                        lock (_gate)
                        {
                            if (_cleared != _losses)
                            {
                                Clear();
                                _cleared = _losses;
                            }
                        }

                        ping.Done.TrySetResult();
                    }

                    break;
                case "r":
                    lock (_gate)
                    {
                        Clear();
                    }

                    break;
            }
        }
        catch (Exception exception) when (exception is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            LogMalformed(_logger, text);
        }
    }

    private static (long, long)[] ParseProducts(string list)
    {
        if (list.Length == 0)
        {
            return [];
        }

        var pairs = list.Split(',');
        var products = new (long, long)[pairs.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            var colon = pairs[i].IndexOf(':');
            products[i] = (long.Parse(pairs[i].AsSpan(0, colon), CultureInfo.InvariantCulture), long.Parse(pairs[i].AsSpan(colon + 1), CultureInfo.InvariantCulture));
        }

        return products;
    }

    private void OnAcknowledged(RedisValue message)
    {
        var text = (string)message!;
        var separator = text.IndexOf('|');
        if (separator > 0 && _pending.TryGetValue(text[..separator], out var change))
        {
            change.Acknowledged(text[(separator + 1)..]);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        lock (_gate)
        {
            Doubt($"the {e.ConnectionType} connection failed ({e.FailureType})");
        }
    }

    /// <summary>Stops trusting the mirror until a ping after this has emptied it. Called under <see cref="_gate"/>.</summary>
    private void Doubt(string reason)
    {
        if (Volatile.Read(ref _trustedUntil) != 0)
        {
            LogDoubted(_logger, reason);
        }

        _losses++;
        Volatile.Write(ref _trustedUntil, 0);
        Interlocked.Increment(ref _epoch);
    }

    public void Dispose()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _stopping.Cancel();
        _renewals.Wait(TimeSpan.FromSeconds(5));
        _load.Wait(TimeSpan.FromSeconds(5));
        try
        {
            // Writers stop waiting for this process at once instead of after its lease.
            if (_redis.IsConnected)
            {
                _redis.GetDatabase().SortedSetRemove(_members, Id);
            }

            var subscriber = _redis.GetSubscriber();
            subscriber.Unsubscribe(RedisChannel.Literal(_ackPrefix + Id));
            _changeQueue?.Unsubscribe();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnregisterFailed(_logger, exception.Message);
        }

        _stopping.Dispose();
    }

    private sealed record Ping(string Nonce)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A published change and the members that have acknowledged it.</summary>
    internal sealed class PendingChange(string id)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _early = [];
        private HashSet<string>? _waiting;

        public string Id { get; } = id;

        public TaskCompletionSource DoneSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Done => DoneSource.Task;

        public void Acknowledged(string member)
        {
            lock (_gate)
            {
                if (_waiting is null)
                {
                    _early.Add(member);
                }
                else if (_waiting.Remove(member) && _waiting.Count == 0)
                {
                    DoneSource.TrySetResult();
                }
            }
        }

        public void Await(IEnumerable<string> members)
        {
            lock (_gate)
            {
                _waiting = [.. members.Where(member => !_early.Contains(member))];
                if (_waiting.Count == 0)
                {
                    DoneSource.TrySetResult();
                }
            }
        }

        public IReadOnlyList<string> Missing()
        {
            lock (_gate)
            {
                return [.. _waiting ?? []];
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Cache peers {Members} did not acknowledge a change within {Lease}; their leases have run out, so they no longer trust their memory")]
    private static partial void LogSilent(ILogger logger, string members, TimeSpan lease);

    [LoggerMessage(LogLevel.Warning, "The cache's copy of the stamps is no longer trusted, and reads ask Redis until it is renewed: {Reason}")]
    private static partial void LogDoubted(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Information, "Redis holds {Count} product stamps, more than Cache:MaxEntries ({MaxEntries}); reads of products this process has not read yet ask Redis for their stamps")]
    private static partial void LogTooLarge(ILogger logger, long count, long maxEntries);

    [LoggerMessage(LogLevel.Warning, "Loading the cache's copy of the stamps failed; it is tried again at the next renewal: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Warning, "A malformed cache change message was ignored: {Message}")]
    private static partial void LogMalformed(ILogger logger, string message);

    [LoggerMessage(LogLevel.Warning, "Leaving the cache peers failed; writers wait out this process's lease: {Reason}")]
    private static partial void LogUnregisterFailed(ILogger logger, string reason);
}
