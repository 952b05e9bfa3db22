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
public sealed class StampMirrorTests : OwnRedisTests
{
    private async Task<RedisCatalogStamps> ProcessAsync(string name, double leaseSeconds = 3, long maxEntries = 200_000)
    {
        var connection = await ConnectAsync(name);
        var options = new CacheOptions { PeerLease = TimeSpan.FromSeconds(leaseSeconds), MaxEntries = maxEntries };
        var stamps = new RedisCatalogStamps(connection, options, NullLogger<RedisCatalogStamps>.Instance);
        Own(stamps);
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

    private async Task<long> StampInRedisAsync(long productId) => (long)await Admin.GetDatabase().HashGetAsync(Products, productId);

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
        await writer.RaiseAsync([42], everything: false, CancellationToken.None);
        var before = (await reader.ReadAsync(42, CancellationToken.None))!.Value;
        before.Product.Should().BePositive("the first write gave the product a stamp");

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
        // A copy bounded at one product, with two in Redis: it is never loaded whole, so what it holds after the failure is
        // only what it kept from before, and that must be nothing.
        var reader = await ProcessAsync("reader", maxEntries: 1);
        await reader.RaiseAsync([7], everything: false, CancellationToken.None);
        await Admin.GetDatabase().HashSetAsync(Products, 8, 1);
        reader.Mirror.TryRead(7, out var known).Should().BeTrue("the process applied its own raise");

        // The reader's subscription is cut: any change published until it is back is lost to it. A change that was lost is
        // what happens next to the stamp in Redis, behind the reader's back.
        var server = Admin.GetServer(Redis.Address);
        var subscription = (await server.ClientListAsync()).Single(client => client.Name == "reader" && client.ClientType == ClientType.PubSub);
        await server.ClientKillAsync(subscription.Id, ClientType.PubSub, skipMe: true);
        var deadline = TestTime.Deadline(10);
        while (reader.Mirror.Trusted)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the failed connection is reported at once");
            await Task.Delay(10);
        }

        await Admin.GetDatabase().HashSetAsync(Products, 7, known.Product + 1000);
        await TrustedAsync(reader);

        reader.Mirror.Complete.Should().BeFalse("two stamps do not fit a copy of one");
        (await reader.ReadAsync(7, CancellationToken.None))!.Value.Product.Should().Be(known.Product + 1000,
            "nothing the copy held before the connection failed is trusted after it");
    }

    [Fact]
    public async Task Stamps_read_before_a_starting_process_has_subscribed_are_not_trusted()
    {
        // A starting process's first reads go to Redis before its subscription to changes is in place. A write landing in
        // between is published to nobody it reaches, so a stamp read before that write must not be kept. The copy is
        // bounded at one product, with two in Redis: it is never loaded whole, which would hide what it kept.
        await Admin.GetDatabase().StringSetAsync("emporium:{stamps}:catalog", 7);
        await Admin.GetDatabase().HashSetAsync(Products, [new HashEntry(1, 5), new HashEntry(2, 5)]);
        var connection = await ConnectAsync("starting");
        var starting = new RedisCatalogStamps(
            connection, new CacheOptions { PeerLease = TimeSpan.FromSeconds(3), MaxEntries = 1 }, NullLogger<RedisCatalogStamps>.Instance);
        Own(starting);
        starting.Mirror.Trusted.Should().BeFalse("the process has not pinged itself yet");

        // What a read sent before the write (stamp 5, published while the process was not yet listening) brings back.
        starting.Mirror.Record(starting.Mirror.Epoch, [(1, 3)], catalog: 7);
        await TrustedAsync(starting);

        starting.Mirror.Complete.Should().BeFalse("two stamps do not fit a copy of one");
        (await starting.ReadAsync(1, CancellationToken.None))!.Value.Product.Should().Be(5,
            "a stamp read before the process listened for changes may have missed one");
    }

    [Fact]
    public async Task Stamps_read_from_redis_that_do_not_fit_the_copy_are_dropped_and_never_replace_later_ones()
    {
        var reader = await ProcessAsync("reader", maxEntries: 2);
        var epoch = reader.Mirror.Epoch;
        reader.Mirror.Apply([(1, 10), (2, 10)], catalog: 500, restarted: false);

        // A read's stamps, older than what was applied since (catalog 400): a third product does not fit. Emptying the copy
        // to make room would let the older catalog stamp in, and reads would then ask for entries it superseded.
        reader.Mirror.Record(reader.Mirror.Epoch, [(3, 1)], catalog: 400);

        reader.Mirror.TryRead(1, out var kept).Should().BeTrue("what was applied stays");
        kept.Should().Be(new CatalogStamp(10, 500));
        reader.Mirror.TryReadCatalog(out var catalog).Should().BeTrue();
        catalog.Should().Be(500);
        reader.Mirror.Epoch.Should().Be(epoch, "nothing was emptied");
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
        await Admin.GetDatabase().SortedSetAddAsync("emporium:{stamps}:members", "hung", DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());

        var started = System.Diagnostics.Stopwatch.StartNew();
        await writer.RaiseAsync([1], everything: false, CancellationToken.None);
        started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9), "the member might still trust its copy until its lease runs out");
        started.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "one lease (1 s) is the most a writer waits, whatever the member's registration says (5 minutes)");

        (await StampInRedisAsync(1)).Should().BePositive("the raise itself was made before the wait");
    }
}
