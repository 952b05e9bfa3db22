using System.Net;
using System.Text.Json;
using Emporium.Features.Jobs;
using RegisteredWorker = Emporium.Features.Jobs.Workers.WorkerProcess;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Jobs;

public class WorkersSqliteApp : JobsSqliteApp
{
    public WorkersSqliteApp() => With("Workers:HeartbeatInterval", "00:00:01").With("Jobs:Kinds", "diagnostics.*, test.*");
}

public class WorkersPostgresApp : JobsPostgresApp
{
    public WorkersPostgresApp() => With("Workers:HeartbeatInterval", "00:00:01").With("Jobs:Kinds", "diagnostics.*, test.*");
}

/// <summary>GET /api/workers: worker processes, the jobs they hold and what they have done; lost ones and their jobs.</summary>
public abstract class WorkerRegistryTests(EmporiumApp app)
{
    private static JsonElement.ArrayEnumerator Workers(JsonElement list) => list.GetProperty("results").EnumerateArray();

    [Fact]
    public async Task A_worker_is_listed_online_with_its_kinds_the_job_it_holds_and_what_it_finished()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var done = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 0 });
        var running = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 30 });

        var deadline = TestTime.Deadline(20);
        JsonElement self;
        while (true)
        {
            var list = await (await staff.GetAsync("/api/workers")).ShouldBe(HttpStatusCode.OK);
            self = Workers(list).FirstOrDefault(w => w.Str("status") == "online"
                && w.GetProperty("current_jobs").EnumerateArray().Any(j => j.GetProperty("id").GetInt64() == running));
            if (self.ValueKind != JsonValueKind.Undefined && self.GetProperty("jobs_completed").GetInt64() >= 1)
            {
                break;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the worker should report the finished job and hold the running one: {0}", list);
            await Task.Delay(300);
        }

        (await app.RowAsync(done))!.Status.Should().Be(JobStatus.COMPLETED);
        self.Str("role").Should().Be("All");
        self.Str("kinds").Should().Be("diagnostics.*, test.*");
        self.GetProperty("process_id").GetInt32().Should().Be(Environment.ProcessId);
        self.GetProperty("jobs_per_minute").GetDouble().Should().BeGreaterThan(0);
        var held = self.GetProperty("current_jobs").EnumerateArray().Single(j => j.GetProperty("id").GetInt64() == running);
        held.Str("kind").Should().Be("diagnostics.sleep");
        (await app.RowAsync(running))!.LeaseOwner.Should().Be(self.Str("id"), "a worker's id is the lease owner its jobs carry");

        (await staff.PostAsync($"/api/jobs/{running}/cancel", null)).IsSuccessStatusCode.Should().BeTrue();
        (await (await app.NewUserAsync(Roles.Seller)).Http.GetAsync("/api/workers")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await app.Anonymous().GetAsync("/api/workers")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_worker_that_stopped_heartbeating_is_lost_and_its_job_is_shown_until_its_lease_lets_it_go()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = $"gone-host:4242:{Guid.NewGuid():N}";
        var now = DateTime.UtcNow;
        var job = await LostWorker.SeedAsync(app, id, "every kind", completed: 7, heldKind: "catalog.import");

        var lost = Workers(await (await staff.GetAsync("/api/workers")).ShouldBe(HttpStatusCode.OK)).Single(w => w.Str("id") == id);
        lost.Str("status").Should().Be("lost", "its heartbeat is older than three intervals");
        lost.GetProperty("jobs_completed").GetInt64().Should().Be(7);
        var shown = lost.GetProperty("current_jobs").EnumerateArray().Single();
        shown.GetProperty("id").GetInt64().Should().Be(job);
        shown.GetProperty("lease_expires_at").GetDateTime().Should().BeCloseTo(now.AddMinutes(10), TimeSpan.FromSeconds(1));

        await app.WithDbAsync(db => db.Set<Job>().Where(j => j.Id == job).ExecuteUpdateAsync(set => set.SetProperty(j => j.Status, JobStatus.CANCELLED)));
    }
}

/// <summary>A worker that stopped heartbeating minutes ago while it held a job (PROCESSING, its lease running ten more minutes).</summary>
internal static class LostWorker
{
    public static Task<long> SeedAsync(EmporiumApp app, string id, string kinds, long completed, string heldKind) =>
        app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var (host, processId) = (id.Split(':')[0], int.Parse(id.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
            db.Add(new RegisteredWorker
            {
                Id = id, Host = host, ProcessId = processId, Role = "Worker", Kinds = kinds, Concurrency = 2, Version = "old",
                StartedAt = now.AddHours(-1), HeartbeatAt = now.AddMinutes(-3), JobsCompleted = completed, JobsFailed = 1,
            });
            var held = new Job
            {
                Kind = heldKind, Payload = "{}", Status = JobStatus.PROCESSING, Attempts = 1, MaxAttempts = 3, NextRunAt = now,
                LeaseOwner = id, LeaseExpiresAt = now.AddMinutes(10), CreatedAt = now, UpdatedAt = now, StartedAt = now,
            };
            db.Add(held);
            await db.SaveChangesAsync();
            return held.Id;
        });
}

public sealed class WorkerRegistryTestsOnSqlite(WorkersSqliteApp app) : WorkerRegistryTests(app), IClassFixture<WorkersSqliteApp>;

public sealed class WorkerRegistryTestsOnPostgres(WorkersPostgresApp app) : WorkerRegistryTests(app), IClassFixture<WorkersPostgresApp>;
