using Emporium.Features.Catalog.Caching;
using Emporium.Infrastructure.Caching;
using Microsoft.Extensions.Logging.Abstractions;
using Emporium.Tests.Infrastructure;
using StackExchange.Redis;

namespace Emporium.Tests.Features.Catalog.Caching;

/// <summary>
/// Two processes' copies of the Redis stamps (decision 0019, "Acknowledged changes"), each with a connection of its own to
/// a Redis of the test's own, as two service processes have.
/// </summary>
public sealed class StampMirrorTests : IAsyncLifetime
{
    private readonly List<IDisposable> _owned = [];
    private OwnRedis _redis = null!;
    private ConnectionMultiplexer _admin = null!;

    public async Task InitializeAsync()
    {
        _redis = await OwnRedis.StartAsync();
        _admin = await ConnectionMultiplexer.ConnectAsync($"{_redis.Address},allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }

        await _admin.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<RedisCatalogStamps> ProcessAsync(string name, double leaseSeconds = 3, long maxEntries = 200_000)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisConfiguration.Parse($"{_redis.Address},name={name}"));
        _owned.Add(connection);
        var options = new CacheOptions { PeerLease = TimeSpan.FromSeconds(leaseSeconds), MaxEntries = maxEntries };
        var stamps = new RedisCatalogStamps(connection, options, NullLogger<RedisCatalogStamps>.Instance);
        _owned.Add(stamps);
        await TrustedAsync(stamps);
        return stamps;
    }

    private static async Task TrustedAsync(RedisCatalogStamps stamps)
    {
        var deadline = TestTime.Deadline(10);
        while (!stamps.Mirror.Trusted)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "a process holds a lease once it has registered and pinged itself");
            await Task.Delay(20);
        }
    }

    private const string Products = "emporium:{stamps}:products";

    private async Task<long> StampInRedisAsync(long productId) => (long)await _admin.GetDatabase().HashGetAsync(Products, productId);

    private static async Task CompleteAsync(RedisCatalogStamps stamps)
    {
        var deadline = TestTime.Deadline(10);
        while (!stamps.Mirror.Complete)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "a trusted process loads every stamp at its next renewal");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_raise_reaches_the_other_process_before_it_returns_and_reads_then_need_no_redis()
    {
        var reader = await ProcessAsync("reader");
        var writer = await ProcessAsync("writer");
        var before = (await reader.ReadAsync(42, CancellationToken.None))!.Value;

        await writer.RaiseAsync([42], everything: false, CancellationToken.None);

        // Read from memory alone: the change was applied there before the raise returned.
        reader.Mirror.TryRead(42, out var after).Should().BeTrue("the reader has the product's stamps in memory");
        after.Product.Should().Be(await StampInRedisAsync(42)).And.BeGreaterThan(before.Product);

        await writer.RaiseAsync([], everything: true, CancellationToken.None);
        reader.Mirror.TryRead(42, out var afterCatalog).Should().BeTrue();
        afterCatalog.Catalog.Should().BeGreaterThan(after.Catalog, "raising the catalog's stamp reaches every process too");
    }

    [Fact]
    public async Task A_process_whose_connection_failed_starts_again_from_an_empty_copy()
    {
        var reader = await ProcessAsync("reader");
        // The first read of an empty Redis starts the catalog's stamp, which empties every copy once more.
        await reader.ReadAsync(7, CancellationToken.None);
        await Task.Delay(50);
        await reader.ReadAsync(7, CancellationToken.None);
        reader.Mirror.TryRead(7, out var known).Should().BeTrue();

        // The reader's subscription is cut: any change published until it is back is lost to it. A change that was lost is
        // what happens next to the stamp in Redis, behind the reader's back.
        var server = _admin.GetServer(_redis.Address);
        var subscription = (await server.ClientListAsync()).Single(client => client.Name == "reader" && client.ClientType == ClientType.PubSub);
        await server.ClientKillAsync(subscription.Id, ClientType.PubSub, skipMe: true);
        var deadline = TestTime.Deadline(10);
        while (reader.Mirror.Trusted)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the failed connection is reported at once");
            await Task.Delay(10);
        }

        await _admin.GetDatabase().HashSetAsync(Products, 7, known.Product + 1000);
        await TrustedAsync(reader);

        (await reader.ReadAsync(7, CancellationToken.None))!.Value.Product.Should().Be(known.Product + 1000,
            "nothing the copy held before the connection failed is trusted after it");
    }

    [Fact]
    public async Task A_process_holds_every_stamp_so_products_it_never_read_need_no_round_trip()
    {
        var writer = await ProcessAsync("writer");
        await writer.RaiseAsync([5, 6], everything: false, CancellationToken.None);

        var reader = await ProcessAsync("reader");
        await CompleteAsync(reader);
        reader.Mirror.TryRead(5, out var written).Should().BeTrue("the stamps written before the process started were loaded");
        written.Product.Should().Be(await StampInRedisAsync(5)).And.BePositive();
        reader.Mirror.TryRead(999, out var never).Should().BeTrue("a product missing from a complete copy has never been written");
        never.Product.Should().Be(0);

        await writer.RaiseAsync([999], everything: false, CancellationToken.None);
        reader.Mirror.TryRead(999, out var now).Should().BeTrue();
        now.Product.Should().Be(await StampInRedisAsync(999)).And.BePositive("the first write of a product reaches every copy before it returns");
    }

    [Fact]
    public async Task A_copy_is_not_loaded_beyond_its_bound_and_then_asks_redis_for_products_it_does_not_hold()
    {
        var writer = await ProcessAsync("writer");
        await writer.RaiseAsync([1, 2, 3], everything: false, CancellationToken.None);

        var reader = await ProcessAsync("reader", leaseSeconds: 0.6, maxEntries: 2);
        await Task.Delay(TimeSpan.FromSeconds(1.5));  // several renewals, each of which would load a copy within its bound
        reader.Mirror.Complete.Should().BeFalse("three stamps do not fit a copy of at most two (Cache:MaxEntries)");
        reader.Mirror.TryRead(999, out _).Should().BeFalse("an incomplete copy cannot say a product was never written");
        (await reader.ReadAsync(2, CancellationToken.None))!.Value.Product.Should().Be(await StampInRedisAsync(2));
    }

    [Fact]
    public async Task A_writer_waits_for_a_silent_member_no_longer_than_its_lease()
    {
        var writer = await ProcessAsync("writer", leaseSeconds: 1);
        await _admin.GetDatabase().SortedSetAddAsync("emporium:{stamps}:members", "hung", DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());

        var started = System.Diagnostics.Stopwatch.StartNew();
        await writer.RaiseAsync([1], everything: false, CancellationToken.None);
        started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9), "the member might still trust its copy until its lease runs out");
        started.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "one lease (1 s) is the most a writer waits, whatever the member's registration says (5 minutes)");

        (await StampInRedisAsync(1)).Should().BePositive("the raise itself was made before the wait");
    }
}
