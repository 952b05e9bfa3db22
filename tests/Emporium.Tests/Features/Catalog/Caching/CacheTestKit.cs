using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog.Caching;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Emporium.Tests.Features.Catalog.Caching;

/// <summary>The Redis server that scripts/test starts (EMPORIUM_TEST_REDIS). Never silently skipped.</summary>
public static class RedisServer
{
    public static string Address =>
        Environment.GetEnvironmentVariable("EMPORIUM_TEST_REDIS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("EMPORIUM_TEST_REDIS is not set: run the suite with scripts/test, which starts Redis for it.");

    /// <summary>redis-server itself, for tests that stop and restart a Redis of their own.</summary>
    public static string Binary => Environment.GetEnvironmentVariable("EMPORIUM_TEST_REDIS_SERVER") is { Length: > 0 } value ? value : "/usr/bin/redis-server";

    /// <summary>Apps on one Redis but different databases must not share entries: each gets a key prefix of its own.</summary>
    public static EmporiumApp UseRedis(this EmporiumApp app, string? address = null) =>
        app.With("Cache:Provider", "Redis")
            .With("Cache:Redis", address ?? Address)
            .With("Cache:KeyPrefix", $"test-{Guid.NewGuid():N}:");
}

/// <summary>The embedded default: SQLite and the in-process cache, with fast jobs (imports, bulk deletes, images).</summary>
public class CachedSqliteApp : SqliteApp
{
    public CachedSqliteApp() => JobSettings.Apply(With("Cache:Provider", "Memory"));
}

/// <summary>Production's shape: PostgreSQL with memory over Redis.</summary>
public class CachedPostgresApp : PostgresApp
{
    public CachedPostgresApp() => JobSettings.Apply(this.UseRedis());
}

/// <summary>Counts the cache's lookups of one app (meter Emporium.Cache), by outcome.</summary>
public sealed class CacheLookups : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _counts = [];

    public CacheLookups(EmporiumApp app)
    {
        // Meters made by one app's IMeterFactory carry it as their scope: other apps in this test process are not counted.
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        app.Services.GetRequiredService<CacheMetrics>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CacheMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var outcome = "";
            var entry = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcome = (string)tag.Value!;
                }
                else if (tag.Key == "entry")
                {
                    entry = (string)tag.Value!;
                }
            }

            lock (_counts)
            {
                _counts[$"{entry}:{outcome}"] = _counts.GetValueOrDefault($"{entry}:{outcome}") + value;
            }
        });
        _listener.Start();
    }

    public long this[string key]
    {
        get
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(key);
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}

internal static class CacheReads
{
    /// <summary>Reads the product twice, so that the second answer came from the cache.</summary>
    public static async Task<JsonElement> WarmAsync(this HttpClient client, string url)
    {
        await (await client.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        return await (await client.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    public static async Task<JsonElement> ReadAsync(this HttpClient client, string url) => await (await client.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
}

/// <summary>Tests of two processes' views of one Redis: a redis-server of the class's own, an admin connection, and what the tests open.</summary>
public abstract class OwnRedisTests : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];

    protected OwnRedis Redis { get; private set; } = null!;

    protected ConnectionMultiplexer Admin { get; private set; } = null!;

    /// <summary>Disposed after the test, the last owned first.</summary>
    protected T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>A connection of a process of its own, named <paramref name="name"/> (CLIENT LIST shows it).</summary>
    protected async Task<ConnectionMultiplexer> ConnectAsync(string name) =>
        Own(await ConnectionMultiplexer.ConnectAsync(Emporium.Infrastructure.Caching.RedisConfiguration.Parse($"{Redis.Address},name={name}")));

    public async Task InitializeAsync()
    {
        Redis = await OwnRedis.StartAsync();
        Admin = await ConnectionMultiplexer.ConnectAsync($"{Redis.Address},allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }

        await Admin.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>A redis-server of a test's own (no persistence), to stop and start again on the same port.</summary>
public sealed class OwnRedis : IAsyncDisposable
{
    private System.Diagnostics.Process? _process;

    public int Port { get; } = FreePort();

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<OwnRedis> StartAsync()
    {
        var redis = new OwnRedis();
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        var start = new System.Diagnostics.ProcessStartInfo(RedisServer.Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(), "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath() })
        {
            start.ArgumentList.Add(argument);
        }

        _process = System.Diagnostics.Process.Start(start)!;
        var deadline = TestTime.Deadline(20);
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "redis-server should start");
                await Task.Delay(50);
            }
        }
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
