using Emporium.Features.Jobs;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;
using RegisteredWorker = Emporium.Features.Jobs.Workers.WorkerProcess;

namespace Emporium.Tests.Admin;

public sealed class WorkerPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task The_workers_page_shows_this_process_online_and_a_lost_worker_with_the_job_it_held()
    {
        var lostId = $"gone-host:4243:{Guid.NewGuid():N}";
        var now = DateTime.UtcNow;
        var job = await App.WithDbAsync(async db =>
        {
            db.Add(new RegisteredWorker
            {
                Id = lostId, Host = "gone-host", ProcessId = 4243, Role = "Worker", Kinds = "image.*", Concurrency = 2, Version = "old",
                StartedAt = now.AddHours(-1), HeartbeatAt = now.AddMinutes(-3), JobsCompleted = 12, JobsFailed = 1,
            });
            var held = new Job
            {
                Kind = "image.process", Payload = "{}", Status = JobStatus.PROCESSING, Attempts = 1, MaxAttempts = 3, NextRunAt = now,
                LeaseOwner = lostId, LeaseExpiresAt = now.AddMinutes(10), CreatedAt = now, UpdatedAt = now, StartedAt = now,
            };
            db.Add(held);
            await db.SaveChangesAsync();
            return held.Id;
        });

        try
        {
            await SignInAsync();
            await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Workers", Exact = true }).ClickAsync();
            await Expect(Heading("Workers")).ToBeVisibleAsync();

            var lost = Page.Locator($"tr[data-worker-id='{lostId}']");
            await Expect(lost).ToContainTextAsync("Lost");
            await Expect(lost).ToContainTextAsync("gone-host:4243");
            await Expect(lost).ToContainTextAsync("image.*");
            await Expect(lost).ToContainTextAsync("12 completed");
            await Expect(lost.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = $"#{job}" })).ToBeVisibleAsync();
            await Expect(lost).ToContainTextAsync("released");

            var online = Page.Locator("tr[data-worker-id]").Filter(new LocatorFilterOptions { HasText = $":{Environment.ProcessId}" }).First;
            await Expect(online).ToContainTextAsync("Online");
            await Expect(online).ToContainTextAsync("every kind");
        }
        finally
        {
            await App.WithDbAsync(async db =>
            {
                var row = await db.Set<Job>().FindAsync(job);
                row!.Status = JobStatus.CANCELLED;
                return await db.SaveChangesAsync();
            });
        }
    }
}
