using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Emporium.Features.Jobs;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Emporium.Tests.Features.Jobs;

/// <summary>The engine end to end: outbox, claims, retries, outcomes, cancel, progress, over the public API.</summary>
public abstract class JobEngineTests(EmporiumApp app)
{
    private static string NewKey() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>What a worker killed during attempt 3 of 3 leaves behind: a job PROCESSING under a lease that has expired.</summary>
    private async Task<long> LeftByAWorkerThatDiedOnItsLastAttemptAsync(string kind, string key, bool cancelRequested = false)
    {
        using var scope = app.Services.CreateScope();
        var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue(kind, new TestPayload(key));
        job.CancelRequested = cancelRequested;
        job.Status = JobStatus.PROCESSING;
        job.Attempts = 3;
        job.LeaseOwner = "a-dead-worker";
        job.LeaseExpiresAt = DateTime.UtcNow.AddSeconds(-1);
        await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
        return job.Id;
    }

    private Task<HttpClient> StaffAsync() => app.NewUserAsync(Roles.Staff).ContinueWith(user => user.Result.Http, TaskScheduler.Default);

    [Fact]
    public async Task A_job_enqueued_in_a_transaction_that_rolls_back_never_runs()
    {
        var staff = await StaffAsync();
        var rolledBack = NewKey();
        var committed = NewKey();
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("test.flaky", new TestPayload(rolledBack));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        long committedId;
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("test.flaky", new TestPayload(committed));
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
            committedId = job.Id;
        }

        // The committed job, enqueued after the rolled-back one, has run: a rolled-back one would have run by now too.
        await staff.WaitForStatusAsync(committedId, "COMPLETED");
        Executions.Of(committed).Should().Be(1);
        Executions.Of(rolledBack).Should().Be(0);
        (await app.WithDbAsync(db => db.Set<Job>().CountAsync(j => j.Payload.Contains(rolledBack)))).Should().Be(0);
    }

    [Fact]
    public async Task A_handler_that_throws_twice_then_succeeds_completes_on_the_third_attempt()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key, Failures: 2));

        var job = await staff.WaitForStatusAsync(id, "COMPLETED");

        job.GetProperty("attempts").GetInt32().Should().Be(3);
        job.GetProperty("result").GetProperty("attempt").GetInt32().Should().Be(3);
        job.GetProperty("error_message").ValueKind.Should().Be(JsonValueKind.Null);
        job.GetProperty("finished_at").ValueKind.Should().Be(JsonValueKind.String);
        Executions.Of(key).Should().Be(3);
    }

    [Fact]
    public async Task A_handler_that_keeps_failing_ends_dead_with_its_error_and_retry_revives_it()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key, Failures: 3));

        var dead = await staff.WaitForStatusAsync(id, "DEAD");
        dead.GetProperty("attempts").GetInt32().Should().Be(3);
        dead.GetProperty("max_attempts").GetInt32().Should().Be(3);
        dead.Str("error_message").Should().Contain("flaky failure 3");
        Executions.Of(key).Should().Be(3);

        var retried = await (await staff.PostAsync($"/api/jobs/{id}/retry", null)).ShouldBe(HttpStatusCode.OK);
        retried.Str("status").Should().BeOneOf("PENDING", "PROCESSING", "COMPLETED");

        var revived = await staff.WaitForStatusAsync(id, "COMPLETED");
        revived.GetProperty("attempts").GetInt32().Should().Be(1);
        Executions.Of(key).Should().Be(4);
    }

    [Fact]
    public async Task Retry_by_hand_resumes_from_the_checkpoint_unless_asked_to_start_over()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.checkpoint", new TestPayload(key));
        var failed = await staff.WaitForStatusAsync(id, "FAILED");
        failed.GetProperty("progress").GetProperty("processed").GetInt64().Should().Be(6);

        var retried = await (await staff.PostAsync($"/api/jobs/{id}/retry", null)).ShouldBe(HttpStatusCode.OK);

        retried.GetProperty("progress").ValueKind.Should().Be(JsonValueKind.Object, "the job shows where it resumes from");
        retried.GetProperty("progress").TryGetProperty("checkpoint", out _).Should().BeFalse("the checkpoint is the handler's business");
        var resumed = await staff.WaitForStatusAsync(id, "COMPLETED");
        resumed.GetProperty("result").GetProperty("start").GetInt32().Should().Be(6);
        resumed.GetProperty("progress").GetProperty("processed").GetInt64().Should().Be(10);
        Executions.Of($"{key}:from:6").Should().Be(1);

        var other = NewKey();
        var second = await app.EnqueueAsync("test.checkpoint", new TestPayload(other));
        await staff.WaitForStatusAsync(second, "FAILED");
        await (await staff.PostAsync($"/api/jobs/{second}/retry?from_start=true", null)).ShouldBe(HttpStatusCode.OK);
        var restarted = await staff.WaitForStatusAsync(second, "COMPLETED");
        restarted.GetProperty("result").GetProperty("start").GetInt32().Should().Be(0);
        Executions.Of($"{other}:from:0").Should().Be(2);
    }

    [Fact]
    public async Task A_permanent_failure_fails_the_job_at_once_without_retrying()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.permanent", new TestPayload(key));

        var failed = await staff.WaitForStatusAsync(id, "FAILED");

        failed.GetProperty("attempts").GetInt32().Should().Be(1);
        failed.Str("error_message").Should().Be("the file has no header row");
        await Task.Delay(300);
        Executions.Of(key).Should().Be(1);
    }

    /// <summary>
    /// During a rolling upgrade a newer release queues a kind the older workers have no handler for: they leave it to the
    /// workers that know it (it failed at once before, and an order's email was never sent).
    /// </summary>
    [Fact]
    public async Task A_job_of_a_kind_this_worker_has_no_handler_for_waits_for_a_worker_that_has_one()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var kind = $"test.newer-{key}";
        var id = await app.EnqueueAsync(kind, new TestPayload(key));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var waiting = await (await staff.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        waiting.Str("status").Should().Be("PENDING", "no worker here handles {0}", kind);
        waiting.GetProperty("attempts").GetInt32().Should().Be(0);

        var database = app switch { JobsSqliteApp sqlite => sqlite.Database, JobsPostgresApp postgres => postgres.Database, _ => throw new NotSupportedException() };
        await using var newer = new SecondHost(app.Provider, database, (kind, typeof(CountingHandler)));
        _ = newer.Services;
        var done = await staff.WaitForStatusAsync(id, "COMPLETED");
        done.GetProperty("attempts").GetInt32().Should().Be(1);
        Executions.Of($"{key}:{id}").Should().Be(1);
    }

    [Fact]
    public async Task Retry_answers_409_for_a_job_that_is_not_stopped_and_404_for_none()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        await staff.WaitForStatusAsync(id, "COMPLETED");

        await (await staff.PostAsync($"/api/jobs/{id}/retry", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.PostAsync("/api/jobs/987654321/retry", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.GetAsync("/api/jobs/987654321")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_cancels_it_before_it_runs()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        long id;
        using (var scope = app.Services.CreateScope())
        {
            var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("test.flaky", new TestPayload(key));
            job.NextRunAt = DateTime.UtcNow.AddHours(1); // due later, so it stays PENDING while we cancel it
            await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
            id = job.Id;
        }

        var cancelled = await (await staff.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBe(HttpStatusCode.OK);

        cancelled.Str("status").Should().Be("CANCELLED");
        await (await staff.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        Executions.Of(key).Should().Be(0);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_its_handler_and_ends_cancelled()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.gate", new TestPayload(key));
        await staff.WaitForStatusAsync(id, "PROCESSING");

        var accepted = await (await staff.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBe(HttpStatusCode.Accepted);
        accepted.GetProperty("cancel_requested").GetBoolean().Should().BeTrue();

        var cancelled = await staff.WaitForStatusAsync(id, "CANCELLED");
        cancelled.GetProperty("finished_at").ValueKind.Should().Be(JsonValueKind.String);
        Executions.Open(key);
        await Task.Delay(300);
        (await app.RowAsync(id))!.Status.Should().Be(JobStatus.CANCELLED);
        Executions.Of(key).Should().Be(1);
    }

    [Fact]
    public async Task A_cancel_that_arrives_while_the_attempt_fails_ends_the_job_cancelled_not_dead()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.gate-fail", new TestPayload(key), maxAttempts: 1);
        await staff.WaitForStatusAsync(id, "PROCESSING");

        await (await staff.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBe(HttpStatusCode.Accepted);
        Executions.Open(key);

        var ended = await staff.WaitForAsync(id, job => job.Str("status") is not ("PENDING" or "PROCESSING"));
        ended.Str("status").Should().Be("CANCELLED", "the cancel came before the failure was recorded");
    }

    [Fact]
    public async Task A_job_cancelled_before_its_worker_died_on_the_last_attempt_ends_cancelled_not_dead()
    {
        var staff = await StaffAsync();
        var id = await LeftByAWorkerThatDiedOnItsLastAttemptAsync("test.flaky", NewKey(), cancelRequested: true);

        var ended = await staff.WaitForAsync(id, job => job.Str("status") is not ("PENDING" or "PROCESSING"));

        ended.Str("status").Should().Be("CANCELLED");
        ended.GetProperty("cancel_requested").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task A_job_that_completes_before_its_worker_sees_the_cancel_is_completed_with_no_cancel_pending()
    {
        // The row of a job another worker runs, a cancel asked for and not yet seen by its heartbeat.
        long id;
        using (var scope = app.Services.CreateScope())
        {
            var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("test.gate", new TestPayload(NewKey()));
            job.Status = JobStatus.PROCESSING;
            job.Attempts = 1;
            job.CancelRequested = true;
            job.LeaseOwner = "a-busy-worker";
            job.LeaseExpiresAt = DateTime.UtcNow.AddMinutes(5);
            await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
            id = job.Id;
        }

        var completed = await app.WithDbAsync(db => new Emporium.Infrastructure.Jobs.JobStore(db).CompleteAsync(id, "a-busy-worker", 1, null, null, DateTime.UtcNow));

        completed.Should().Be(1);
        var row = await app.RowAsync(id);
        row!.Status.Should().Be(JobStatus.COMPLETED);
        row.CancelRequested.Should().BeFalse("cancel_requested is true only while a cancel can still stop the job");
    }

    [Fact]
    public async Task A_worker_that_lost_its_lease_stops_its_handler_and_leaves_the_row_to_the_new_owner()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.gate", new TestPayload(key));
        await staff.WaitForStatusAsync(id, "PROCESSING");

        // As if the lease had expired and another worker had claimed the job meanwhile.
        await app.WithDbAsync(db => db.Set<Job>().Where(j => j.Id == id)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.LeaseOwner, "another-worker")));
        await Executions.WaitForAsync($"{key}:stopped", "the next heartbeat finds the lease gone and stops the handler");

        await Task.Delay(200);
        var row = await app.RowAsync(id);
        row!.Status.Should().Be(JobStatus.PROCESSING);
        row.LeaseOwner.Should().Be("another-worker", "the old worker writes nothing once the lease is not its own");

        // The stolen lease is never renewed, so it expires and the job is taken again and finishes.
        Executions.Open(key);
        var done = await staff.WaitForStatusAsync(id, "COMPLETED");
        done.GetProperty("attempts").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task A_worker_that_took_its_own_running_job_again_stops_the_older_attempt()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.gate", new TestPayload(key));
        await staff.WaitForStatusAsync(id, "PROCESSING");

        // As if this worker's heartbeats had been held up past the lease and its own claim loop had taken the job again:
        // same lease owner, a later attempt. The older attempt must not take that lease for its own.
        await app.WithDbAsync(db => db.Set<Job>().Where(j => j.Id == id)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.Attempts, j => j.Attempts + 1)));
        await Executions.WaitForAsync($"{key}:stopped", "the older attempt's next heartbeat finds the lease is a later attempt's");

        // Nobody renews that lease, so it expires, and the job is taken again and finishes.
        Executions.Open(key);
        var done = await staff.WaitForStatusAsync(id, "COMPLETED");
        done.GetProperty("attempts").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task A_job_whose_worker_died_on_its_last_attempt_is_dead_not_run_again()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await LeftByAWorkerThatDiedOnItsLastAttemptAsync("test.flaky", key);

        var dead = await staff.WaitForStatusAsync(id, "DEAD");

        dead.Str("error_message").Should().Contain("lease expired");
        Executions.Of(key).Should().Be(0);
    }

    [Fact]
    public async Task A_job_that_announces_its_outcome_has_one_completed_event_with_the_job_as_data_after_retries()
    {
        var staff = await StaffAsync();
        var id = await app.EnqueueAsync("test.announce", new TestPayload(NewKey(), Failures: 1));

        await staff.WaitForStatusAsync(id, "COMPLETED");

        var completed = await staff.JobEventsAsync("import.completed", id);
        completed.Should().ContainSingle();
        var data = completed[0].GetProperty("data");
        data.Str("status").Should().Be("COMPLETED");
        data.GetProperty("attempts").GetInt32().Should().Be(2);
        data.GetProperty("result").GetProperty("rows").GetInt32().Should().Be(42);
        completed[0].Str("id").Should().StartWith("evt_");
        completed[0].Str("type").Should().Be("import.completed");
        (await staff.JobEventsAsync("import.failed", id)).Should().BeEmpty("a retried attempt is not a failure of the job");
    }

    [Fact]
    public async Task A_permanent_failure_and_a_dead_job_each_announce_one_failed_event_and_no_completed_one()
    {
        var staff = await StaffAsync();
        var failedId = await app.EnqueueAsync("test.announce", new TestPayload(NewKey(), Failures: -1));
        var deadId = await app.EnqueueAsync("test.announce", new TestPayload(NewKey(), Failures: 10));

        await staff.WaitForStatusAsync(failedId, "FAILED");
        await staff.WaitForStatusAsync(deadId, "DEAD");

        var failed = (await staff.JobEventsAsync("import.failed", failedId)).Should().ContainSingle().Subject;
        failed.GetProperty("data").Str("error_message").Should().Be("nothing to announce but failure");
        var dead = (await staff.JobEventsAsync("import.failed", deadId)).Should().ContainSingle().Subject;
        dead.GetProperty("data").Str("status").Should().Be("DEAD");
        dead.GetProperty("data").GetProperty("attempts").GetInt32().Should().Be(3);
        (await staff.JobEventsAsync("import.completed", failedId)).Should().BeEmpty();
        (await staff.JobEventsAsync("import.completed", deadId)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_job_buried_after_its_worker_died_on_the_last_attempt_announces_its_failure()
    {
        var staff = await StaffAsync();
        var id = await LeftByAWorkerThatDiedOnItsLastAttemptAsync("test.announce", NewKey());

        await staff.WaitForStatusAsync(id, "DEAD");

        var dead = (await staff.JobEventsAsync("import.failed", id)).Should().ContainSingle().Subject;
        dead.GetProperty("data").Str("error_message").Should().Contain("lease expired");
    }

    [Fact]
    public async Task A_dead_job_whose_end_cannot_be_recorded_yet_does_not_stop_other_jobs_being_claimed()
    {
        var staff = await StaffAsync();
        var stuck = NewKey();
        var id = await LeftByAWorkerThatDiedOnItsLastAttemptAsync("test.unrecordable", stuck);

        try
        {
            var other = await app.EnqueueAsync("test.count", new TestPayload(NewKey()));
            await staff.WaitForStatusAsync(other, "COMPLETED");
            (await (await staff.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK))
                .Str("status").Should().Be("PROCESSING", "its burial waits until its failure can be recorded");
        }
        finally
        {
            Executions.Open(stuck);
        }

        await staff.WaitForStatusAsync(id, "DEAD");
    }

    [Fact]
    public async Task Progress_shows_on_the_job_and_its_event_stream_until_it_completes()
    {
        var staff = await StaffAsync();
        var key = NewKey();
        var id = await app.EnqueueAsync("test.gate", new TestPayload(key));

        var running = await staff.WaitForAsync(id, job => job.GetProperty("progress").ValueKind == JsonValueKind.Object);
        var progress = running.GetProperty("progress");
        running.Str("status").Should().Be("PROCESSING");
        progress.GetProperty("processed").GetInt64().Should().Be(5);
        progress.GetProperty("total").GetInt64().Should().Be(10);
        progress.GetProperty("percent").GetDouble().Should().Be(50);
        progress.Str("message").Should().Be("halfway");
        progress.TryGetProperty("rows_per_second", out _).Should().BeTrue();
        progress.TryGetProperty("eta_seconds", out _).Should().BeTrue();

        using var response = await staff.GetAsync($"/api/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(15));
        var events = new List<(string Type, JsonElement Job)>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            var job = JsonDocument.Parse(item.Data).RootElement.Clone();
            events.Add((item.EventType, job));
            if (events.Count == 1)
            {
                Executions.Open(key);
            }
        }

        events.Should().HaveCountGreaterThanOrEqualTo(2);
        events[0].Type.Should().Be("progress");
        events[0].Job.GetProperty("progress").GetProperty("processed").GetInt64().Should().Be(5);
        events[^1].Type.Should().Be("done");
        events[^1].Job.Str("status").Should().Be("COMPLETED");
        events[^1].Job.GetProperty("progress").GetProperty("processed").GetInt64().Should().Be(10);
        events[^1].Job.GetProperty("progress").GetProperty("percent").GetDouble().Should().Be(100);
    }

    [Fact]
    public async Task An_open_event_stream_ends_when_the_process_stops_so_it_does_not_hold_the_shutdown()
    {
        await using var stopping = new SqliteApp();
        await stopping.InitializeAsync();
        var staff = (await stopping.NewUserAsync(Roles.Staff)).Http;
        var id = await WaitingAnHourAsync(stopping);
        using var response = await staff.GetAsync($"/api/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(10));
        var events = new List<string>();

        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            events.Add(item.EventType);
            stopping.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        }

        events.Should().Equal(["progress"], "the stream ended when the process began to stop, long before the job would run");
    }

    /// <summary>A job of a kind no worker takes, due in an hour: its event stream has nothing to tell for an hour.</summary>
    private static Task<long> WaitingAnHourAsync(EmporiumApp app) =>
        app.WithDbAsync(async db =>
        {
            var job = new Job
            {
                Kind = "test.later", Payload = "{}", Status = JobStatus.PENDING, MaxAttempts = 1,
                NextRunAt = DateTime.UtcNow.AddHours(1), CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });

    [Fact]
    public async Task An_event_stream_of_a_waiting_job_is_kept_alive_and_ends_after_its_lifetime()
    {
        // A job due in an hour changes nothing for an hour: the stream sent nothing after its first event (a proxy cut it as
        // idle) and stayed open for as long as the client did, whatever became of the caller's access meanwhile.
        await using var streaming = new SqliteApp();
        streaming.With("Jobs:EventStreamKeepAlive", "00:00:00.300").With("Jobs:EventStreamLifetime", "00:00:02");
        await streaming.InitializeAsync();
        var staff = (await streaming.NewUserAsync(Roles.Staff)).Http;
        var id = await WaitingAnHourAsync(streaming);
        using var response = await staff.GetAsync($"/api/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(15));
        var events = new List<string>();

        await foreach (var item in SseParser.Create(stream).EnumerateAsync(timeout.Token))
        {
            events.Add(item.EventType);
        }

        timeout.IsCancellationRequested.Should().BeFalse("the stream ends by itself after Jobs:EventStreamLifetime");
        events.Should().HaveCountGreaterThanOrEqualTo(3).And.OnlyContain(type => type == "progress");
    }

    [Fact]
    public async Task The_event_stream_of_a_finished_job_sends_one_final_event()
    {
        var staff = await StaffAsync();
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(NewKey()));
        await staff.WaitForStatusAsync(id, "COMPLETED");

        var body = await staff.GetStringAsync($"/api/jobs/{id}/events");

        body.Should().StartWith("event: done").And.Contain("\"status\":\"COMPLETED\"").And.Contain("\"max_attempts\":3");
        await (await staff.GetAsync("/api/jobs/987654321/events")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_filters_by_kind_and_status()
    {
        var staff = await StaffAsync();
        var failed = await app.EnqueueAsync("test.permanent", new TestPayload(NewKey()));
        await staff.WaitForStatusAsync(failed, "FAILED");
        var done = await app.EnqueueAsync("test.flaky", new TestPayload(NewKey()));
        await staff.WaitForStatusAsync(done, "COMPLETED");

        var list = await (await staff.GetAsync("/api/jobs?kind=test.permanent&status=failed&page_size=100")).ShouldBe(HttpStatusCode.OK);
        var listed = list.GetProperty("results").EnumerateArray().ToList();
        listed.Select(j => j.GetProperty("id").GetInt64()).Should().Contain(failed).And.NotContain(done);
        listed.Should().OnlyContain(j => j.Str("kind") == "test.permanent" && j.Str("status") == "FAILED");

        var none = await (await staff.GetAsync("/api/jobs?kind=test.permanent&status=COMPLETED&page_size=100")).ShouldBe(HttpStatusCode.OK);
        none.GetProperty("results").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()).Should().NotContain(failed);

        var problem = await (await staff.GetAsync("/api/jobs?status=SLEEPING")).ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty("status", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Jobs_are_for_staff_only_and_the_seed_status_route_answers_the_same_body()
    {
        var staff = await StaffAsync();
        var customer = await app.NewUserAsync(Roles.Customer);
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(NewKey()));
        var job = await staff.WaitForStatusAsync(id, "COMPLETED");

        (await app.Anonymous().GetAsync($"/api/jobs/{id}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await customer.Http.GetAsync($"/api/jobs/{id}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await customer.Http.GetAsync($"/api/job/{id}/status")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var compat = await (await staff.GetAsync($"/api/job/{id}/status")).ShouldBe(HttpStatusCode.OK);
        compat.Str("status").Should().Be("COMPLETED");
        compat.GetProperty("id").GetInt64().Should().Be(job.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task The_built_in_sleep_job_reports_progress_and_completes()
    {
        var staff = await StaffAsync();
        var id = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 0.3 });

        var job = await staff.WaitForStatusAsync(id, "COMPLETED");

        job.GetProperty("progress").GetProperty("percent").GetDouble().Should().Be(100);
        job.GetProperty("result").GetProperty("slept_seconds").GetDouble().Should().Be(0.3);
    }

    [Fact]
    public async Task Graceful_shutdown_hands_a_running_job_back_without_counting_the_attempt()
    {
        // A database of its own, so this test's runner is the only one that can hold the job.
        EmporiumApp solo = app is JobsPostgresApp ? new JobsPostgresApp() : new JobsSqliteApp();
        await ((IAsyncLifetime)solo).InitializeAsync();
        try
        {
            var key = NewKey();
            var staff = (await solo.NewUserAsync(Roles.Staff)).Http;
            var id = await solo.EnqueueAsync("test.gate", new TestPayload(key));
            await staff.WaitForStatusAsync(id, "PROCESSING");

            await solo.Services.GetServices<IHostedService>().OfType<JobRunner>().Single().StopAsync(CancellationToken.None);

            var released = await solo.RowAsync(id);
            released!.Status.Should().Be(JobStatus.PENDING);
            released.Attempts.Should().Be(0);
            released.LeaseOwner.Should().BeNull();
            released.NextRunAt.Should().BeBefore(DateTime.UtcNow.AddSeconds(1));
        }
        finally
        {
            await ((IAsyncLifetime)solo).DisposeAsync();
        }
    }
}

public sealed class JobEngineTestsOnSqlite(JobsSqliteApp app) : JobEngineTests(app), IClassFixture<JobsSqliteApp>;

public sealed class JobEngineTestsOnPostgres(JobsPostgresApp app) : JobEngineTests(app), IClassFixture<JobsPostgresApp>
{
    [Fact]
    public async Task A_last_attempt_whose_outcome_the_database_drops_once_is_written_again_and_completes()
    {
        // The work was done, but the write of COMPLETED failed (a connection lost): left to its lease, a last attempt's job
        // became DEAD. A sequence is not rolled back with the failed write, so exactly the first write fails.
        var key = Guid.NewGuid().ToString("N")[..12];
        var drop = $$"""
            CREATE SEQUENCE drop_once_{{key}};
            CREATE FUNCTION drop_once_{{key}}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('drop_once_{{key}}') = 1 THEN RAISE EXCEPTION 'the connection was lost' USING ERRCODE = '08006'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER drop_once_{{key}} BEFORE UPDATE ON jobs FOR EACH ROW
                WHEN (NEW.status = 'COMPLETED' AND NEW.payload LIKE '%{{key}}%') EXECUTE FUNCTION drop_once_{{key}}();
            """;
        var undo = $"DROP TRIGGER drop_once_{key} ON jobs; DROP FUNCTION drop_once_{key}(); DROP SEQUENCE drop_once_{key};";
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(drop));
        try
        {
            var staff = (await app.NewUserAsync(Roles.Staff)).Http;
            var id = await app.EnqueueAsync("test.flaky", new TestPayload(key), maxAttempts: 1);

            var done = await staff.WaitForAsync(id, job => job.Str("status") is not ("PENDING" or "PROCESSING"));

            done.Str("status").Should().Be("COMPLETED");
            done.GetProperty("attempts").GetInt32().Should().Be(1);
            Executions.Of(key).Should().Be(1);
        }
        finally
        {
            await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(undo));
        }
    }

    [Fact]
    public async Task A_worker_that_cannot_renew_its_lease_stops_its_handler_before_the_lease_ends()
    {
        // The database refuses this job's heartbeats (as if out of reach): the handler ran on past the lease, and once another
        // worker took the job both ran it (a second confirmation email). It stops before the lease can end.
        var key = Guid.NewGuid().ToString("N")[..12];
        var id = await app.EnqueueAsync("test.gate", new TestPayload(key));
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        await staff.WaitForStatusAsync(id, "PROCESSING");
        var refuse = $$"""
            CREATE FUNCTION refuse_beats_{{id}}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the database is out of reach' USING ERRCODE = '08006'; END $$;
            CREATE TRIGGER refuse_beats_{{id}} BEFORE UPDATE ON jobs FOR EACH ROW
                WHEN (OLD.id = {{id}} AND OLD.status = 'PROCESSING' AND NEW.status = 'PROCESSING') EXECUTE FUNCTION refuse_beats_{{id}}();
            """;
        var allow = $"DROP TRIGGER refuse_beats_{id} ON jobs; DROP FUNCTION refuse_beats_{id}();";
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(refuse));
        try
        {
            // Jobs:LeaseDuration is 8 s here, a beat every 2.7 s: two missed beats leave less than one before the lease ends.
            await Executions.WaitForAsync($"{key}:stopped", "the handler is stopped once the lease would end before the next beat");
        }
        finally
        {
            await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(allow));
            Executions.Open(key);
        }

        // The lease ends unrenewed, the job is taken again and completes.
        await staff.WaitForStatusAsync(id, "COMPLETED");
    }
}
