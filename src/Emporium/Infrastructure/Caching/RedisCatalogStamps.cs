using Emporium.Features.Catalog.Caching;
using StackExchange.Redis;

namespace Emporium.Infrastructure.Caching;

/// <summary>
/// Catalog stamps in Redis (decision 0019), shared by every process. A product's stamp is set from one sequence, so it never
/// takes a value it had before, even after it expired; the catalog's starts from a random value whenever Redis has lost it
/// (a restart without persistence), so no entry built before the loss can match again. A read is one MGET.
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
    }

    public async ValueTask<CatalogStamp?> ReadAsync(long productId, CancellationToken cancellationToken)
    {
        if (!_redis.IsConnected)
        {
            return null;
        }

        try
        {
            var database = _redis.GetDatabase();
            var values = await database.StringGetAsync([(RedisKey)(_productPrefix + productId), _catalog]);
            var catalog = values[1];
            if (catalog.IsNull)
            {
                catalog = await StartCatalogAsync(database);
            }

            return new CatalogStamp(values[0].IsNull ? 0 : (long)values[0], (long)catalog);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnreachable(_logger, exception.Message);
            return null;
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

    public void Dispose() => _redis.ConnectionRestored -= OnRestored;

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

    [LoggerMessage(LogLevel.Warning, "Redis cannot be reached to supersede {Count} products' cache entries; the whole catalog will be superseded once it is back: {Reason}")]
    private static partial void LogMissed(ILogger logger, int count, string reason);
}
