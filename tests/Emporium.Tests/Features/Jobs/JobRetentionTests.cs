using Emporium.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Jobs;

/// <summary>Jobs that ended and worker rows gone silent are deleted after Jobs:RetainFor (30 days); nothing else is.</summary>
public abstract class JobRetentionTests(EmporiumApp app)
{
    [Fact]
    public async Task Jobs_ended_and_workers_silent_past_the_retention_are_deleted_and_the_rest_kept()
    {
        var now = DateTime.UtcNow;
        var old = now.AddDays(-31);
        var ids = await app.WithDbAsync(async db =>
        {
            Job Row(JobStatus status, DateTime? finished) => new()
            {
                Kind = "test.count", Payload = "{}", Status = status, MaxAttempts = 3, NextRunAt = now.AddDays(1), CreatedAt = old, UpdatedAt = old,
                FinishedAt = finished,
            };
            var rows = new[]
            {
                Row(JobStatus.COMPLETED, old), Row(JobStatus.DEAD, old), Row(JobStatus.CANCELLED, old),
                Row(JobStatus.COMPLETED, now.AddDays(-1)), Row(JobStatus.PENDING, null), Row(JobStatus.FAILED, old),
            };
            db.AddRange(rows);
            await db.SaveChangesAsync();
            return rows.Select(r => r.Id).ToArray();
        });
        var tag = Guid.NewGuid().ToString("N")[..12];
        await app.WithDbAsync(async db =>
        {
            db.AddRange(
                new Emporium.Features.Jobs.Workers.WorkerProcess { Id = $"gone-{tag}", Host = "h", Role = "Worker", Kinds = "*", Version = "1", StartedAt = old, HeartbeatAt = old, StoppedAt = old },
                new Emporium.Features.Jobs.Workers.WorkerProcess { Id = $"recent-{tag}", Host = "h", Role = "Worker", Kinds = "*", Version = "1", StartedAt = now, HeartbeatAt = now.AddDays(-2) });
            await db.SaveChangesAsync();
            return 0;
        });

        var swept = await app.Services.GetRequiredService<JobRetention>().SweepAsync(CancellationToken.None);

        swept.Should().BeGreaterThanOrEqualTo(5);
        var left = await app.WithDbAsync(db => db.Set<Job>().Where(j => ids.Contains(j.Id)).Select(j => j.Id).ToListAsync());
        left.Should().BeEquivalentTo([ids[3], ids[4]], "a job finished yesterday and one still waiting stay");
        var workers = await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Workers.WorkerProcess>().Where(w => w.Id.EndsWith(tag)).Select(w => w.Id).ToListAsync());
        workers.Should().Equal($"recent-{tag}");
    }
}

public sealed class JobRetentionTestsOnSqlite(JobsSqliteApp app) : JobRetentionTests(app), IClassFixture<JobsSqliteApp>;

public sealed class JobRetentionTestsOnPostgres(JobsPostgresApp app) : JobRetentionTests(app), IClassFixture<JobsPostgresApp>;
