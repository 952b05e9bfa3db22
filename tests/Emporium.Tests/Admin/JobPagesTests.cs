using System.Net;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class JobPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task A_waiting_job_is_cancelled_from_the_list_then_retried_and_the_list_follows_it_to_completed()
    {
        var id = await EnqueueSleepAsync(seconds: 0.2, dueLater: true);
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Jobs", Exact = true }).ClickAsync();
        await Expect(Heading("Jobs")).ToBeVisibleAsync();
        var row = Page.Locator($"tr[data-job-id='{id}']");
        await Expect(row).ToContainTextAsync("PENDING");
        await Expect(row).ToContainTextAsync("diagnostics.sleep");
        await Expect(row.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = $"Retry job {id}" })).ToHaveCountAsync(0);

        await Button($"Cancel job {id}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Job {id} is cancelled.");
        await Expect(row).ToContainTextAsync("CANCELLED");
        await Expect(row).ToContainTextAsync("Cancelled on request.");
        await Expect(Button($"Cancel job {id}")).ToHaveCountAsync(0);

        await Button($"Retry job {id}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Job {id} is queued again.");
        // No reload: the list refreshes itself while a listed job waits or runs.
        await Expect(row).ToContainTextAsync("COMPLETED");
        await Expect(row).ToContainTextAsync("1 / 5");
        await Expect(row.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        var api = await AdminApiAsync();
        var job = await (await api.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        job.Str("status").Should().Be("COMPLETED");
    }

    [Fact]
    public async Task A_running_job_is_followed_live_and_cancelled_from_its_page()
    {
        var id = await EnqueueSleepAsync(seconds: 300);
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/jobs/{id}"));
        await Expect(Heading($"Job {id}")).ToBeVisibleAsync();
        await Expect(Page.Locator(".job-status")).ToContainTextAsync("PROCESSING");
        await Expect(Page.Locator(".progress-summary")).ToContainTextAsync("of 3,000 items");
        await Expect(Page.Locator(".progress-message")).ToContainTextAsync("slept");

        // The page moves on its own: the summary changes without any reload.
        var before = await Page.Locator(".progress-summary").TextContentAsync();
        await Expect(Page.Locator(".progress-summary")).Not.ToHaveTextAsync(before!);
        await Expect(Page.Locator(".connection")).ToHaveTextAsync("Following live.");

        await Button("Cancel job").ClickAsync();

        await Expect(Page.Locator(".job-status")).ToContainTextAsync("CANCELLED");
        await Expect(Page.Locator(".job-outcome")).ToContainTextAsync("The job was cancelled.");
        await Expect(Button("Retry")).ToBeVisibleAsync();
        await Expect(Button("Start over")).ToBeHiddenAsync(); // only an import has a checkpoint to leave behind
        await Expect(Button("Cancel job")).ToBeHiddenAsync();
        var api = await AdminApiAsync();
        var job = await (await api.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        job.Str("status").Should().Be("CANCELLED");
    }

    [Fact]
    public async Task A_dead_import_started_over_reads_its_file_from_the_top()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        // Line 2 is checkpointed: a plain Retry would skip it.
        var id = await Emporium.Tests.Features.Import.Uploads.SeedDeadImportAsync(App, tag, $"one-{tag},One", $"two-{tag},Two");
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/jobs/{id}"));
        await Expect(Page.Locator(".job-outcome")).ToContainTextAsync("the database went away");
        await Expect(Button("Retry")).ToBeVisibleAsync();

        await Button("Start over").ClickAsync();

        await Expect(Page.Locator(".job-status")).ToContainTextAsync("COMPLETED");
        var api = await AdminApiAsync();
        var page = await (await api.GetAsync($"/api/products?sku=one-{tag}")).ShouldBe(HttpStatusCode.OK);
        page.GetProperty("results").GetArrayLength().Should().Be(1, "starting over imports the checkpointed row too");
        var job = await (await api.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task The_status_filter_narrows_the_list()
    {
        var waiting = await EnqueueSleepAsync(seconds: 0.1, dueLater: true);
        var api = await AdminApiAsync();
        await (await api.PostAsync($"/api/jobs/{waiting}/cancel", null)).ShouldBe(HttpStatusCode.OK);
        var finished = await EnqueueSleepAsync(seconds: 0.1);
        await api.WaitForStatusAsync(finished, "COMPLETED");
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/jobs"));

        await Field("Status").SelectOptionAsync("CANCELLED");
        await Field("Kind").FillAsync("diagnostics.sleep");
        await Button("Apply").ClickAsync();

        await Expect(Page.Locator($"tr[data-job-id='{finished}']")).ToHaveCountAsync(0);
        await Expect(Page.Locator($"tr[data-job-id='{waiting}']")).ToContainTextAsync("CANCELLED");
        await Expect(Field("Status")).ToHaveValueAsync("CANCELLED");
        await Expect(Field("Kind")).ToHaveValueAsync("diagnostics.sleep");
    }

    [Fact]
    public async Task Someone_without_the_staff_role_sees_the_apis_403_problem()
    {
        var customer = await App.NewUserAsync(Roles.Customer);
        var token = customer.Http.DefaultRequestHeaders.Authorization!.Parameter!;
        var problem = await (await customer.Http.GetAsync("/api/jobs")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await Page.GotoAsync(App.AdminUrl("/login"));
        await Page.EvaluateAsync("""
            ([token, email]) => sessionStorage.setItem('emporium.admin.session',
              JSON.stringify({ access_token: token, refresh_token: null, expires_at: Date.now() + 600000, email }))
            """, new[] { token, customer.Email });

        await Page.GotoAsync(App.AdminUrl("/jobs"));

        var alert = Page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("The jobs could not be loaded.");
        await Expect(alert).ToContainTextAsync(problem.Str("title"));
    }

    [Fact]
    public async Task A_refresh_that_fails_once_shows_an_alert_that_goes_when_refreshing_works_again()
    {
        var id = await EnqueueSleepAsync(seconds: 300);
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/jobs"));
        await Expect(Page.Locator("table.data")).ToContainTextAsync("PROCESSING");

        // The list of an active job refreshes every second: one refresh meets a server that is restarting.
        var failed = 0;
        await Page.RouteAsync("**/api/jobs?*", async route =>
        {
            if (Interlocked.Increment(ref failed) == 1)
            {
                await route.FulfillAsync(new RouteFulfillOptions { Status = 503 });
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        var alert = Page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("The jobs could not be refreshed.");
        await Expect(alert).ToBeHiddenAsync();

        var api = await AdminApiAsync();
        await (await api.PostAsync($"/api/jobs/{id}/cancel", null)).ShouldBe(HttpStatusCode.Accepted);
    }

    private async Task<long> EnqueueSleepAsync(double seconds, bool dueLater = false)
    {
        using var scope = App.Services.CreateScope();
        var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue("diagnostics.sleep", new { seconds });
        if (dueLater)
        {
            job.NextRunAt = DateTime.UtcNow.AddHours(1); // not due, so it stays PENDING until the test acts on it
        }

        await scope.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>().SaveChangesAsync();
        return job.Id;
    }
}
