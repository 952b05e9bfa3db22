using System.Net;
using Emporium.Features.Jobs;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Jobs;

/// <summary>A worker that polls only every ten minutes, so a job that runs before a test's deadline was woken by the after-commit signal.</summary>
public class SlowPollSqliteApp : JobsSqliteApp
{
    public SlowPollSqliteApp() => With("Jobs:PollInterval", "00:10:00");
}

public class SlowPollPostgresApp : JobsPostgresApp
{
    public SlowPollPostgresApp() => With("Jobs:PollInterval", "00:10:00");
}

public abstract class JobSignalTests(EmporiumApp app)
{
    [Fact]
    public async Task A_committed_job_wakes_the_worker_without_waiting_for_the_poll()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        await Task.Delay(500); // let the runner's first empty claim pass, so it is asleep in its poll

        var plain = await app.EnqueueAsync("test.flaky", new TestPayload(Guid.NewGuid().ToString("N")));
        await staff.WaitForStatusAsync(plain, "COMPLETED");

        long inTransaction;
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("test.flaky", new TestPayload(Guid.NewGuid().ToString("N")));
            await db.SaveChangesAsync();
            await Task.Delay(300);
            (await staff.GetAsync($"/api/jobs/{job.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the job is not committed yet");
            await transaction.CommitAsync();
            inTransaction = job.Id;
        }

        await staff.WaitForStatusAsync(inTransaction, "COMPLETED");
    }

    [Fact]
    public async Task A_job_retried_by_hand_runs_without_waiting_for_the_poll()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = await app.EnqueueAsync("test.permanent", new TestPayload(Guid.NewGuid().ToString("N")));
        var first = await staff.WaitForStatusAsync(id, "FAILED");

        await (await staff.PostAsync($"/api/jobs/{id}/retry", null)).ShouldBe(HttpStatusCode.OK);

        var again = await staff.WaitForAsync(id, job => job.Str("status") == "FAILED" && job.Str("finished_at") != first.Str("finished_at"));
        again.GetProperty("attempts").GetInt32().Should().Be(1);
        again.Str("error_message").Should().Be("the file has no header row");
    }
}

public sealed class JobSignalTestsOnSqlite(SlowPollSqliteApp app) : JobSignalTests(app), IClassFixture<SlowPollSqliteApp>;

public sealed class JobSignalTestsOnPostgres(SlowPollPostgresApp app) : JobSignalTests(app), IClassFixture<SlowPollPostgresApp>;
