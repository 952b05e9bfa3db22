using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Emporium.Features.Jobs;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Xunit;

namespace Emporium.Tests.Features.Jobs;

/// <summary>The RabbitMQ server that scripts/test starts (EMPORIUM_TEST_RABBITMQ). Never silently skipped.</summary>
public static class RabbitMqServer
{
    public static string Url =>
        Environment.GetEnvironmentVariable("EMPORIUM_TEST_RABBITMQ") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "EMPORIUM_TEST_RABBITMQ is not set: run the suite with scripts/test, which starts RabbitMQ for it.");

    public static Task<IConnection> ConnectAsync() => new ConnectionFactory { Uri = new Uri(Url) }.CreateConnectionAsync();

    /// <summary>Points <paramref name="app"/> at its own exchange and queue, with a poll too slow to matter.</summary>
    public static void Apply(EmporiumApp app, string name, string? url = null) =>
        app.With("Jobs:Transport", "RabbitMq")
            .With("Jobs:RabbitMq:Url", url ?? Url)
            .With("Jobs:RabbitMq:Exchange", name)
            .With("Jobs:RabbitMq:Queue", name)
            // The longest poll there is: a job done before a test's deadline was woken by the broker, not the poll.
            .With("Jobs:PollInterval", "00:10:00");

    public static string NewName() => $"emporium.test.{Guid.NewGuid():N}";
}

/// <summary>PostgreSQL plus RabbitMQ; the sweeper waits an hour, out of the way of the broker path.</summary>
public class RabbitMqJobsApp : JobsPostgresApp
{
    public RabbitMqJobsApp() => RabbitMqServer.Apply(this.With("Jobs:RabbitMq:SweepInterval", "01:00:00"), Name);

    public string Name { get; } = RabbitMqServer.NewName();
}

/// <summary>A sweeper that runs every second, to find jobs whose message never reached the broker.</summary>
public sealed class RabbitMqSweepingApp : RabbitMqJobsApp
{
    public RabbitMqSweepingApp() => With("Jobs:RabbitMq:SweepInterval", "00:00:01");
}

/// <summary>A worker of some kinds only (an image service's, say) on the broker.</summary>
public sealed class RabbitMqKindLimitedApp : RabbitMqJobsApp
{
    public RabbitMqKindLimitedApp() => With("Jobs:Kinds", "test.*, !test.flaky");
}

public sealed class RabbitMqKindLimitedTests(RabbitMqKindLimitedApp app) : IClassFixture<RabbitMqKindLimitedApp>
{
    [Fact]
    public async Task A_worker_limited_to_some_kinds_is_woken_through_the_broker_and_leaves_no_message_behind()
    {
        // With every worker limited (image.* here, !image.* there) nobody consumed: two messages a job stayed queued for ever.
        var key = Guid.NewGuid().ToString("N");
        _ = app.Services;
        await RabbitMqTransportTests.WaitForConsumersAsync(app.Name, 1);

        var excluded = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        var taken = await app.EnqueueAsync("test.count", new TestPayload(key));
        await RabbitMqTransportTests.WaitForAsync(app, taken, JobStatus.COMPLETED, seconds: 60);

        await using var connection = await RabbitMqServer.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var deadline = TestTime.Deadline(10);
        while ((await channel.QueueDeclarePassiveAsync(app.Name)).MessageCount > 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "every message, for a kind this worker takes or not, is consumed");
            await Task.Delay(50);
        }

        (await app.RowAsync(excluded))!.Status.Should().Be(JobStatus.PENDING, "test.flaky is left to the workers that take it");
        await app.WithDbAsync(db => db.Set<Job>().Where(job => job.Id == excluded)
            .ExecuteUpdateAsync(set => set.SetProperty(job => job.Status, JobStatus.CANCELLED)));
    }
}

public sealed class RabbitMqTransportTests(RabbitMqJobsApp app) : IClassFixture<RabbitMqJobsApp>
{
    [Fact]
    public async Task A_committed_job_is_woken_through_the_broker_not_the_poll()
    {
        var key = Guid.NewGuid().ToString("N");
        _ = app.Services;
        await WaitForConsumersAsync(app.Name, 1);

        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        // The poll is ten minutes, so only the broker can have woken the runner within the deadline.
        var job = await WaitForAsync(app, id, JobStatus.COMPLETED, seconds: 60);

        job.Attempts.Should().Be(1);
        Executions.Of(key).Should().Be(1);
    }

    [Fact]
    public async Task A_message_that_is_not_a_job_id_ends_in_the_dead_letter_queue()
    {
        _ = app.Services;
        await WaitForConsumersAsync(app.Name, 1);
        var garbage = $"not a job id {Guid.NewGuid():N}";

        await using var connection = await RabbitMqServer.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicPublishAsync(app.Name, app.Name, mandatory: true, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes(garbage));

        var deadline = TestTime.Deadline(10);
        BasicGetResult? dead;
        while ((dead = await channel.BasicGetAsync($"{app.Name}.dead", autoAck: true)) is null)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the consumer should reject the message to the dead-letter queue");
            await Task.Delay(50);
        }

        Encoding.UTF8.GetString(dead.Body.Span).Should().Be(garbage);
        (await channel.QueueDeclarePassiveAsync(app.Name)).MessageCount.Should().Be(0, "a poison message is not requeued");
    }

    [Fact]
    public async Task Stale_and_duplicate_ids_are_acknowledged_and_harmless()
    {
        var key = Guid.NewGuid().ToString("N");
        _ = app.Services;
        await WaitForConsumersAsync(app.Name, 1);
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        await WaitForAsync(app, id, JobStatus.COMPLETED, seconds: 10);

        await using var connection = await RabbitMqServer.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        // More messages than the prefetch (Jobs:Concurrency = 4): they only all leave the queue if each is acked.
        foreach (var body in Enumerable.Repeat($"{id}", 6).Append("999999999").Append("999999998").Append("1").Append($"{id}"))
        {
            await channel.BasicPublishAsync(app.Name, app.Name, mandatory: true, new BasicProperties { Persistent = true }, Encoding.ASCII.GetBytes(body));
        }

        var deadline = TestTime.Deadline(10);
        while (await QueueDepthAsync(channel, app.Name) > 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the ids should be consumed and acknowledged");
            await Task.Delay(50);
        }

        await Task.Delay(300);
        Executions.Of(key).Should().Be(1, "a completed job is not run again by a duplicate message");
        (await channel.QueueDeclarePassiveAsync($"{app.Name}.dead")).MessageCount.Should().Be(0, "well-formed ids are never dead-lettered");
    }

    [Fact]
    public async Task Two_hosts_consuming_one_queue_never_run_a_job_twice()
    {
        _ = app.Services;
        await using var other = new SecondHost(DatabaseProvider.Postgres, app.Database);
        RabbitMqServer.Apply(other, app.Name);
        _ = other.Services;
        await WaitForConsumersAsync(app.Name, 2);

        var key = Guid.NewGuid().ToString("N")[..12];
        var ids = new List<long>();
        using (var scope = app.Services.CreateScope())
        {
            var queue = scope.ServiceProvider.GetRequiredService<IJobQueue>();
            var jobs = Enumerable.Range(0, 60).Select(_ => queue.Enqueue("test.count", new TestPayload(key))).ToList();
            await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
            ids.AddRange(jobs.Select(job => job.Id));
        }

        var deadline = TestTime.Deadline(20);
        while (await app.WithDbAsync(db => db.Set<Job>().CountAsync(j => ids.Contains(j.Id) && j.Status != JobStatus.COMPLETED)) > 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "60 short jobs should finish through the broker (the poll is 30 s)");
            await Task.Delay(100);
        }

        ids.Select(id => Executions.Of($"{key}:{id}")).Should().AllSatisfy(count => count.Should().Be(1));
        Executions.KeysStartingWith($"{key}:owner:").Should().HaveCount(2, "both hosts took part");
        (await app.WithDbAsync(db => db.Set<Job>().Where(j => ids.Contains(j.Id)).Select(j => j.Attempts).Distinct().ToListAsync()))
            .Should().Equal(1);
    }

    [Fact]
    public async Task Readiness_is_503_naming_rabbitmq_when_the_broker_cannot_be_reached()
    {
        var closed = ClosedPort();
        var doomed = new JobsPostgresApp();
        RabbitMqServer.Apply(doomed, RabbitMqServer.NewName(), $"amqp://guest:guest@127.0.0.1:{closed}/");
        await doomed.InitializeAsync();
        try
        {
            var ready = await (await doomed.Anonymous().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);
            ready.Str("status").Should().Be("Unhealthy");
            ready.GetProperty("checks").GetProperty("rabbitmq").Str("status").Should().Be("Unhealthy");
            ready.GetProperty("checks").GetProperty("rabbitmq").TryGetProperty("description", out _).Should().BeFalse("the reason is for staff");
            var staff = (await doomed.NewUserAsync(Roles.Staff)).Http;
            var detailed = await (await staff.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);
            detailed.GetProperty("checks").GetProperty("rabbitmq").Str("description").Should().Contain("RabbitMQ");
            ready.GetProperty("checks").GetProperty("database").Str("status").Should().Be("Healthy");
        }
        finally
        {
            await ((IAsyncLifetime)doomed).DisposeAsync();
        }
    }

    [Fact]
    public async Task Readiness_includes_a_healthy_rabbitmq_check()
    {
        var ready = await (await app.Anonymous().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
        ready.GetProperty("checks").GetProperty("rabbitmq").Str("status").Should().Be("Healthy");
    }

    internal static async Task WaitForConsumersAsync(string queue, uint consumers)
    {
        await using var connection = await RabbitMqServer.ConnectAsync();
        var deadline = TestTime.Deadline(15);
        while (true)
        {
            // A passive declare of a queue that does not exist yet closes the channel: one channel per try.
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                if ((await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount >= consumers)
                {
                    return;
                }
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "{0} consumer(s) should subscribe to {1}", consumers, queue);
            await Task.Delay(50);
        }
    }

    internal static async Task<Job> WaitForAsync(EmporiumApp app, long id, JobStatus status, double seconds)
    {
        var deadline = TestTime.Deadline(seconds);
        while (true)
        {
            var job = await app.RowAsync(id);
            if (job?.Status == status)
            {
                return job;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "job {0} should be {1}; it is {2}", id, status, job?.Status);
            await Task.Delay(25);
        }
    }

    private static async Task<uint> QueueDepthAsync(IChannel channel, string queue)
    {
        var state = await channel.QueueDeclarePassiveAsync(queue);
        return state.MessageCount;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

public sealed class RabbitMqSweeperTests(RabbitMqSweepingApp app) : IClassFixture<RabbitMqSweepingApp>
{
    [Fact]
    public async Task A_job_whose_message_was_lost_is_delivered_by_the_sweeper()
    {
        var key = Guid.NewGuid().ToString("N");
        _ = app.Services;
        await RabbitMqTransportTests.WaitForConsumersAsync(app.Name, 1);

        // Raw SQL skips the after-commit hook: the row is committed, but no message is ever published for it.
        var payload = JsonSerializer.Serialize(new TestPayload(key), JobJson.Options);
        var inserted = await app.WithDbAsync(db => db.Database.SqlQuery<long>($"""
            INSERT INTO jobs (kind, payload, status, attempts, max_attempts, next_run_at, cancel_requested, created_at, updated_at)
            VALUES ('test.flaky', {payload}, 'PENDING', 0, 3, now(), false, now(), now())
            RETURNING id AS "Value"
            """).ToListAsync());
        var id = inserted.Single();

        var job = await RabbitMqTransportTests.WaitForAsync(app, id, JobStatus.COMPLETED, seconds: 10);

        job.Attempts.Should().Be(1);
        Executions.Of(key).Should().Be(1);
    }

    [Fact]
    public async Task A_backlog_still_queued_is_not_published_again_at_every_sweep()
    {
        var key = Guid.NewGuid().ToString("N");
        _ = app.Services;
        await RabbitMqTransportTests.WaitForConsumersAsync(app.Name, 1);
        try
        {
            // Every slot busy (Jobs:Concurrency 4) and twenty due jobs behind them: a backlog that outlasts several sweeps.
            for (var i = 0; i < 24; i++)
            {
                await app.EnqueueAsync("test.gate", new TestPayload(key));
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
            await using var connection = await RabbitMqServer.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            var queued = (await channel.QueueDeclarePassiveAsync(app.Name)).MessageCount;

            queued.Should().BeLessThanOrEqualTo(24, "each job was published once; five sweeps must not add the backlog again each time");
        }
        finally
        {
            Executions.Open(key);
        }
    }
}
