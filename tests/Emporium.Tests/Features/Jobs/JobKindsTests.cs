using System.ComponentModel.DataAnnotations;
using Emporium.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Jobs;

/// <summary>Jobs:Kinds, the patterns a worker is limited to.</summary>
public sealed class JobKindsTests
{
    [Theory]
    [InlineData("image.*", "image.process", true)]
    [InlineData("image.*", "catalog.import", false)]
    [InlineData("!image.*", "image.process", false)]
    [InlineData("!image.*", "catalog.import", true)]
    [InlineData("catalog.*, !catalog.export", "catalog.import", true)]
    [InlineData("catalog.*, !catalog.export", "catalog.export", false)]
    [InlineData("*.import", "catalog.import", true)]
    [InlineData("a*c*e", "abcde", true)]
    [InlineData("a*c*e", "abde", false)]
    [InlineData("email.order_confirmation", "email.order_confirmation", true)]
    [InlineData("", "anything", true)]
    public void A_kind_is_taken_when_an_included_pattern_matches_and_no_excluded_one_does(string patterns, string kind, bool taken) =>
        JobKinds.Parse(patterns, out _)!.Takes(kind).Should().Be(taken);

    [Theory]
    [InlineData("Image.*")]
    [InlineData("image.?")]
    [InlineData("!")]
    [InlineData("image process")]
    public void A_pattern_outside_the_kind_alphabet_stops_the_start_with_a_clear_reason(string patterns)
    {
        var errors = new JobsOptions { Kinds = patterns }.Validate(new ValidationContext(new object())).ToList();
        errors.Should().ContainSingle().Which.ErrorMessage.Should().StartWith("Jobs:Kinds:").And.Contain("is not a kind pattern");
    }

    [Fact]
    public void Underscores_and_percent_signs_are_literal_in_sql() =>
        JobKinds.ToLike("email.order_*").Should().Be(@"email.order\_%");
}

public class KindLimitedSqliteApp : JobsSqliteApp
{
    public KindLimitedSqliteApp() => With("Jobs:Kinds", "test.*, !test.flaky");
}

public class KindLimitedPostgresApp : JobsPostgresApp
{
    public KindLimitedPostgresApp() => With("Jobs:Kinds", "test.*, !test.flaky");
}

/// <summary>A worker limited by Jobs:Kinds claims only those kinds and leaves the rest in the queue for others.</summary>
public abstract class KindLimitedWorkerTests(EmporiumApp app)
{
    [Fact]
    public async Task A_limited_worker_runs_the_kinds_it_takes_and_leaves_the_others_pending()
    {
        var key = Guid.NewGuid().ToString("N")[..12];
        var other = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 1 });
        var excluded = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        var taken = await app.EnqueueAsync("test.count", new TestPayload(key));

        var deadline = TestTime.Deadline(20);
        while ((await app.RowAsync(taken))!.Status != JobStatus.COMPLETED)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the worker takes test.* jobs");
            await Task.Delay(100);
        }

        // Polls come every 100 ms here: a second is ten chances to take the others by mistake.
        await Task.Delay(1000);
        foreach (var id in new[] { other, excluded })
        {
            var row = await app.RowAsync(id);
            row!.Status.Should().Be(JobStatus.PENDING, "job {0} ({1}) is not a kind this worker takes", id, row.Kind);
            row.Attempts.Should().Be(0);
        }

        await app.WithDbAsync(db => db.Set<Job>().Where(job => job.Id == other || job.Id == excluded)
            .ExecuteUpdateAsync(set => set.SetProperty(job => job.Status, JobStatus.CANCELLED)));
    }
}

public sealed class KindLimitedWorkerTestsOnSqlite(KindLimitedSqliteApp app) : KindLimitedWorkerTests(app), IClassFixture<KindLimitedSqliteApp>;

public sealed class KindLimitedWorkerTestsOnPostgres(KindLimitedPostgresApp app) : KindLimitedWorkerTests(app), IClassFixture<KindLimitedPostgresApp>;
