using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Emporium.Features.Catalog.Caching;
using Emporium.Platform.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Emporium.Tests.Infrastructure;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Caching;

/// <summary>
/// Two real service processes on one PostgreSQL database and a Redis of the test's own (decision 0019): each keeps a copy
/// of the stamps, kept current by acknowledged changes, and must never serve what another process's write superseded.
/// </summary>
public sealed class CacheAcrossProcessesTests : IAsyncLifetime
{
    private readonly string _database = PostgresServer.NewDatabaseName();
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("emporium-cache-");
    private OwnRedis _redis = null!;

    public async Task InitializeAsync()
    {
        await PostgresServer.CreateDatabaseAsync(_database);
        _redis = await OwnRedis.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await PostgresServer.DropDatabaseAsync(_database);
        _data.Delete(recursive: true);
    }

    private Task<ServiceProcess> StartAsync(string? peerLease = null) =>
        ServiceProcess.StartAsync(["--role", "api"], new Dictionary<string, string?>
        {
            ["Emporium__DataDirectory"] = _data.FullName,
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = PostgresServer.ConnectionStringFor(_database),
            ["Cache__Provider"] = "Redis",
            ["Cache__Redis"] = _redis.Address,
            ["Cache__PeerLease"] = peerLease,
            ["Auth__SigningKey"] = "one signing key shared by both processes of this test",
            ["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail,
            ["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword,
            ["Telemetry__Prometheus__Enabled"] = "true",
            ["Telemetry__Prometheus__Token"] = ScrapeToken,
            ["Logging__Json"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        });

    /// <summary>Two service processes, signed in as the admin, anonymous clients of each, and what a test opens beside them.</summary>
    private sealed class TwoProcesses(ServiceProcess first, ServiceProcess second) : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];

        public ServiceProcess First { get; } = first;

        public ServiceProcess Second { get; } = second;

        public HttpClient AnonymousFirst { get; } = new() { BaseAddress = first.Http.BaseAddress };

        public HttpClient AnonymousSecond { get; } = new() { BaseAddress = second.Http.BaseAddress };

        /// <summary>Disposed with the processes.</summary>
        public T Own<T>(T item)
            where T : IAsyncDisposable
        {
            _owned.Add(item);
            return item;
        }

        public async ValueTask DisposeAsync()
        {
            AnonymousFirst.Dispose();
            AnonymousSecond.Dispose();
            foreach (var item in _owned)
            {
                await item.DisposeAsync();
            }

            await First.DisposeAsync();
            await Second.DisposeAsync();
        }
    }

    private async Task<TwoProcesses> StartTwoAsync(string? peerLease = null)
    {
        var first = await StartAsync(peerLease);
        ServiceProcess second;
        try
        {
            second = await StartAsync(peerLease);
        }
        catch
        {
            // The first is not left running when the second fails to start.
            await first.DisposeAsync();
            throw;
        }

        var login = await (await first.Http.PostAsJsonAsync("/api/auth/login", new { email = EmporiumApp.AdminEmail, password = EmporiumApp.AdminPassword }))
            .ShouldBe(HttpStatusCode.OK);
        var token = new AuthenticationHeaderValue("Bearer", login.Str("access_token"));
        first.Http.DefaultRequestHeaders.Authorization = token;
        second.Http.DefaultRequestHeaders.Authorization = token;
        return new TwoProcesses(first, second);
    }

    private const string ScrapeToken = "scrape-token-of-this-test";

    /// <summary>Longer than the Prometheus exporter keeps a scrape's answer (300 ms by default).</summary>
    private static readonly TimeSpan ScrapeCache = TimeSpan.FromMilliseconds(400);

    /// <summary>How many product reads took their stamps from where (memory or redis), from the process's /metrics.</summary>
    private static Task<long> StampReadsAsync(ServiceProcess process, string source) =>
        CounterAsync(process, $"emporium_cache_stamp_reads_total\\{{[^}}]*source=\"{source}\"[^}}]*\\}}");

    /// <summary>How many product misses went to the database without asking Redis, from the process's /metrics.</summary>
    private static Task<long> RedisSkipsAsync(ServiceProcess process) => CounterAsync(process, "emporium_cache_redis_skips_total(\\{[^}]*\\})?");

    /// <summary>The value of the series <paramref name="series"/> (a pattern) on the process's /metrics; 0 before its first count.</summary>
    private static async Task<long> CounterAsync(ServiceProcess process, string series)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ScrapeToken);
        var text = await (await process.Http.SendAsync(request)).Content.ReadAsStringAsync();
        var match = System.Text.RegularExpressions.Regex.Match(text, $"{series} (\\d+)");
        return match.Success ? long.Parse(match.Groups[^1].Value) : 0;
    }

    /// <summary>Waits until the entry of <paramref name="productId"/> is in Redis.</summary>
    private static async Task SharedInRedisAsync(IServer redis, long productId)
    {
        var deadline = TestTime.Deadline(10);
        while (!redis.Keys(pattern: $"*:product:{productId}:*").Any())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the product read again should be written to Redis");
            await Task.Delay(50);
        }
    }

    private async Task<IServer> AdminAsync(TwoProcesses two) =>
        two.Own(await ConnectionMultiplexer.ConnectAsync($"{_redis.Address},allowAdmin=true")).GetServer(_redis.Address);

    [Fact]
    public async Task A_write_through_one_process_is_never_read_stale_through_the_other_and_reads_need_no_round_trip()
    {
        await using var two = await StartTwoAsync();
        var (first, second, anonymousFirst, anonymousSecond) = (two.First, two.Second, two.AnonymousFirst, two.AnonymousSecond);
        var product = await first.Http.CreateProductAsync(Tag(), "Shared");
        var url = $"/api/products/{product.Id()}";
        await anonymousFirst.WarmAsync(url);
        await anonymousSecond.WarmAsync(url);

        for (var i = 0; i < 40; i++)
        {
            var (writer, reader) = i % 2 == 0 ? (first.Http, anonymousSecond) : (second.Http, anonymousFirst);
            await reader.WarmAsync(url);
            await (await writer.PatchJson(url, new { name = $"Name {i}", price = 10m + i })).ShouldBe(HttpStatusCode.OK);

            var read = await reader.ReadAsync(url);
            read.Str("name").Should().Be($"Name {i}", "write {0} returned before this read started", i);
            read.GetProperty("price").GetDecimal().Should().Be(10m + i);
        }

        foreach (var process in new[] { first, second })
        {
            var (memory, asked) = (await StampReadsAsync(process, "memory"), await StampReadsAsync(process, "redis"));
            memory.Should().BeGreaterThanOrEqualTo(60, "reads after the first took the product's stamps from memory, kept current by the writes' published changes");
            asked.Should().BeLessThan(5);
        }

        await (await first.Http.PatchJson(url, new { is_active = false })).ShouldBe(HttpStatusCode.OK);
        await (await anonymousSecond.GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_product_read_again_in_one_process_is_shared_through_redis_and_one_read_once_is_not()
    {
        await using var two = await StartTwoAsync();
        var redis = await AdminAsync(two);
        var once = (await two.First.Http.CreateProductAsync(Tag(), "Read once")).Id();
        var twice = (await two.First.Http.CreateProductAsync(Tag(), "Read twice")).Id();

        // Cache:RedisAfterReads is 2 by default: a product read once in a process costs Redis nothing.
        await two.AnonymousFirst.ReadAsync($"/api/products/{once}");
        await two.AnonymousFirst.WarmAsync($"/api/products/{twice}");
        await SharedInRedisAsync(redis, twice);

        redis.Keys(pattern: $"*:product:{once}:*").Should().BeEmpty("a product read once in a process stays out of Redis");

        // Renamed behind the service's back, so that only a cache can still answer with the old names: the other process
        // finds the shared one in Redis, and loads the other from the database.
        await PostgresServer.ExecuteAsync($"UPDATE products SET name = 'Renamed in the database' WHERE id IN ({once}, {twice})", _database);
        (await two.AnonymousSecond.ReadAsync($"/api/products/{twice}")).Str("name").Should().StartWith("Read twice", "the entry came from Redis");
        (await two.AnonymousSecond.ReadAsync($"/api/products/{once}")).Str("name").Should().Be("Renamed in the database", "Redis had no entry for it");
    }

    [Fact]
    public async Task A_process_asks_redis_only_for_products_another_process_has_shared()
    {
        await using var two = await StartTwoAsync();
        var redis = await AdminAsync(two);
        var shared = (await two.First.Http.CreateProductAsync(Tag(), "Shared")).Id();
        var unshared = (await two.First.Http.CreateProductAsync(Tag(), "Not shared")).Id();

        // Once the second process has read which entries are in Redis, a product no process has shared is loaded without
        // asking Redis (each probe is a product never read before).
        var deadline = TestTime.Deadline(20);
        while (await RedisSkipsAsync(two.Second) == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "a process learns which entries are shared soon after its first read");
            await two.AnonymousSecond.ReadAsync($"/api/products/{(await two.First.Http.CreateProductAsync(Tag(), "Probe")).Id()}");
        }

        await two.AnonymousFirst.WarmAsync($"/api/products/{shared}");
        await SharedInRedisAsync(redis, shared);

        // Renamed behind the service's back: only Redis can still answer with the old name.
        await PostgresServer.ExecuteAsync($"UPDATE products SET name = 'Renamed in the database' WHERE id IN ({shared}, {unshared})", _database);
        await Task.Delay(ScrapeCache);
        var skips = await RedisSkipsAsync(two.Second);
        (await two.AnonymousSecond.ReadAsync($"/api/products/{shared}")).Str("name").Should().StartWith("Shared", "the second process was told the entry is in Redis");
        (await two.AnonymousSecond.ReadAsync($"/api/products/{unshared}")).Str("name").Should().Be("Renamed in the database");
        await Task.Delay(ScrapeCache);
        (await RedisSkipsAsync(two.Second)).Should().Be(skips + 1, "no process had shared the second product, so Redis was not asked for it");
    }

    [Fact]
    public async Task A_process_that_lost_its_subscription_stops_trusting_its_copy_of_the_stamps()
    {
        await using var two = await StartTwoAsync(peerLease: "00:00:01");
        var (first, second, anonymousFirst, anonymousSecond) = (two.First, two.Second, two.AnonymousFirst, two.AnonymousSecond);
        var redis = await AdminAsync(two);
        var url = $"/api/products/{(await first.Http.CreateProductAsync(Tag(), "Before")).Id()}";
        for (var i = 0; i < 2; i++)
        {
            await anonymousSecond.WarmAsync(url);

            // The reader misses the change's message: subscriptions are cut again and again while the write publishes it,
            // then left alone, so the reader reconnects and renews its lease while the writer waits out its silence.
            using var storm = new CancellationTokenSource();
            var cutting = Task.Run(async () =>
            {
                while (!storm.IsCancellationRequested)
                {
                    await redis.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
                    await Task.Delay(2);
                }
            });
            var write = first.Http.PatchJson(url, new { name = $"After {i}" });
            await Task.Delay(150);
            await storm.CancelAsync();
            await cutting;
            await (await write).ShouldBe(HttpStatusCode.OK);
            (await anonymousSecond.ReadAsync(url)).Str("name").Should().Be($"After {i}");
            await Task.Delay(1500);
            (await anonymousSecond.WarmAsync(url)).Str("name").Should().Be($"After {i}", "a renewed lease starts from an emptied copy");
        }

        second.Output.Should().Contain("no longer trusted");
    }

    [Fact]
    public async Task A_silent_peer_delays_a_write_by_one_lease_at_most()
    {
        await using var two = await StartTwoAsync(peerLease: "00:00:01");
        var (first, second, anonymousFirst, anonymousSecond) = (two.First, two.Second, two.AnonymousFirst, two.AnonymousSecond);
        var url = $"/api/products/{(await first.Http.CreateProductAsync(Tag(), "Before")).Id()}";
        await anonymousSecond.WarmAsync(url);

        // A process that hangs holds its lease until it runs out and never acknowledges.
        var connection = two.Own(await ConnectionMultiplexer.ConnectAsync(_redis.Address));
        var members = (await connection.GetDatabase().SortedSetRangeByRankAsync("emporium:{stamps}:members")).Select(member => (string)member!).ToList();
        members.Should().HaveCount(2, "each process registered itself");
        await connection.GetDatabase().SortedSetAddAsync("emporium:{stamps}:members", "hung", DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeMilliseconds());

        await (await first.Http.PatchJson(url, new { name = "After" })).ShouldBe(HttpStatusCode.OK);
        (await anonymousSecond.ReadAsync(url)).Str("name").Should().Be("After");
        first.Output.Should().Contain("hung did not acknowledge");

        await (await second.Http.PatchJson(url, new { name = "Later" })).ShouldBe(HttpStatusCode.OK);
        (await anonymousFirst.ReadAsync(url)).Str("name").Should().Be("Later");
    }
}

/// <summary>Redis stopped and started again under a running service: reads never fail and never go stale.</summary>
public sealed class CacheWithoutRedisTests
{
    [Fact]
    public async Task Reads_go_to_the_database_while_redis_is_away_and_the_cache_comes_back_by_itself()
    {
        await using var redis = await OwnRedis.StartAsync();
        var app = new PostgresApp();
        app.UseRedis(redis.Address);
        await app.InitializeAsync();
        try
        {
            await OutageAsync(app, redis);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    private static async Task OutageAsync(EmporiumApp app, OwnRedis redis)
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var url = $"/api/products/{(await staff.CreateProductAsync(Tag(), "Outage")).Id()}";
        await app.Anonymous().WarmAsync(url);
        (await CacheCheckAsync(app)).Should().Be("Healthy");

        await redis.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            (await app.Anonymous().ReadAsync(url)).Str("name").Should().StartWith("Outage");
        }

        (await CacheCheckAsync(app)).Should().Be("Degraded", "Redis is away, and /health/ready still answers 200");

        await (await staff.PatchJson(url, new { name = "Changed while Redis was away" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync(url)).Str("name").Should().Be("Changed while Redis was away");

        await redis.StartAgainAsync();
        var deadline = TestTime.Deadline(30);
        while (await CacheCheckAsync(app) != "Healthy")
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the service should reconnect to Redis by itself");
            await Task.Delay(200);
        }

        (await app.Anonymous().WarmAsync(url)).Str("name").Should().Be("Changed while Redis was away", "nothing from before the outage is served");
        await (await staff.PatchJson(url, new { name = "Changed after" })).ShouldBe(HttpStatusCode.OK);
        (await app.Anonymous().ReadAsync(url)).Str("name").Should().Be("Changed after");
    }

    private static async Task<string> CacheCheckAsync(EmporiumApp app)
    {
        var response = await app.Anonymous().GetAsync("/health/ready");
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the cache never makes the service unready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return body.GetProperty("checks").GetProperty("cache").Str("status");
    }
}

/// <summary>The stamps in Redis under eviction (decision 0019).</summary>
public sealed class RedisStampTests(CachedPostgresApp app) : IClassFixture<CachedPostgresApp>
{
    [Fact]
    public async Task Stamps_carry_no_expiry_so_the_documented_eviction_policies_never_take_them()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = (await staff.CreateProductAsync(Tag(), "Before")).Id();
        var url = $"/api/products/{id}";
        var prefix = app.Services.GetRequiredService<IOptions<CacheOptions>>().Value.KeyPrefix;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisServer.Address);
        var database = redis.GetDatabase();

        await app.Anonymous().WarmAsync(url);
        await (await staff.PatchJson(url, new { name = "After" })).ShouldBe(HttpStatusCode.OK);

        // volatile-lru and volatile-ttl evict only keys with an expiry; a product missing from the hash means "never
        // written", so an evicted stamp would bring back an entry from before its write.
        ((long)await database.HashGetAsync($"{prefix}{{stamps}}:products", id)).Should().BePositive("the write raised the product's stamp");
        foreach (var key in new[] { "products", "catalog", "sequence" })
        {
            (await database.KeyExistsAsync($"{prefix}{{stamps}}:{key}")).Should().BeTrue("the write wrote {0}", key);
            (await database.KeyTimeToLiveAsync($"{prefix}{{stamps}}:{key}")).Should().BeNull("{0} must never expire or be evicted", key);
        }

        (await app.Anonymous().ReadAsync(url)).Str("name").Should().Be("After");
    }
}

/// <summary>Cache:RedisAfterReads at 1: every product a process loads goes to Redis at once.</summary>
public sealed class RedisAfterOneReadTests
{
    [Fact]
    public async Task A_product_read_once_is_written_to_redis()
    {
        var app = new PostgresApp();
        app.UseRedis().With("Cache:RedisAfterReads", "1");
        await app.InitializeAsync();
        try
        {
            var staff = (await app.NewUserAsync(Roles.Staff)).Http;
            var id = (await staff.CreateProductAsync(Tag(), "Shared at once")).Id();
            await using var redis = await ConnectionMultiplexer.ConnectAsync($"{RedisServer.Address},allowAdmin=true");
            var server = redis.GetServer(RedisServer.Address);
            var prefix = app.Services.GetRequiredService<IOptions<CacheOptions>>().Value.KeyPrefix;

            await app.Anonymous().ReadAsync($"/api/products/{id}");
            var deadline = TestTime.Deadline(10);
            while (!server.Keys(pattern: $"{prefix}*:product:{id}:*").Any())
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "with Cache:RedisAfterReads 1 the first load should be written to Redis");
                await Task.Delay(50);
            }
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
