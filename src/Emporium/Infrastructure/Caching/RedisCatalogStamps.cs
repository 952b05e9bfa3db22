using Emporium.Features.Catalog.Caching;
using System.Threading.Channels;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// Catalog stamps in Redis (decision 0019), shared by every process. A product's stamp is set from one sequence, so it never
/// takes a value it had before, even after it expired; the catalog's starts from a random value whenever Redis has lost it
/// (a restart without persistence), so no entry built before the loss can match again. Reads are batched: one MGET
/// serves every read that arrived while the previous one was out.
/// </summary>
internal sealed partial class RedisCatalogStamps : ICatalogStamps, IDisposable
{
    /// <summary>How long a product's stamp outlives its last write: far longer than any entry (Cache:Duration is at most 6 hours).</summary>
    private static readonly TimeSpan ProductStampLifetime = TimeSpan.FromDays(1);

    // One hash tag: the keys a script touches share a slot on a cluster.
    private const string RaiseScript = """
        local catalog = redis.call('GET', KEYS[1])
        if not catalog then
          redis.call('SET', KEYS[1], ARGV[3])
          catalog = ARGV[3]
        end
        local before = {catalog}
        for i = 3, #KEYS do
          before[#before + 1] = redis.call('GET', KEYS[i]) or '0'
          redis.call('SET', KEYS[i], redis.call('INCR', KEYS[2]), 'EX', ARGV[2])
        end
        if ARGV[1] == '1' then
          redis.call('INCR', KEYS[1])
        end
        return before
        """;

    private const string StartCatalogScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'NX')
        return redis.call('GET', KEYS[1])
        """;

    /// <summary>Most product stamps one MGET reads.</summary>
    private const int MaxBatch = 512;

    private readonly Channel<(long ProductId, TaskCompletionSource<CatalogStamp?> Read)> _reads =
        Channel.CreateUnbounded<(long, TaskCompletionSource<CatalogStamp?>)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Task _batches;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger _logger;
    private readonly RedisKey _catalog;
    private readonly RedisKey _sequence;
    private readonly string _productPrefix;
    private int _missedWhileAway;

    public RedisCatalogStamps(IConnectionMultiplexer redis, string keyPrefix, ILogger<RedisCatalogStamps> logger)
    {
        (_redis, _logger) = (redis, logger);
        _catalog = $"{keyPrefix}{{stamps}}:catalog";
        _sequence = $"{keyPrefix}{{stamps}}:sequence";
        _productPrefix = $"{keyPrefix}{{stamps}}:product:";
        _redis.ConnectionRestored += OnRestored;
        _batches = Task.Run(ReadInBatchesAsync);
    }

    public ValueTask<CatalogStamp?> ReadAsync(long productId, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            return ValueTask.FromResult<CatalogStamp?>(null);
        }

        // Continuations run on the thread pool, not on the loop that completes a whole batch.
        var read = new TaskCompletionSource<CatalogStamp?>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _reads.Writer.TryWrite((productId, read)) ? new ValueTask<CatalogStamp?>(read.Task) : ValueTask.FromResult<CatalogStamp?>(null);
    }

    /// <summary>
    /// Reads the stamps of every product asked for since the last batch with one MGET: under load, one command and one
    /// round trip serve all the reads that arrived while the previous one was out, instead of one each.
    /// </summary>
    private async Task ReadInBatchesAsync()
    {
        var batch = new List<(long ProductId, TaskCompletionSource<CatalogStamp?> Read)>(MaxBatch);
        while (await _reads.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _reads.Reader.TryRead(out var read))
            {
                batch.Add(read);
            }

            try
            {
                var keys = new RedisKey[batch.Count + 1];
                keys[0] = _catalog;
                for (var i = 0; i < batch.Count; i++)
                {
                    keys[i + 1] = _productPrefix + batch[i].ProductId;
                }

                var database = _redis.GetDatabase();
                var values = await database.StringGetAsync(keys);
                var catalog = values[0].IsNull ? await StartCatalogAsync(database) : values[0];
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Read.TrySetResult(new CatalogStamp(values[i + 1].IsNull ? 0 : (long)values[i + 1], (long)catalog));
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
        if (!_redis.IsConnected)
        {
            return null;
        }

        try
        {
            var database = _redis.GetDatabase();
            var catalog = await database.StringGetAsync(_catalog);
            return (long)(catalog.IsNull ? await StartCatalogAsync(database) : catalog);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnreachable(_logger, exception.Message);
            return null;
        }
    }

    public async ValueTask<IReadOnlyList<(long ProductId, CatalogStamp Before)>> RaiseAsync(
        IReadOnlyCollection<long> productIds, bool everything, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[productIds.Count + 2];
        (keys[0], keys[1]) = (_catalog, _sequence);
        var i = 2;
        foreach (var id in productIds)
        {
            keys[i++] = _productPrefix + id;
        }

        try
        {
            var result = (RedisResult[])(await _redis.GetDatabase().ScriptEvaluateAsync(
                RaiseScript, keys, [everything ? 1 : 0, (long)ProductStampLifetime.TotalSeconds, FreshCatalogStamp()]))!;
            var catalog = (long)result[0];
            return productIds.Select((id, index) => (id, new CatalogStamp((long)result[index + 1], catalog))).ToList();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Another process may serve what this change superseded until the stamps can be raised: once Redis is back,
            // everything is superseded (OnRestored). Reads in this process bypass the cache until then.
            Interlocked.Exchange(ref _missedWhileAway, 1);
            LogMissed(_logger, productIds.Count, exception.Message);
            return [];
        }
    }

    private async Task<RedisValue> StartCatalogAsync(IDatabase database) =>
        (RedisValue)await database.ScriptEvaluateAsync(StartCatalogScript, [_catalog], [FreshCatalogStamp()]);

    public void Dispose()
    {
        _redis.ConnectionRestored -= OnRestored;
        _reads.Writer.TryComplete();
        _batches.Wait(TimeSpan.FromSeconds(5));
    }

    private async void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive || Interlocked.Exchange(ref _missedWhileAway, 0) == 0)
        {
            return;
        }

        try
        {
            await RaiseAsync([], everything: true, CancellationToken.None);
        }
        catch (Exception exception)
        {
            LogMissed(_logger, 0, exception.Message);
        }
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
