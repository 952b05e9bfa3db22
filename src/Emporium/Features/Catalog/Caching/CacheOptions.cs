using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Caching;

/// <summary>Where cached catalog reads live (decision 0019).</summary>
public enum CacheProvider
{
    /// <summary>No cache: every read goes to the database (the benchmark's baseline).</summary>
    None,

    /// <summary>In-process only: right for one API process.</summary>
    Memory,

    /// <summary>In-process, then Redis, with invalidation across processes: required when more than one API process runs.</summary>
    Redis,
}

/// <summary>The read cache's settings (section Cache, decision 0019).</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>None, Memory (the default) or Redis. Setting REDIS_URL alone selects Redis.</summary>
    public CacheProvider Provider { get; set; } = CacheProvider.Memory;

    /// <summary>The Redis connection: a StackExchange.Redis configuration string (host:port,password=...) or a redis:// URL.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// How long an entry may live. A write never waits for it: every write supersedes the entries it affects at once, so
    /// this only bounds the memory a read-once product holds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "06:00:00")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most entries one process keeps in memory; the least recently used go first beyond it.</summary>
    [Range(100, 100_000_000)]
    public long MaxEntries { get; set; } = 200_000;

    /// <summary>
    /// With Redis: how many times this process reads a product it loaded from the database before it writes the entry to
    /// Redis for the other processes. At 2, the default, a product read once (a crawler's walk, the long tail behind a
    /// hot set) costs Redis nothing: no write, no serialization, no memory. 1 shares every load at once (many API processes
    /// reading the same products right after each write). An entry read from Redis is never written back.
    /// </summary>
    [Range(1, 100)]
    public int RedisAfterReads { get; set; } = 2;

    /// <summary>
    /// With Redis: how long another process may stay silent before a write stops waiting for its acknowledgement. Each
    /// process renews its lease three times per period and trusts its copy of the stamps only while the lease runs, so a
    /// write waits at most this long when a process hangs or dies without leaving (decision 0019).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan PeerLease { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Prefix of every Redis key, so deployments can share one Redis.</summary>
    [RegularExpression("^[A-Za-z0-9:_.-]{0,64}$")]
    public string KeyPrefix { get; set; } = "emporium:";
}
