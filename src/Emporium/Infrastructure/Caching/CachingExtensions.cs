using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog.Products;
using Emporium.Platform.Health;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Emporium.Infrastructure.Caching;

/// <summary>The read cache (decision 0019): FusionCache in memory, over Redis with its backplane when Cache:Provider is Redis.</summary>
public static class CachingExtensions
{
    public static IServiceCollection AddCaching(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<CacheOptions>(CacheOptions.Section)
            .PostConfigure<IOptions<EmporiumOptions>>((cache, emporium) =>
            {
                var url = configuration["REDIS_URL"];
                var chosen = configuration[$"{CacheOptions.Section}:Provider"] is not null;
                if (string.IsNullOrWhiteSpace(cache.Redis) && !string.IsNullOrWhiteSpace(url))
                {
                    cache.Redis = url;
                    if (!chosen)
                    {
                        cache.Provider = CacheProvider.Redis;
                        chosen = true;
                    }
                }

                if (!chosen && !string.IsNullOrWhiteSpace(cache.Redis))
                {
                    cache.Provider = CacheProvider.Redis;
                    chosen = true;
                }

                // A process that runs only the API or only workers is one of several: an in-process cache would not see
                // what the others write (imports, image jobs), so without Redis the default is no cache at all.
                if (!chosen && emporium.Value.Role != HostRole.All)
                {
                    cache.Provider = CacheProvider.None;
                }
            })
            .Validate(cache => cache.Provider != CacheProvider.Redis || !string.IsNullOrWhiteSpace(cache.Redis),
                "Cache:Provider is Redis, but neither Cache:Redis nor REDIS_URL gives the connection.");

        services.AddSingleton<CacheMetrics>();
        services.AddSingleton<CatalogCache>();
        services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor, CatalogChangeInterceptor>();
        services.AddSingleton<IFusionCache>(CreateFusionCache);
        services.AddSingleton<ICatalogStamps>(provider =>
            provider.GetRequiredService<IOptions<CacheOptions>>().Value.Provider == CacheProvider.Redis
                ? new RedisCatalogStamps(
                    provider.GetRequiredService<RedisConnection>().Multiplexer,
                    provider.GetRequiredService<IOptions<CacheOptions>>().Value,
                    provider.GetRequiredService<ILogger<RedisCatalogStamps>>(),
                    provider.GetRequiredService<CacheMetrics>())
                : new InProcessCatalogStamps());
        // Tells which entries are in Redis only when a load is not shared at once (Cache:RedisAfterReads above 1).
        services.AddSingleton<ISharedEntries>(provider =>
            provider.GetRequiredService<IOptions<CacheOptions>>().Value is { Provider: CacheProvider.Redis, RedisAfterReads: > 1 } settings
                ? new RedisSharedEntries(
                    provider.GetRequiredService<RedisConnection>().Multiplexer, settings, provider.GetRequiredService<ILogger<RedisSharedEntries>>())
                : new EveryEntryShared());
        services.AddSingleton<RedisConnection>();
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "cache", provider => ActivatorUtilities.CreateInstance<CacheHealthCheck>(provider), HealthStatus.Degraded, [HealthEndpoints.Ready]));
        return services;
    }

    private static FusionCache CreateFusionCache(IServiceProvider provider)
    {
        var settings = provider.GetRequiredService<IOptions<CacheOptions>>().Value;
        var options = new FusionCacheOptions
        {
            // Redis trouble never fails a read: the entry is loaded from the database, and Redis is left alone a moment.
            DistributedCacheCircuitBreakerDuration = TimeSpan.FromSeconds(2),
            BackplaneCircuitBreakerDuration = TimeSpan.FromSeconds(2),
            DefaultEntryOptions = new FusionCacheEntryOptions
            {
                Duration = settings.Duration,
                Size = 1,
                DistributedCacheSoftTimeout = TimeSpan.FromMilliseconds(250),
                DistributedCacheHardTimeout = TimeSpan.FromSeconds(1),
                AllowBackgroundDistributedCacheOperations = true,
                // An entry's key names its version: another process's copy of the same key is never older, so a set has
                // nothing to tell the others. Removals of superseded versions ask for the backplane (CatalogCache).
                SkipBackplaneNotifications = true,
            },
        };
        var memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = settings.MaxEntries });
        var cache = new FusionCache(options, memory, provider.GetRequiredService<ILogger<FusionCache>>());
        if (settings.Provider == CacheProvider.Redis)
        {
            var redis = provider.GetRequiredService<RedisConnection>().Multiplexer;
            cache.SetupDistributedCache(
                new RedisCache(new RedisCacheOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult(redis),
                    InstanceName = settings.KeyPrefix,
                }),
                // Fields included: FusionCache's own envelope holds value tuples (it warns at start-up without them).
                new FusionCacheSystemTextJsonSerializer(new JsonSerializerOptions(ProductDetailData.Json) { IncludeFields = true }));
            cache.SetupBackplane(new RedisBackplane(new RedisBackplaneOptions { ConnectionMultiplexerFactory = () => Task.FromResult(redis) }));
        }

        return cache;
    }

    /// <summary>The one Redis connection of the process, made on first use; it reconnects by itself.</summary>
    internal sealed class RedisConnection(IOptions<CacheOptions> options) : IDisposable
    {
        private readonly Lazy<IConnectionMultiplexer> _multiplexer = new(() => ConnectionMultiplexer.Connect(RedisConfiguration.Parse(options.Value.Redis!)));

        public IConnectionMultiplexer Multiplexer => _multiplexer.Value;

        public bool IsCreated => _multiplexer.IsValueCreated;

        public void Dispose()
        {
            if (_multiplexer.IsValueCreated)
            {
                _multiplexer.Value.Dispose();
            }
        }
    }

    /// <summary>
    /// Redis down is not the service down: reads go to the database, so the check says Degraded (still 200). The in-process
    /// cache has nothing to check.
    /// </summary>
    private sealed class CacheHealthCheck(IOptions<CacheOptions> options, IServiceProvider services) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (options.Value.Provider != CacheProvider.Redis)
            {
                return HealthCheckResult.Healthy($"Cache:Provider is {options.Value.Provider}.");
            }

            var redis = services.GetRequiredService<RedisConnection>().Multiplexer;
            if (!redis.IsConnected)
            {
                return HealthCheckResult.Degraded("Redis cannot be reached: reads go to the database until it is back.");
            }

            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0.0} ms.");
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                return HealthCheckResult.Degraded($"Redis did not answer: {exception.Message}");
            }
        }
    }
}

/// <summary>Turns Cache:Redis (a StackExchange.Redis configuration string or a redis:// or rediss:// URL) into client options.</summary>
internal static class RedisConfiguration
{
    public static ConfigurationOptions Parse(string value)
    {
        ConfigurationOptions options;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "redis" or "rediss")
        {
            options = new ConfigurationOptions { Ssl = uri.Scheme == "rediss" };
            options.EndPoints.Add(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port);
            var credentials = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
            if (credentials is [var user, var password])
            {
                (options.User, options.Password) = (user.Length > 0 ? user : null, password);
            }
            else if (credentials is [var only] && only.Length > 0)
            {
                options.Password = only;
            }

            if (int.TryParse(uri.AbsolutePath.Trim('/'), out var database))
            {
                options.DefaultDatabase = database;
            }
        }
        else
        {
            options = ConfigurationOptions.Parse(value);
        }

        // Start without Redis and reconnect by itself; while it is away, commands fail at once instead of queueing.
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 1000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 1000);
        options.ClientName ??= "emporium";
        return options;
    }
}
