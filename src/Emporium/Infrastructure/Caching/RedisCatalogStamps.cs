using Emporium.Features.Catalog.Caching;
using System.Threading.Channels;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// Catalog stamps in Redis (decision 0019), shared by every process. A product's stamp is 0 until its first write, and
/// then always a fresh value of one sequence: it never takes a value it had before, so an entry built at an old stamp
/// can never match again. Product stamps live in one hash with no expiry, so a missing one means "never written" and
/// each process can hold a complete copy (<see cref="StampMirror"/>) that answers every read without asking Redis. The
/// catalog's stamp starts from a random value whenever Redis has lost it (a restart without persistence), which
/// supersedes every entry built before. None of these keys has an expiry: Redis must not evict them (maxmemory-policy
/// volatile-* or noeviction, never allkeys-*). Reads that the copy cannot answer are batched: one script call serves
/// every read that arrived while the previous one was out.
/// </summary>
internal sealed partial class RedisCatalogStamps : ICatalogStamps, IDisposable
{
    // One hash tag: the keys a script touches share a slot on a cluster. KEYS: the catalog, the sequence, the members, the
    // products' hash; ARGV: everything (1/0), a fresh catalog stamp, this process, the change, the channel, then the
    // product ids. Raises, publishes the new stamps and answers who must acknowledge them, in one step.
    private const string RaiseScript = """
        local restarted = '0'
        local catalog = redis.call('GET', KEYS[1])
        if not catalog then
          redis.call('SET', KEYS[1], ARGV[2])
          catalog = ARGV[2]
          restarted = '1'
        end
        local before = {catalog}
        local after = {}
        local changed = {}
        for i = 6, #ARGV do
          before[#before + 1] = redis.call('HGET', KEYS[4], ARGV[i]) or '0'
          local stamp = redis.call('INCR', KEYS[2])
          redis.call('HSET', KEYS[4], ARGV[i], stamp)
          after[#after + 1] = stamp
          changed[#changed + 1] = ARGV[i] .. ':' .. string.format('%d', stamp)
        end
        if ARGV[1] == '1' then
          redis.call('INCR', KEYS[1])
          catalog = redis.call('GET', KEYS[1])
        end
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
        redis.call('PUBLISH', ARGV[5], 'c|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. restarted .. '|' .. catalog .. '|' .. table.concat(changed, ','))
        return {before, after, catalog, restarted, redis.call('ZRANGE', KEYS[3], 0, -1)}
        """;

    // Reads the catalog's stamp and the products' in one step. KEYS: the catalog, the products' hash; ARGV: a fresh
    // catalog stamp, the changes channel, then the product ids. A missing product stamp is 0 (never written); a missing
    // catalog stamp means Redis lost its data, and every process empties its copy of the stamps.
    private const string ReadScript = """
        local catalog = redis.call('GET', KEYS[1])
        if not catalog then
          if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
            redis.call('PUBLISH', ARGV[2], 'r|')
          end
          catalog = redis.call('GET', KEYS[1])
        end
        local stamps = {catalog}
        for i = 3, #ARGV do
          stamps[#stamps + 1] = redis.call('HGET', KEYS[2], ARGV[i]) or '0'
        end
        return stamps
        """;

    /// <summary>Most product stamps one read asks for.</summary>
    private const int MaxBatch = 512;

    /// <summary>Most reads waiting for their stamps; beyond it (Redis slow) reads go to the database instead of queueing.</summary>
    private const int MaxWaiting = 4096;

    private readonly Channel<(long ProductId, TaskCompletionSource<CatalogStamp?> Read)> _reads =
        Channel.CreateBounded<(long, TaskCompletionSource<CatalogStamp?>)>(new BoundedChannelOptions(MaxWaiting) { SingleReader = true });

    private readonly Task _batches;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger _logger;
    private readonly RedisKey _sequence;
    private readonly StampMirror _mirror;

    /// <summary>This process's copy of the stamps (for tests).</summary>
    internal StampMirror Mirror => _mirror;
    /// <summary>
    /// Raises that could not be made, and how many of them a whole-catalog raise has superseded since: while they differ,
    /// the whole catalog must be superseded before the stamps are trusted again.
    /// </summary>
    private long _missedRaises;
    private long _repairedThrough;

    private int _repairing;

    private readonly CacheMetrics? _metrics;

    public RedisCatalogStamps(IConnectionMultiplexer redis, CacheOptions options, ILogger<RedisCatalogStamps> logger, CacheMetrics? metrics = null)
    {
        (_redis, _logger, _metrics) = (redis, logger, metrics);
        _mirror = new StampMirror(redis, options, logger);
        _sequence = $"{options.KeyPrefix}{{stamps}}:sequence";
        _redis.ConnectionRestored += OnRestored;
        _batches = Task.Run(ReadInBatchesAsync);
    }

    public ValueTask<CatalogStamp?> ReadAsync(long productId, CancellationToken cancellationToken)
    {
        if (!Trusted())
        {
            return ValueTask.FromResult<CatalogStamp?>(null);
        }

        if (_mirror.TryRead(productId, out var known))
        {
            _metrics?.StampsRead(fromMemory: true);
            return ValueTask.FromResult<CatalogStamp?>(known);
        }

        _metrics?.StampsRead(fromMemory: false);
        // Continuations run on the thread pool, not on the loop that completes a whole batch.
        var read = new TaskCompletionSource<CatalogStamp?>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _reads.Writer.TryWrite((productId, read)) ? new ValueTask<CatalogStamp?>(read.Task) : ValueTask.FromResult<CatalogStamp?>(null);
    }

    /// <summary>
    /// Reads the stamps of every product asked for since the last batch in one round trip: under load, one command serves all
    /// the reads that arrived while the previous one was out, instead of one each.
    /// </summary>
    private async Task ReadInBatchesAsync()
    {
        var batch = new List<(long ProductId, TaskCompletionSource<CatalogStamp?> Read)>(MaxBatch);
        var stamps = new (long ProductId, long Stamp)[MaxBatch];
        while (await _reads.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _reads.Reader.TryRead(out var read))
            {
                batch.Add(read);
            }

            try
            {
                var epoch = _mirror.Epoch;
                var ids = new long[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                {
                    ids[i] = batch[i].ProductId;
                }

                var (catalog, values) = await ReadStampsAsync(ids);
                for (var i = 0; i < batch.Count; i++)
                {
                    stamps[i] = (ids[i], values[i]);
                }

                _mirror.Record(epoch, stamps.AsSpan(0, batch.Count), catalog);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Read.TrySetResult(new CatalogStamp(values[i], catalog));
                }
            }
            catch (Exception exception)
            {
                if (exception is RedisException or TimeoutException)
                {
                    LogUnreachable(_logger, exception.Message);
                }
                else
                {
                    LogBatchFailed(_logger, exception);
                }

                foreach (var (_, read) in batch)
                {
                    read.TrySetResult(null);
                }
            }
        }
    }

    public async ValueTask<long?> ReadCatalogAsync(CancellationToken cancellationToken)
    {
        if (!Trusted())
        {
            return null;
        }

        if (_mirror.TryReadCatalog(out var known))
        {
            return known;
        }

        try
        {
            var epoch = _mirror.Epoch;
            var (catalog, _) = await ReadStampsAsync([]);
            _mirror.Record(epoch, [], catalog);
            return catalog;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnreachable(_logger, exception.Message);
            return null;
        }
    }

    public async ValueTask<IReadOnlyList<(long ProductId, CatalogStamp Before)>> RaiseAsync(
        IReadOnlyCollection<long> productIds, bool everything, CancellationToken cancellationToken) =>
        await TryRaiseAsync(productIds, everything) ?? [];

    /// <summary>Raises the stamps and waits for the acknowledgements; null when Redis did not take the raise.</summary>
    private async Task<IReadOnlyList<(long ProductId, CatalogStamp Before)>?> TryRaiseAsync(IReadOnlyCollection<long> productIds, bool everything)
    {
        RedisKey[] keys = [_mirror.CatalogKey, _sequence, _mirror.MembersKey, _mirror.ProductsKey];
        var change = _mirror.Expect();
        var arguments = new RedisValue[productIds.Count + 5];
        (arguments[0], arguments[1], arguments[2]) = (everything ? 1 : 0, FreshCatalogStamp(), _mirror.Id);
        (arguments[3], arguments[4]) = (change.Id, _mirror.ChangesChannel);
        var i = 0;
        foreach (var id in productIds)
        {
            arguments[i + 5] = id;
            i++;
        }

        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(RaiseScript, keys, arguments))!;
        }
        catch (Exception exception)
        {
            // Another process may serve what this change superseded until the stamps can be raised: the whole catalog is
            // superseded as soon as Redis takes it (Trusted, OnRestored), and reads here go to the database until then.
            _mirror.Forget(change);
            Interlocked.Increment(ref _missedRaises);
            LogMissed(_logger, productIds.Count, exception.Message);
            return null;
        }

        var (before, after, catalog) = ((RedisResult[])result[0]!, (RedisResult[])result[1]!, (long)result[2]);
        var raised = new (long ProductId, long Stamp)[productIds.Count];
        var superseded = new List<(long ProductId, CatalogStamp Before)>(productIds.Count);
        i = 0;
        foreach (var id in productIds)
        {
            raised[i] = (id, (long)after[i]);
            superseded.Add((id, new CatalogStamp((long)before[i + 1], (long)before[0])));
            i++;
        }

        _mirror.Apply(raised, catalog, restarted: (string?)result[3] == "1");
        // The write answers once every live process has the new stamps (or has stopped trusting its copy).
        await _mirror.AcknowledgedAsync(change, (string[])result[4]!, CancellationToken.None);
        return superseded;
    }

    /// <summary>The catalog's stamp and those of <paramref name="productIds"/>, in one round trip.</summary>
    private async Task<(long Catalog, long[] Products)> ReadStampsAsync(long[] productIds)
    {
        var arguments = new RedisValue[productIds.Length + 2];
        (arguments[0], arguments[1]) = (FreshCatalogStamp(), _mirror.ChangesChannel);
        for (var i = 0; i < productIds.Length; i++)
        {
            arguments[i + 2] = productIds[i];
        }

        var values = (RedisValue[])(await _redis.GetDatabase().ScriptEvaluateAsync(ReadScript, [_mirror.CatalogKey, _mirror.ProductsKey], arguments))!;
        var products = new long[productIds.Length];
        for (var i = 0; i < products.Length; i++)
        {
            products[i] = (long)values[i + 1];
        }

        return ((long)values[0], products);
    }

    public void Dispose()
    {
        _redis.ConnectionRestored -= OnRestored;
        _reads.Writer.TryComplete();
        _batches.Wait(TimeSpan.FromSeconds(5));
        _mirror.Dispose();
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            Trusted();
        }
    }

    /// <summary>
    /// Whether reads may use the stamps: connected, and no raise missed. A missed raise is repaired here, in the background
    /// and once at a time, by superseding the whole catalog; until that succeeds, reads go to the database.
    /// </summary>
    private bool Trusted()
    {
        if (!_redis.IsConnected)
        {
            return false;
        }

        var missed = Interlocked.Read(ref _missedRaises);
        if (missed == Interlocked.Read(ref _repairedThrough))
        {
            return true;
        }

        if (Interlocked.Exchange(ref _repairing, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    // Trusted again only once the raise has landed: the misses up to here are then superseded (one repairer
                    // at a time; a miss after this read keeps the stamps untrusted for another repair).
                    if (await TryRaiseAsync([], everything: true) is not null)
                    {
                        Interlocked.Exchange(ref _repairedThrough, missed);
                    }
                }
                finally
                {
                    Interlocked.Exchange(ref _repairing, 0);
                }
            });
        }

        return false;
    }

    /// <summary>A catalog stamp no earlier run can have used (about 2^52 values; INCR keeps it an integer).</summary>
    private static long FreshCatalogStamp() => Random.Shared.NextInt64(1L << 52);

    [LoggerMessage(LogLevel.Warning, "Redis cannot be reached for cache stamps; reads go to the database: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Error, "Reading cache stamps failed; the reads went to the database")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Redis cannot be reached to supersede {Count} products' cache entries; the whole catalog will be superseded once it is back: {Reason}")]
    private static partial void LogMissed(ILogger logger, int count, string reason);
}
