using Emporium.Features.Jobs;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;
using Emporium.Tests.Features.Jobs;

namespace Emporium.Tests.Admin;

public sealed class WorkerPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task The_workers_page_shows_this_process_online_and_a_lost_worker_with_the_job_it_held()
    {
        var lostId = $"gone-host:4243:{Guid.NewGuid():N}";
        var job = await LostWorker.SeedAsync(App, lostId, "image.*", completed: 12, heldKind: "image.process");

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
