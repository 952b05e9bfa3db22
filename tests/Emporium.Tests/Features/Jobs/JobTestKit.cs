using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Emporium.Features.Jobs;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Jobs;

/// <summary>Short leases, fast polls and tiny retry delays, so the engine's timing plays out in seconds.</summary>
public static class JobSettings
{
    public static readonly IReadOnlyDictionary<string, string> Fast = new Dictionary<string, string>
    {
        ["Jobs:LeaseDuration"] = "00:00:08",
        ["Jobs:PollInterval"] = "00:00:00.100",
        ["Jobs:RetryDelays:0"] = "00:00:00.050",
        ["Jobs:RetryDelays:1"] = "00:00:00.100",
        ["Jobs:MaxAttempts"] = "3",
        ["Jobs:Concurrency"] = "4",
        ["Jobs:ProgressInterval"] = "00:00:00.100",
    };

    public static void Apply(EmporiumApp app)
    {
        foreach (var (key, value) in Fast)
        {
            app.With(key, value);
        }
    }

    public static void AddTestHandlers(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            services.AddJobHandler<FlakyHandler>("test.flaky");
            services.AddJobHandler<PermanentHandler>("test.permanent");
            services.AddJobHandler<GateHandler>("test.gate");
            services.AddJobHandler<CountingHandler>("test.count");
            services.AddJobHandler<AnnouncingHandler>("test.announce");
            services.AddJobHandler<CheckpointHandler>("test.checkpoint");
            services.AddJobHandler<UnrecordableHandler>("test.unrecordable");
            services.AddJobHandler<GateThenFailHandler>("test.gate-fail");
        });
}

public class JobsSqliteApp : SqliteApp
{
    public JobsSqliteApp() => JobSettings.Apply(this);

    public string Database => ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        JobSettings.AddTestHandlers(builder);
    }
}

public class JobsPostgresApp : PostgresApp
{
    public JobsPostgresApp() => JobSettings.Apply(this);

    public string Database => ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        JobSettings.AddTestHandlers(builder);
    }
}

/// <summary>Another process's view of an existing database: a second host that shares the queue.</summary>
public sealed class SecondHost : EmporiumApp
{
    private readonly string _connectionString;
    private readonly (string Kind, Type Handler)[] _more;

    /// <param name="more">Handlers of kinds the first host lacks (a newer release's, in a rolling upgrade).</param>
    public SecondHost(DatabaseProvider provider, string connectionString, params (string Kind, Type Handler)[] more)
    {
        Provider = provider;
        _connectionString = connectionString;
        _more = more;
        JobSettings.Apply(this);
    }

    public override DatabaseProvider Provider { get; }

    protected override string ConnectionString => _connectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        JobSettings.AddTestHandlers(builder);
        builder.ConfigureTestServices(services =>
        {
            foreach (var (kind, handler) in _more)
            {
                services.AddKeyedScoped(typeof(IJobHandler), kind, handler).AddSingleton(new HandledJobKind(kind));
            }
        });
    }
}

/// <summary>What the test handlers did, keyed by the payload's key (every test uses its own).</summary>
public static class Executions
{
    private static readonly ConcurrentDictionary<string, int> Counts = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public static int Of(string key) => Counts.TryGetValue(key, out var count) ? count : 0;

    /// <summary>Waits (up to 10 s) until <paramref name="key"/> has been counted.</summary>
    public static async Task WaitForAsync(string key, string because)
    {
        var deadline = TestTime.Deadline(10);
        while (Of(key) == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, because);
            await Task.Delay(50);
        }
    }

    public static IReadOnlyList<string> KeysStartingWith(string prefix) => [.. Counts.Keys.Where(key => key.StartsWith(prefix, StringComparison.Ordinal))];

    public static int Count(string key) => Counts.AddOrUpdate(key, 1, (_, count) => count + 1);

    public static Task Gate(string key) => Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static void Open(string key) =>
        Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

public sealed record TestPayload(string Key, int Failures = 0);

/// <summary>test.gate-fail: waits until <see cref="Executions.Open"/> is called with its key, then fails.</summary>
public sealed class GateThenFailHandler : IJobHandler
{
    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        await Executions.Gate(context.ReadPayload<TestPayload>().Key).WaitAsync(cancellationToken);
        throw new InvalidOperationException("failed after the gate");
    }
}

/// <summary>test.unrecordable: recording its failure throws until <see cref="Executions.Open"/> is called with its key.</summary>
public sealed class UnrecordableHandler : IJobHandler, IJobFailureRecorder
{
    public Task HandleAsync(JobContext context, CancellationToken cancellationToken) => throw new InvalidOperationException("never succeeds");

    public Task RecordFailureAsync(Job job, CancellationToken cancellationToken)
    {
        var key = JsonSerializer.Deserialize<TestPayload>(job.Payload, JobJson.Options)!.Key;
        return Executions.Gate(key).IsCompleted ? Task.CompletedTask : throw new IOException("the store is down");
    }
}

/// <summary>test.flaky: throws on its first <c>failures</c> executions (counted across retries by hand too), then succeeds.</summary>
public sealed class FlakyHandler : IJobHandler
{

    public Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var payload = context.ReadPayload<TestPayload>();
        var execution = Executions.Count(payload.Key);
        if (execution <= payload.Failures)
        {
            throw new InvalidOperationException($"flaky failure {execution}");
        }

        context.SetResult(new { execution, attempt = context.Attempt });
        return Task.CompletedTask;
    }
}

/// <summary>
/// test.announce: announces its outcome as import.completed / import.failed (any registered types do); fails its first
/// <c>failures</c> executions, or permanently when <c>failures</c> is negative.
/// </summary>
public sealed class AnnouncingHandler : IJobHandler, IJobOutcomeEvents
{

    public string CompletedEventType => Emporium.Features.Events.EventTypes.ImportCompleted;

    public string? FailedEventType => Emporium.Features.Events.EventTypes.ImportFailed;

    public Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var payload = context.ReadPayload<TestPayload>();
        var execution = Executions.Count(payload.Key);
        if (payload.Failures < 0)
        {
            throw new PermanentJobFailure("nothing to announce but failure");
        }

        if (execution <= payload.Failures)
        {
            throw new InvalidOperationException($"announce failure {execution}");
        }

        context.SetResult(new { rows = 42 });
        return Task.CompletedTask;
    }
}

/// <summary>test.permanent: a failure no retry can fix.</summary>
public sealed class PermanentHandler : IJobHandler
{

    public Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        Executions.Count(context.ReadPayload<TestPayload>().Key);
        throw new PermanentJobFailure("the file has no header row");
    }
}

/// <summary>test.gate: reports 5 of 10, then waits until the test opens its gate (or the job is cancelled).</summary>
public sealed class GateHandler : IJobHandler
{

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var key = context.ReadPayload<TestPayload>().Key;
        Executions.Count(key);
        await context.ReportProgressAsync(5, 10, "halfway", cancellationToken);
        try
        {
            await Executions.Gate(key).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Executions.Count($"{key}:stopped");
            throw;
        }

        await context.ReportProgressAsync(10, 10, "done", cancellationToken);
        context.SetResult(new { key });
    }
}

/// <summary>
/// test.checkpoint: counts to 10, saving a checkpoint after each step (as an import does after each batch), and
/// records where each execution started; its first execution fails for good after step 6.
/// </summary>
public sealed class CheckpointHandler : IJobHandler
{

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var key = context.ReadPayload<TestPayload>().Key;
        var execution = Executions.Count(key);
        var start = context.Checkpoint is { } json ? JsonDocument.Parse(json).RootElement.GetProperty("done").GetInt32() : 0;
        Executions.Count($"{key}:from:{start}");
        for (var done = start + 1; done <= 10; done++)
        {
            await context.ReportProgressAsync(done, 10, $"step {done}", cancellationToken);
            await context.SaveCheckpointAsync($$"""{"done":{{done}}}""", cancellationToken);
            if (execution == 1 && done == 6)
            {
                throw new PermanentJobFailure("stopped after step 6");
            }
        }

        context.SetResult(new { start });
    }
}

/// <summary>
/// test.count: counts executions per job and which worker (lease owner) ran it, holding the job briefly so
/// overlapping claims would show.
/// </summary>
public sealed class CountingHandler(EmporiumDbContext db) : IJobHandler
{

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var key = context.ReadPayload<TestPayload>().Key;
        Executions.Count($"{key}:{context.Id}");
        var owner = await db.Set<Job>().Where(j => j.Id == context.Id).Select(j => j.LeaseOwner).SingleAsync(cancellationToken);
        Executions.Count($"{key}:owner:{owner}");
        await Task.Delay(30, cancellationToken);
    }
}

public static class JobApi
{
    /// <summary>Enqueues through the outbox as a feature would: IJobQueue plus the caller's SaveChanges.</summary>
    public static async Task<long> EnqueueAsync(this EmporiumApp app, string kind, object payload, int? maxAttempts = null)
    {
        using var scope = app.Services.CreateScope();
        var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue(kind, payload, maxAttempts);
        await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
        return job.Id;
    }

    public static Task<Job?> RowAsync(this EmporiumApp app, long id) =>
        app.WithDbAsync(db => db.Set<Job>().AsNoTracking().FirstOrDefaultAsync(j => j.Id == id));

    /// <summary>Polls the job's row until <paramref name="done"/> holds, failing at once if <paramref name="worker"/> exits.</summary>
    internal static async Task<Job> WaitForRowAsync(this EmporiumApp app, long id, Func<Job, bool> done, WorkerProcess worker, double seconds = 30)
    {
        var deadline = TestTime.Deadline(seconds);
        while (true)
        {
            var job = await app.RowAsync(id);
            if (job is not null && done(job))
            {
                return job;
            }

            worker.HasExited.Should().BeFalse("the worker should keep running: {0}", worker.Output);
            DateTime.UtcNow.Should().BeBefore(deadline, "job {0} is {1} ({2}); worker output: {3}", id, job?.Status, job?.Progress, worker.Output);
            await Task.Delay(20);
        }
    }

    /// <summary>Polls GET /api/jobs/{id} until <paramref name="done"/> holds, failing with the last body after the timeout.</summary>
    public static async Task<JsonElement> WaitForAsync(this HttpClient client, long id, Func<JsonElement, bool> done, double seconds = 15)
    {
        var deadline = TestTime.Deadline(seconds);
        while (true)
        {
            var job = await (await client.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
            if (done(job))
            {
                return job;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "job {0} should get there; it is now {1}", id, job);
            await Task.Delay(50);
        }
    }

    /// <summary>The events of <paramref name="type"/> whose data is job <paramref name="id"/>, read through GET /api/events.</summary>
    public static async Task<IReadOnlyList<JsonElement>> JobEventsAsync(this HttpClient client, string type, long id)
    {
        var page = await (await client.GetAsync($"/api/events?type={type}&page_size=100")).ShouldBe(HttpStatusCode.OK);
        return [.. page.GetProperty("results").EnumerateArray().Where(e => e.GetProperty("data").GetProperty("id").GetInt64() == id)];
    }

    public static Task<JsonElement> WaitForStatusAsync(this HttpClient client, long id, string status, double seconds = 15) =>
        client.WaitForAsync(id, job => job.Str("status") == status, seconds);
}
