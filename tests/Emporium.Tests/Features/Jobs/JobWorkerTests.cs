using System.Diagnostics;
using System.Text;
using Emporium.Features.Jobs;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Jobs;

/// <summary>
/// Several workers on one database: real worker processes (the built Emporium.dll with Emporium:Role=Worker),
/// one of them killed with SIGKILL mid-job, and two hosts competing for the same queue.
/// </summary>
public abstract class JobWorkerTests(EmporiumApp app, string connectionString)
{
    [Fact]
    public async Task A_job_whose_worker_was_killed_is_completed_by_another_worker_after_the_lease_expires()
    {
        // The fixture serves the API only, so the two worker processes are the only ones that run jobs.
        var id = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 2 });
        using (var first = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory))
        {
            var running = await app.WaitForRowAsync(id, job => job.Status == JobStatus.PROCESSING && job.Progress is not null, first);
            running.LeaseOwner.Should().Contain($":{first.Id}:", "the first worker process holds the lease");
            running.Attempts.Should().Be(1);
            first.Kill();
        }

        var orphaned = await app.RowAsync(id);
        orphaned!.Status.Should().Be(JobStatus.PROCESSING, "nobody released the job: its worker died");

        using var second = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory);
        var completed = await app.WaitForRowAsync(id, job => job.Status == JobStatus.COMPLETED, second, seconds: 40);

        completed.Attempts.Should().Be(2);
        completed.Result.Should().Contain("\"attempt\":2");
        completed.StartedAt.Should().BeOnOrAfter(orphaned.LeaseExpiresAt!.Value, "the job is taken again only after the lease expired");
    }

    [Fact]
    public async Task A_worker_stopped_with_sigterm_gives_its_job_back_and_exits_0()
    {
        var id = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 60 });
        using var worker = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory, ["--Host:ShutdownTimeout=00:00:20"]);
        await app.WaitForRowAsync(id, job => job.Status == JobStatus.PROCESSING && job.Progress is not null, worker);

        (await worker.TerminateAsync()).Should().Be(0, "a drained worker exits cleanly: {0}", worker.Output);

        var released = await app.RowAsync(id);
        released!.Status.Should().Be(JobStatus.PENDING, "the job was handed back at once, not left for its lease to expire");
        released.LeaseOwner.Should().BeNull();
        released.Attempts.Should().Be(0, "the interrupted attempt is given back");
        var registered = await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Workers.WorkerProcess>().AsNoTracking()
            .SingleAsync(w => w.ProcessId == worker.Id && w.Host == Environment.MachineName));
        registered.StoppedAt.Should().NotBeNull("a worker that shuts down says so, and is listed as stopped rather than lost");
        await app.WithDbAsync(db => db.Set<Job>().Where(job => job.Id == id).ExecuteUpdateAsync(set => set.SetProperty(job => job.Status, JobStatus.CANCELLED)));
    }
}

public class JobsApiOnlySqliteApp : JobsSqliteApp
{
    public JobsApiOnlySqliteApp() => With("Emporium:Role", "Api");
}

public class JobsApiOnlyPostgresApp : JobsPostgresApp
{
    public JobsApiOnlyPostgresApp() => With("Emporium:Role", "Api");
}

public sealed class JobWorkerTestsOnSqlite(JobsApiOnlySqliteApp app) : JobWorkerTests(app, app.Database), IClassFixture<JobsApiOnlySqliteApp>;

public sealed class JobWorkerTestsOnPostgres(JobsApiOnlyPostgresApp app) : JobWorkerTests(app, app.Database), IClassFixture<JobsApiOnlyPostgresApp>;

/// <summary>Two hosts on one PostgreSQL database share the queue; SKIP LOCKED keeps their claims apart.</summary>
public sealed class TwoRunnerTests(JobsPostgresApp app) : IClassFixture<JobsPostgresApp>
{
    [Fact]
    public async Task Two_workers_on_one_database_never_run_the_same_job()
    {
        await using var other = new SecondHost(DatabaseProvider.Postgres, app.Database);
        _ = other.Services; // starts the second host and its runner
        var key = Guid.NewGuid().ToString("N")[..12];
        var ids = new List<long>();
        using (var scope = app.Services.CreateScope())
        {
            var queue = scope.ServiceProvider.GetRequiredService<IJobQueue>();
            var jobs = Enumerable.Range(0, 80).Select(_ => queue.Enqueue("test.count", new TestPayload(key))).ToList();
            await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
            ids.AddRange(jobs.Select(job => job.Id));
        }

        var deadline = TestTime.Deadline(30);
        while (await app.WithDbAsync(db => db.Set<Job>().CountAsync(j => ids.Contains(j.Id) && j.Status != JobStatus.COMPLETED)) > 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "80 short jobs should finish");
            await Task.Delay(100);
        }

        ids.Select(id => Executions.Of($"{key}:{id}")).Should().AllSatisfy(count => count.Should().Be(1));
        Executions.KeysStartingWith($"{key}:owner:").Should().HaveCount(2, "both workers took part");
        (await app.WithDbAsync(db => db.Set<Job>().Where(j => ids.Contains(j.Id)).Select(j => j.Attempts).Distinct().ToListAsync()))
            .Should().Equal(1);
    }
}

/// <summary>The built service run as a worker-only child process on a given database.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static WorkerProcess Start(DatabaseProvider provider, string connectionString, string dataDirectory, IEnumerable<string>? extraArguments = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "Emporium.dll"),
                "--urls=http://127.0.0.1:0",
                "--Emporium:Role=Worker",
                $"--Emporium:DataDirectory={dataDirectory}",
                $"--Database:Provider={provider}",
                $"--Database:ConnectionString={connectionString}",
                "--Logging:Json=false",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in JobSettings.Fast)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        foreach (var argument in extraArguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail;
        start.Environment["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword;
        start.Environment.Remove("DATABASE_URL");
        var worker = new WorkerProcess(Process.Start(start)!);
        worker._process.OutputDataReceived += (_, line) => worker.Append(line.Data);
        worker._process.ErrorDataReceived += (_, line) => worker.Append(line.Data);
        worker._process.BeginOutputReadLine();
        worker._process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>SIGTERM, as an orchestrator stops a process; answers the exit code once it has exited.</summary>
    public async Task<int> TerminateAsync(double seconds = 40)
    {
        using (var signal = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release, exactly like a crash or power loss.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
