using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed partial class ImportPageTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task An_upload_with_a_bad_row_completes_with_its_counts_and_offers_errors_csv()
    {
        var tag = Tag();
        var csv = $"sku,name,price\r\nA-{tag},Alpha {tag},1.50\r\nB-{tag},Beta {tag},abc\r\nC-{tag},Gamma {tag},2\r\n";
        await SignInAsync();
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Import", Exact = true }).ClickAsync();
        await Expect(Heading("Import products")).ToBeVisibleAsync();

        await UploadAsync(csv);

        var id = JobId();
        await Expect(Heading($"Import job {id}")).ToBeVisibleAsync();
        await Expect(Page.Locator(".job-status")).ToContainTextAsync("COMPLETED");
        await ExpectCountsAsync(rows: 3, created: 2, updated: 0, unchanged: 0, rejected: 1, duplicates: 0);
        await Expect(Page.Locator(".progress-summary")).ToContainTextAsync("3 of 3 rows");
        await Expect(Page.Locator(".rejections")).ToContainTextAsync("1 row was rejected.");

        var download = await Page.RunAndWaitForDownloadAsync(() => Button("Download errors.csv").ClickAsync());
        download.SuggestedFilename.Should().Be($"job-{id}-errors.csv");
        var errors = await File.ReadAllTextAsync((await download.PathAsync())!);
        errors.Should().StartWith("error,sku,name,price").And.Contain($"B-{tag}").And.Contain("column price");
        errors.Should().NotContain($"A-{tag}");

        var api = await AdminApiAsync();
        var created = await (await api.GetAsync($"/api/products?search={tag}")).ShouldBe(HttpStatusCode.OK);
        created.GetProperty("count").GetInt32().Should().Be(2);

        // The dashboard lists it, and its ID opens the same live view.
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Jobs", Exact = true }).ClickAsync();
        await Expect(Heading("Jobs")).ToBeVisibleAsync();
        var row = Page.Locator($"tr[data-job-id='{id}']");
        await Expect(row).ToContainTextAsync("catalog.import");
        await Expect(row).ToContainTextAsync("COMPLETED");
        await Expect(row).ToContainTextAsync("1 / 5");
        await Expect(row).ToContainTextAsync("3 of 3 rows");
        await row.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = $"Open import job {id}" }).ClickAsync();
        await Expect(Heading($"Import job {id}")).ToBeVisibleAsync();
        await ExpectCountsAsync(rows: 3, created: 2, updated: 0, unchanged: 0, rejected: 1, duplicates: 0);
    }

    [Fact]
    public async Task A_dry_run_shows_what_would_change_and_writes_nothing()
    {
        var tag = Tag();
        var api = await AdminApiAsync();
        await (await api.PostJson("/api/products", new { sku = $"OLD-{tag}", name = $"Old name {tag}", price = 5m })).ShouldBe(HttpStatusCode.Created);
        var csv = $"sku,name,price\r\nOLD-{tag},New name {tag},5\r\nNEW-{tag},Fresh {tag},3\r\n";
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/import"));

        await Field("Dry run: check every row and count the changes, write nothing").CheckAsync();
        await UploadAsync(csv);

        await Expect(Page.Locator(".job-status")).ToContainTextAsync("COMPLETED");
        await Expect(Page.Locator(".dry-run")).ToHaveTextAsync("Dry run: nothing was written. The counts say what importing this file would do.");
        await ExpectCountsAsync(rows: 2, created: 1, updated: 1, unchanged: 0, rejected: 0, duplicates: 0);
        await Expect(Page.Locator("dt", new PageLocatorOptions { HasText = "Would be created" })).ToBeVisibleAsync();
        var change = Page.Locator("table.changes tbody tr");
        await Expect(change).ToContainTextAsync($"Old name {tag}");
        await Expect(change).ToContainTextAsync($"New name {tag}");
        await Expect(Button("Download errors.csv")).ToHaveCountAsync(0);

        var old = await (await api.GetAsync($"/api/products?sku=OLD-{tag}")).ShouldBe(HttpStatusCode.OK);
        old.GetProperty("results")[0].Str("name").Should().Be($"Old name {tag}");
        var fresh = await (await api.GetAsync($"/api/products?sku=NEW-{tag}")).ShouldBe(HttpStatusCode.OK);
        fresh.GetProperty("count").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task A_file_without_the_sku_column_fails_with_the_reason()
    {
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/import"));

        await UploadAsync("name,price\r\nNo sku,1\r\n");

        await Expect(Page.Locator(".job-status")).ToContainTextAsync("FAILED");
        var alert = Page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("The import failed.");
        await Expect(alert).ToContainTextAsync("The header lacks the required column(s) sku");
        await Expect(alert).ToContainTextAsync("Nothing was written.");
        await Expect(Page.Locator(".counts")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Uploading_without_a_file_asks_for_one()
    {
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/import"));

        await Button("Upload and import").ClickAsync();

        await Expect(Page.Locator("[data-error-for='file']")).ToHaveTextAsync("Choose a CSV file to upload.");
        await Expect(Heading("Import products")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Export_csv_on_the_products_page_downloads_the_filtered_products()
    {
        var tag = Tag();
        await CreateProductAsync($"Kettle {tag}");
        await CreateProductAsync($"Skillet {tag}");
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products?search=kettle+{tag}"));
        await Expect(Page.Locator("table.data tbody tr")).ToHaveCountAsync(1);

        var download = await Page.RunAndWaitForDownloadAsync(() => Button("Export CSV").ClickAsync());

        download.SuggestedFilename.Should().Be("products.csv");
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!, Encoding.UTF8)).Where(line => line.Length > 0).ToList();
        lines[0].Should().Be("sku,name,description,price,currency,active,brand,categories");
        lines.Should().HaveCount(2).And.Contain(line => line.Contains($"Kettle {tag}"));
    }

    private async Task UploadAsync(string csv)
    {
        await Field("CSV file").SetInputFilesAsync(new FilePayload
        {
            Name = "products.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes(csv),
        });
        await Button("Upload and import").ClickAsync();
        await Expect(Page).ToHaveURLAsync(ImportJobUrl());
    }

    private long JobId() => long.Parse(ImportJobUrl().Match(Page.Url).Groups[1].Value);

    private async Task ExpectCountsAsync(int rows, int created, int updated, int unchanged, int rejected, int duplicates)
    {
        foreach (var (key, value) in new[] { ("rows", rows), ("created", created), ("updated", updated), ("unchanged", unchanged), ("rejected", rejected), ("duplicates", duplicates) })
        {
            await Expect(Page.Locator($"[data-count='{key}']")).ToHaveTextAsync(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"#/import/(\d+)$")]
    private static partial Regex ImportJobUrl();
}
