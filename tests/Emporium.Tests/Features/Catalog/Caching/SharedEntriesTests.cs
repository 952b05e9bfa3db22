using Emporium.Features.Catalog.Caching;
using Emporium.Infrastructure.Caching;
using Microsoft.Extensions.Logging.Abstractions;
using Emporium.Tests.Infrastructure;
using StackExchange.Redis;

namespace Emporium.Tests.Features.Catalog.Caching;

/// <summary>
/// Which entries are in Redis (decision 0019, "Asking Redis only for shared entries"), as two processes see it, each with
/// a connection of its own to a Redis of the test's own.
/// </summary>
public sealed class SharedEntriesTests : OwnRedisTests
{
    private async Task<RedisSharedEntries> ProcessAsync(string name, TimeSpan? duration = null, long maxEntries = 200_000, bool waitUntilKnown = true)
    {
        var connection = await ConnectAsync(name);
        var options = new CacheOptions { Duration = duration ?? TimeSpan.FromMinutes(10), MaxEntries = maxEntries };
        var shared = new RedisSharedEntries(connection, options, NullLogger<RedisSharedEntries>.Instance);
        Own(shared);
        if (waitUntilKnown)
        {
            await KnowsAllAsync(shared, "a process knows every shared key once it has subscribed and read the set");
        }

        return shared;
    }

    private static async Task KnowsAllAsync(RedisSharedEntries shared, string because)
    {
        var deadline = TestTime.Deadline(10);
        while (!shared.KnowsAll())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, because);
            await Task.Delay(20);
        }
    }

    private static async Task MayHoldAsync(RedisSharedEntries shared, string key, string because)
    {
        var deadline = TestTime.Deadline(10);
        while (!shared.MayHold(key))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, because);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_process_knows_the_keys_shared_before_and_after_it_started_and_no_others()
    {
        var first = await ProcessAsync("first");
        first.MayHold("product:1").Should().BeFalse("no process has shared it");
        first.Shared("product:1");
        first.MayHold("product:1").Should().BeTrue();

        var second = await ProcessAsync("second");
        second.MayHold("product:1").Should().BeTrue("it was shared before this process started, and is in the set");
        second.MayHold("product:2").Should().BeFalse();

        first.Shared("product:2");
        await MayHoldAsync(second, "product:2", "a key shared later is published to every process");
        second.MayHold("product:3").Should().BeFalse();
    }

    [Fact]
    public async Task Until_a_process_has_read_the_set_it_cannot_tell_and_asks_redis_for_everything()
    {
        var shared = await ProcessAsync("starting", waitUntilKnown: false);
        shared.MayHold("product:1").Should().BeTrue("a process that has not read the set yet cannot know what others shared");
        await KnowsAllAsync(shared, "it reads the set once subscribed");
        shared.MayHold("product:1").Should().BeFalse();
    }

    [Fact]
    public async Task A_key_is_forgotten_once_its_entry_has_expired_in_redis()
    {
        var first = await ProcessAsync("first", duration: TimeSpan.FromSeconds(5));
        first.Shared("product:1");
        first.MayHold("product:1").Should().BeTrue();
        var second = await ProcessAsync("second", duration: TimeSpan.FromSeconds(5));
        second.MayHold("product:1").Should().BeTrue();

        await Task.Delay(TimeSpan.FromSeconds(5.3));
        first.MayHold("product:1").Should().BeFalse("the entry shared a Cache:Duration ago has expired in Redis");
        second.MayHold("product:1").Should().BeFalse();
        var third = await ProcessAsync("third", duration: TimeSpan.FromSeconds(5));
        third.MayHold("product:1").Should().BeFalse("an expired key in the set is not loaded");
    }

    [Fact]
    public async Task A_process_that_cannot_keep_every_key_asks_redis_for_everything_without_reading_the_set_again_and_again()
    {
        var shared = await ProcessAsync("small", maxEntries: 2);
        shared.Shared("product:1");
        shared.Shared("product:2");
        shared.MayHold("product:9").Should().BeFalse("both keys fit");

        shared.Shared("product:3");
        shared.KnowsAll().Should().BeFalse("one key could not be kept");
        shared.MayHold("product:9").Should().BeTrue("any unknown key may be the one not kept");

        // Another process that starts small finds more keys in the set than it can keep: it reads the set once, not again
        // every second, since it would not fit before the keys expire.
        var before = await ScansAsync();
        var late = await ProcessAsync("late", maxEntries: 2, waitUntilKnown: false);
        late.MayHold("product:9").Should().BeTrue();
        var deadline = TestTime.Deadline(10);
        while (await ScansAsync() == before)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the process reads the set once it has subscribed");
            await Task.Delay(20);
        }

        var scans = await ScansAsync();
        for (var i = 0; i < 30; i++)
        {
            late.MayHold("product:9").Should().BeTrue();
            await Task.Delay(100);
        }

        (await ScansAsync()).Should().Be(scans, "a set that does not fit is not read again before its keys expire");
    }

    /// <summary>How many times any process has scanned a sorted set (INFO commandstats).</summary>
    private async Task<long> ScansAsync()
    {
        var stats = (await Admin.GetServer(Redis.Address).InfoAsync("commandstats")).SelectMany(group => group);
        var zscan = stats.FirstOrDefault(stat => stat.Key == "cmdstat_zscan").Value;
        return zscan is null ? 0 : long.Parse(zscan.Split(',')[0]["calls=".Length..]);
    }

    [Fact]
    public async Task A_key_shared_while_a_process_was_cut_off_is_known_once_it_is_back_and_later_ones_are_heard()
    {
        var reader = await ProcessAsync("reader");
        var writer = await ProcessAsync("writer");
        var server = Admin.GetServer(Redis.Address);
        for (var i = 0; i < 5; i++)
        {
            // Only the reader's subscription is cut, before the writer shares: the message is lost to it, the set is not.
            foreach (var client in (await server.ClientListAsync()).Where(client => client.Name == "reader" && client.ClientType == ClientType.PubSub))
            {
                await server.ExecuteAsync("CLIENT", "KILL", "ID", client.Id);
            }

            writer.Shared($"product:{i}");
            var deadline = TestTime.Deadline(10);
            while (!(reader.KnowsAll() && reader.MayHold($"product:{i}")))
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "a process reads the set again once its subscription is back");
                await Task.Delay(20);
            }

            // Knowing every key again, it must hear of the next one.
            writer.Shared($"product:later-{i}");
            deadline = TestTime.Deadline(10);
            while (!(reader.KnowsAll() && reader.MayHold($"product:later-{i}")))
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "a process that knows every key is listening");
                await Task.Delay(20);
            }
        }
    }
}
