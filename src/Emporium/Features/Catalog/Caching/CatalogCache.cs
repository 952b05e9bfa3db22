using System.Diagnostics.Metrics;
using System.Text.Json.Serialization;
using Emporium.Features.Catalog.Products;
using ZiggyCreatures.Caching.Fusion;

namespace Emporium.Features.Catalog.Caching;

/// <summary>
/// Cache-aside product reads (decision 0019). Entries hold a product as <see cref="IProductReads"/> loads it, before
/// anyone's visibility is applied, so one entry serves every caller and the caller's rights are checked on every read.
/// An entry's key carries the product's and the catalog's stamps: a write raises them after it commits and before it
/// answers (<see cref="CatalogChangeInterceptor"/>), so no read that starts after a write has returned can find an entry
/// built before it, in this process or any other. FusionCache layers memory over Redis, loads a missing key once however
/// many requests ask for it, and through its backplane drops superseded entries from every process's memory.
/// </summary>
public sealed partial class CatalogCache(
    IFusionCache cache,
    ICatalogStamps stamps,
    ISharedEntries sharedEntries,
    IProductReads reads,
    IOptions<CacheOptions> options,
    CacheMetrics metrics,
    ILogger<CatalogCache> logger)
{
    /// <summary>Entries of another build are never read: the key names the build whose types wrote them.</summary>
    private static readonly string Build = typeof(CatalogCache).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8];

    /// <summary>Beyond this many products in one change (a bulk delete's batch), the catalog's stamp is raised instead.</summary>
    private const int MaxProductsSupersededOneByOne = 256;

    private readonly bool _enabled = options.Value.Provider != CacheProvider.None;

    private readonly FusionCacheEntryOptions _memoryOnly = cache.CreateEntryOptions(entry => entry.SetSkipDistributedCache(true, true));

    // Sets skip the backplane (a versioned key is never older elsewhere); removals tell every process.
    private readonly FusionCacheEntryOptions _everywhere = cache.CreateEntryOptions(entry => entry.SkipBackplaneNotifications = false);

    // With Redis, a product loaded from the database goes into memory, and into Redis once read here again that many
    // times (Cache:RedisAfterReads).
    private readonly int _readsBeforeSharing = options.Value.Provider == CacheProvider.Redis ? options.Value.RedisAfterReads - 1 : 0;

    private readonly FusionCacheEntryOptions? _loaded = options.Value.Provider == CacheProvider.Redis && options.Value.RedisAfterReads > 1
        ? cache.CreateEntryOptions(entry => entry.SetSkipDistributedCacheWrite(true, true))
        : null;

    // The same for a product no process has shared: Redis is not asked, it could only miss.
    private readonly FusionCacheEntryOptions? _unshared = options.Value.Provider == CacheProvider.Redis && options.Value.RedisAfterReads > 1
        ? cache.CreateEntryOptions(entry => entry.SetSkipDistributedCacheWrite(true, true).SetSkipDistributedCacheRead(true))
        : null;

    private readonly FusionCacheEntryOptions _shared = cache.CreateEntryOptions(entry => entry.SetSkipMemoryCacheWrite(true));

    private delegate Task<ProductDetailData?> Loader(long? id, string? slug, CancellationToken cancellationToken);

    /// <summary>
    /// The product <paramref name="reference"/> names as its own read shows it to <paramref name="user"/> (decision 0013: inactive
    /// and deleted products to staff and the owning seller only); null when there is none the caller may see. The
    /// request's services (<paramref name="services"/>) are asked for a DbContext only on a miss, and only by an adapter that
    /// needs one: on a hit nothing of the database is touched.
    /// </summary>
    public async Task<ProductDetailData?> VisibleProductAsync(
        CatalogRef reference, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken) =>
        await ProductAsync(reference, (id, slug, token) => reads.FindCommittedAsync(services, id, slug, token), cancellationToken) is { } data
        && user.CanSee(data.Row.IsActive, data.Row.DeletedAt, data.Row.OwnerId, includeDeleted: true)
            ? data
            : null;

    /// <summary>The product <paramref name="reference"/> names, from the cache when it holds the current version.</summary>
    private async Task<ProductDetailData?> ProductAsync(CatalogRef reference, Loader load, CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return await load(reference.Id, reference.Slug, cancellationToken);
        }

        if (reference.Id is { } id)
        {
            return await ByIdAsync(id, load, cancellationToken);
        }

        // A slug is remembered as the id it named; the product read through it must still carry that slug, or the slug has
        // moved (renamed, or taken by another product) and is looked up again.
        var slug = reference.Slug!;
        var slugKey = $"{Build}:slug:{slug}";
        var mapped = await cache.TryGetAsync<long>(slugKey, token: cancellationToken);
        if (mapped.HasValue)
        {
            var found = await ByIdAsync(mapped.Value, load, cancellationToken);
            if (found is not null && string.Equals(found.Row.Slug, slug, StringComparison.Ordinal))
            {
                metrics.Looked("slug", hit: true);
                return found;
            }

            await cache.RemoveAsync(slugKey, _everywhere, cancellationToken);
        }

        var data = await load(null, slug, cancellationToken);
        metrics.Looked("slug", hit: false);
        if (data is not null)
        {
            await cache.SetAsync(slugKey, data.Row.Id, token: cancellationToken);
        }

        return data;
    }

    /// <summary>
    /// A list that changes only with the catalog's stamp (brands, categories, attributes), for the request
    /// <paramref name="request"/> (its scheme, host, path and query: the answer's links name them). Kept in memory only:
    /// it is cheap to load, and its key already carries the version. A request with a query parameter outside
    /// <paramref name="parameters"/> (those the list reads) is answered from the database: made-up parameters
    /// (?x=1, ?x=2, ...) would otherwise each store a copy of a full page, pushing out what is worth keeping.
    /// </summary>
    public async Task<T> ListAsync<T>(
        HttpRequest request, IReadOnlyCollection<string> parameters, Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        if (_enabled && request.Query.Keys.Any(key => !parameters.Contains(key)))
        {
            metrics.Bypassed("list");
            return await load(cancellationToken);
        }

        return await CatalogWideAsync(
            $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}", load, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ListAsync"/> for an answer that takes no parameters and names no URL (the category tree): one entry
    /// whatever query string a client adds, so made-up ones cannot fill the cache with copies.
    /// </summary>
    public Task<T> WholeAsync<T>(string name, Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken) =>
        CatalogWideAsync($"whole:{name}", load, cancellationToken);

    private async Task<T> CatalogWideAsync<T>(string what, Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return await load(cancellationToken);
        }

        if (await stamps.ReadCatalogAsync(cancellationToken) is not { } catalog)
        {
            metrics.Bypassed("list");
            return await load(cancellationToken);
        }

        var loaded = false;
        var value = await cache.GetOrSetAsync<T>(
            $"{Build}:list:{catalog}:{what}",
            async (_, token) =>
            {
                loaded = true;
                return await load(token);
            },
            _memoryOnly,
            cancellationToken);
        metrics.Looked("list", hit: !loaded);
        return value;
    }

    /// <summary>Supersedes the entries of <paramref name="productIds"/>, or of every product; called once the change has committed.</summary>
    public async Task ChangedAsync(IReadOnlyCollection<long> productIds, bool everything, CancellationToken cancellationToken)
    {
        if (!_enabled || (productIds.Count == 0 && !everything))
        {
            return;
        }

        if (productIds.Count > MaxProductsSupersededOneByOne)
        {
            (productIds, everything) = ([], true);
        }

        var before = await stamps.RaiseAsync(productIds, everything, cancellationToken);
        LogChanged(logger, productIds.Count, everything);
        foreach (var (productId, stamp) in before)
        {
            // Memory only, here and (through the backplane) in every process: the entry is unreachable already (its key
            // names the old stamp).
            await cache.RemoveAsync(Key(productId, stamp), _everywhere, CancellationToken.None);
        }
    }

    private async Task<ProductDetailData?> ByIdAsync(long id, Loader load, CancellationToken cancellationToken)
    {
        if (await stamps.ReadAsync(id, cancellationToken) is not { } stamp)
        {
            metrics.Bypassed("product");
            return await load(id, null, cancellationToken);
        }

        var loaded = false;
        var key = Key(id, stamp);
        var unshared = _unshared is not null && !sharedEntries.MayHold(key);
        var entry = await cache.GetOrSetAsync<ProductEntry>(
            key,
            async (_, token) =>
            {
                loaded = true;
                return new ProductEntry(await load(id, null, token)) { ReadsBeforeSharing = _readsBeforeSharing };
            },
            unshared ? _unshared : _loaded,
            cancellationToken);
        metrics.Looked("product", hit: !loaded);
        if (loaded && unshared)
        {
            metrics.RedisSkipped();
        }

        LogLookup(logger, id, loaded ? "miss" : "hit");
        if (!loaded && entry.ReadAgain())
        {
            // Read again in this process: likely wanted by the others too. The write itself runs in the background.
            await cache.SetAsync(key, entry, _shared, CancellationToken.None);
            sharedEntries.Shared(key);
        }

        return entry.Data;
    }

    private static string Key(long id, CatalogStamp stamp) => $"{Build}:product:{id}:{stamp.Product}:{stamp.Catalog}";

    [LoggerMessage(LogLevel.Debug, "Cache {Outcome} for product {ProductId}")]
    private static partial void LogLookup(ILogger logger, long productId, string outcome);

    [LoggerMessage(LogLevel.Debug, "Cache superseded {Count} products' entries (whole catalog: {Everything})")]
    private static partial void LogChanged(ILogger logger, int count, bool everything);
}

/// <summary>
/// A product's entry: the product (null when there is none), and, for one this process loaded from the database, how many
/// more reads here it takes before the entry goes to Redis (Cache:RedisAfterReads). An entry read from Redis has none to
/// wait for: it is shared already.
/// </summary>
public sealed class ProductEntry(ProductDetailData? data)
{
    private int _readsBeforeSharing;

    public ProductDetailData? Data { get; } = data;

    [JsonIgnore]
    public int ReadsBeforeSharing
    {
        get => Volatile.Read(ref _readsBeforeSharing);
        init => _readsBeforeSharing = value;
    }

    /// <summary>Counts a read from memory; true for the one read after which the entry is to be shared.</summary>
    public bool ReadAgain() => Volatile.Read(ref _readsBeforeSharing) > 0 && Interlocked.Decrement(ref _readsBeforeSharing) == 0;
}

/// <summary>Cache hits, misses and bypasses (reads while the stamps cannot be reached), by entry kind, on meter Emporium.Cache.</summary>
public sealed class CacheMetrics : IDisposable
{
    public const string MeterName = "Emporium.Cache";

    private readonly Meter _meter;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _stampReads;
    private readonly Counter<long> _redisSkips;

    public CacheMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _lookups = _meter.CreateCounter<long>("emporium.cache.lookups", "{lookup}", "Catalog cache lookups by entry kind and outcome (hit, miss, bypass).");
        _stampReads = _meter.CreateCounter<long>(
            "emporium.cache.stamp_reads", "{read}", "With Redis: stamps a read took from the process's acknowledged copy (source memory) or asked Redis for (source redis).");
        _redisSkips = _meter.CreateCounter<long>(
            "emporium.cache.redis_skips", "{miss}", "With Redis: product misses loaded from the database without asking Redis, since no process had shared the entry.");
    }

    public void Looked(string entry, bool hit) =>
        _lookups.Add(1, new KeyValuePair<string, object?>("entry", entry), new KeyValuePair<string, object?>("outcome", hit ? "hit" : "miss"));

    public void Bypassed(string entry) =>
        _lookups.Add(1, new KeyValuePair<string, object?>("entry", entry), new KeyValuePair<string, object?>("outcome", "bypass"));

    public void RedisSkipped() => _redisSkips.Add(1);

    public void StampsRead(bool fromMemory) => _stampReads.Add(1, new KeyValuePair<string, object?>("source", fromMemory ? "memory" : "redis"));

    public void Dispose() => _meter.Dispose();
}
