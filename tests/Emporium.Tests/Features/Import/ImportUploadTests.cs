using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Platform.Security;
using Emporium.Platform.Storage;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Import;

public class UploadSqliteApp : SqliteApp
{
    public UploadSqliteApp() => JobSettings.Apply(this);
}

public class UploadPostgresApp : PostgresApp
{
    public UploadPostgresApp() => JobSettings.Apply(this);
}

internal static class Uploads
{
    public const string Acme = "acme-products-head2000.csv.gz";

    public static HttpContent Multipart(Stream csv, string fileName = "products.csv")
    {
        var file = new StreamContent(csv);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return new MultipartFormDataContent { { file, "file", fileName } };
    }

    public static HttpContent Raw(Stream csv)
    {
        var content = new StreamContent(csv);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return content;
    }

    public static HttpContent Raw(string csv) => Raw(ImportData.Text(csv));

    public static IFileStore Store(this EmporiumApp app) => app.Services.GetRequiredService<IFileStore>();

    public static async Task PutTextAsync(this EmporiumApp app, string key, string text) =>
        await app.Store().PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), "text/csv", default);

    public static async Task<List<string>> KeysAsync(this EmporiumApp app, string prefix)
    {
        var keys = new List<string>();
        await foreach (var file in app.Store().ListAsync(prefix, default))
        {
            keys.Add(file.Key);
        }

        return keys;
    }

    /// <summary>Posts the upload, checks the 202, and waits for the job to stop.</summary>
    public static async Task<JsonElement> ImportAsync(HttpClient client, HttpContent content, bool dryRun = false)
    {
        var response = await client.PostAsync($"/api/products/upload{(dryRun ? "?dry_run=true" : "")}", content);
        var accepted = await response.ShouldBe(HttpStatusCode.Accepted);
        var id = accepted.GetProperty("job_id").GetInt64();
        accepted.Str("status").Should().Be("PENDING");
        accepted.Str("status_url").Should().Be($"/api/jobs/{id}");
        accepted.Str("events_url").Should().Be($"/api/jobs/{id}/events");
        response.Headers.Location!.ToString().Should().Be($"/api/jobs/{id}");
        return await WaitAsync(client, id);
    }

    /// <summary>
    /// An import as it is left when it ran out of attempts: DEAD, its upload (the given rows under a header sku,name)
    /// in place, and line 2 (the first row) committed and checkpointed.
    /// </summary>
    public static async Task<long> SeedDeadImportAsync(EmporiumApp app, string tag, params string[] rows)
    {
        var upload = $"imports/uploads/dead-{tag}.csv";
        var text = "sku,name\r\n" + string.Concat(rows.Select(row => row + "\r\n"));
        await app.PutTextAsync(upload, text);
        return await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var job = new Emporium.Features.Jobs.Job
            {
                Kind = "catalog.import",
                Payload = JsonSerializer.Serialize(new { key = upload, dry_run = false, file_name = "dead.csv", bytes = Encoding.UTF8.GetByteCount(text) }),
                Status = Emporium.Features.Jobs.JobStatus.DEAD,
                Attempts = 3,
                MaxAttempts = 3,
                NextRunAt = now,
                CreatedAt = now,
                UpdatedAt = now,
                FinishedAt = now,
                LastError = "the database went away",
                Progress = JsonSerializer.Serialize(new
                {
                    processed = 1,
                    total = rows.Length,
                    message = $"1 of {rows.Length} rows",
                    rows_per_second = 10.0,
                    checkpoint = new { line = 2, error_parts = 0, created = 1, updated = 0, unchanged = 0, rejected = 0, duplicates = 0 },
                }),
            };
            db.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });
    }

    public static async Task<JsonElement> WaitAsync(HttpClient client, long id)
    {
        var deadline = TestTime.Deadline(90);
        while (true)
        {
            var job = await (await client.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
            if (job.Str("status") is not ("PENDING" or "PROCESSING"))
            {
                return job;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "job {0} should finish", id);
            await Task.Delay(100);
        }
    }
}

public abstract class ImportUploadTests(EmporiumApp app)
{
    [Fact]
    public async Task The_acme_file_imports_through_upload_as_multipart_and_as_raw_csv_and_a_dry_run_writes_nothing()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        var dry = await Uploads.ImportAsync(staff, Uploads.Multipart(ImportData.Gzipped(Uploads.Acme)), dryRun: true);
        dry.Str("status").Should().Be("COMPLETED", "the job was {0}", dry);
        ShouldCount(dry.GetProperty("result"), created: 1998, unchanged: 0, dryRun: true);
        (await ProductsWithSku(staff, "institution")).Should().Be(0, "a dry run writes nothing");
        var dryEvent = (await staff.JobEventsAsync("import.completed", dry.GetProperty("id").GetInt64())).Should().ContainSingle().Subject;
        dryEvent.GetProperty("data").GetProperty("result").GetProperty("dry_run").GetBoolean().Should().BeTrue();

        var multipart = await Uploads.ImportAsync(staff, Uploads.Multipart(ImportData.Gzipped(Uploads.Acme), "acme.csv"));
        multipart.Str("status").Should().Be("COMPLETED", "the job was {0}", multipart);
        ShouldCount(multipart.GetProperty("result"), created: 1998, unchanged: 0, dryRun: false);
        multipart.GetProperty("progress").GetProperty("processed").GetInt64().Should().Be(2000);
        multipart.GetProperty("progress").GetProperty("percent").GetDouble().Should().Be(100);
        (await ProductsWithSku(staff, "institution")).Should().Be(1);
        var completed = (await staff.JobEventsAsync("import.completed", multipart.GetProperty("id").GetInt64())).Should().ContainSingle().Subject;
        completed.GetProperty("data").Str("status").Should().Be("COMPLETED");
        completed.GetProperty("data").GetProperty("result").GetProperty("created").GetInt32().Should().Be(1998);
        var institution = await (await staff.GetAsync("/api/products?sku=INSTITUTION")).ShouldBe(HttpStatusCode.OK);
        institution.GetProperty("results")[0].Str("name").Should().Be("Carrie Lamb", "the later row for a SKU wins");

        var raw = await Uploads.ImportAsync(staff, Uploads.Raw(ImportData.Gzipped(Uploads.Acme)));
        raw.Str("status").Should().Be("COMPLETED", "the job was {0}", raw);
        ShouldCount(raw.GetProperty("result"), created: 0, unchanged: 1998, dryRun: false);
        (await app.WithDbAsync(db => db.Set<Product>().CountAsync(p => p.SkuKey == "INSTITUTION"))).Should().Be(1);
    }

    [Fact]
    public async Task Bad_rows_complete_the_job_and_errors_csv_lists_them_with_an_error_column()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        var csv = $"sku,name,price\r\ngood-{id},Good {id},1.50\r\nbad-{id},\"Bad, price\",abc\r\n,No sku {id},2\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        var result = job.GetProperty("result");
        result.GetProperty("created").GetInt32().Should().Be(1);
        result.GetProperty("rejected").GetInt32().Should().Be(2);
        result.GetProperty("rows").GetInt64().Should().Be(3);
        var errorsUrl = result.Str("errors_url");
        errorsUrl.Should().Be($"/api/jobs/{job.GetProperty("id").GetInt64()}/errors.csv");

        var errors = await staff.GetAsync(errorsUrl);
        var body = await errors.Content.ReadAsStringAsync();
        errors.StatusCode.Should().Be(HttpStatusCode.OK, body);
        errors.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var lines = body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(3);
        lines[0].Should().Be("error,sku,name,price");
        lines[1].Should().StartWith("\"line 3, column price: ").And.EndWith($",bad-{id},\"Bad, price\",abc");
        lines[2].Should().StartWith("\"line 4, column sku: ").And.EndWith($",,No sku {id},2");
        (await ProductsWithSku(staff, $"good-{id}")).Should().Be(1);

        // The checkpoint a retry would resume from is stored with the job, but is not part of the API.
        var jobId = job.GetProperty("id").GetInt64();
        var stored = await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == jobId).Select(j => j.Progress).SingleAsync());
        JsonDocument.Parse(stored!).RootElement.GetProperty("checkpoint").GetProperty("line").GetInt64().Should().Be(4);
        job.GetProperty("progress").TryGetProperty("checkpoint", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Rows_with_the_wrong_number_of_cells_keep_their_error_under_the_error_heading()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        var csv = $"sku,name,price\r\nshort-{id},Short\r\nlong-{id},Long,1,extra,cells\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        var errors = await staff.GetStringAsync(job.GetProperty("result").Str("errors_url"));
        var rows = errors.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(',')).ToList();
        rows[0].Should().Equal("error", "sku", "name", "price");
        rows[1][0].Should().Contain("line 2").And.Contain("the row has 2 field(s) but the header has 3");
        rows[1][1..].Should().Equal($"short-{id}", "Short");
        rows[2][0].Should().Contain("line 3").And.Contain("the row has 5 field(s)");
        rows[2][1..].Should().Equal($"long-{id}", "Long", "1", "extra", "cells");

        // A part the import's checkpoint does not record (as an attempt whose lease ran out may leave) is not served.
        var store = app.Services.GetRequiredService<IFileStore>();
        await using (var stale = new MemoryStream(Encoding.UTF8.GetBytes("\"line 9: stale\",x\r\n")))
        {
            await store.PutAsync($"{Emporium.Features.Import.ImportFiles.ErrorsPrefixOf(job.GetProperty("id").GetInt64())}000009-stale.csv", stale, "text/csv", CancellationToken.None);
        }

        (await staff.GetStringAsync(job.GetProperty("result").Str("errors_url"))).Should().Be(errors);
    }

    [Fact]
    public async Task A_NUL_character_in_a_cell_rejects_that_row_only_and_the_rest_of_the_file_imports()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        // Far enough into the file that the binary-file check of the first kilobyte does not see it.
        var csv = new StringBuilder("sku,name,description\r\n");
        for (var i = 0; i < 300; i++)
        {
            csv.Append($"nul-{i}-{id},Row {i} {id},{(i == 250 ? "bad\0byte" : "fine")}\r\n");
        }

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv.ToString()));

        job.Str("status").Should().Be("COMPLETED", "the job was {0}", job);
        job.GetProperty("attempts").GetInt32().Should().Be(1);
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(299);
        job.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(1);
        var errors = await staff.GetStringAsync(job.GetProperty("result").Str("errors_url"));
        errors.Should().Contain("line 252, column description").And.Contain("NUL");
        (await app.WithDbAsync(db => db.Set<Product>().CountAsync(p => p.Name.EndsWith($" {id}")))).Should().Be(299);
    }

    [Fact]
    public async Task A_file_without_the_sku_header_fails_the_job_with_a_clear_message_and_writes_nothing()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];

        var job = await Uploads.ImportAsync(staff, Uploads.Multipart(ImportData.Text($"name,price\nNo sku {id},1\n")));

        job.Str("status").Should().Be("FAILED", "the job was {0}", job);
        job.Str("error_message").Should().Contain("sku");
        job.GetProperty("attempts").GetInt32().Should().Be(1, "a file-level problem is not retried");
        var failed = (await staff.JobEventsAsync("import.failed", job.GetProperty("id").GetInt64())).Should().ContainSingle().Subject;
        failed.GetProperty("data").Str("error_message").Should().Contain("sku");
        (await staff.JobEventsAsync("import.completed", job.GetProperty("id").GetInt64())).Should().BeEmpty();
        (await app.KeysAsync("imports/uploads/")).Should().BeEmpty("the unusable upload is removed, and no other import waits");
        (await app.KeysAsync($"imports/errors/{job.GetProperty("id").GetInt64()}/")).Should().BeEmpty();
        (await app.WithDbAsync(db => db.Set<Product>().CountAsync(p => p.Name == $"No sku {id}"))).Should().Be(0);
        await (await staff.GetAsync($"/api/jobs/{job.GetProperty("id").GetInt64()}/errors.csv")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Upload_answers_415_for_other_content_types()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        var response = await staff.PostAsync("/api/products/upload", new StringContent("{\"sku\":\"x\"}", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
        var none = new StreamContent(new MemoryStream("sku,name\n"u8.ToArray()));
        await (await staff.PostAsync("/api/products/upload", none)).ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Multipart_without_a_file_field_is_a_validation_problem()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var content = new MultipartFormDataContent { { new StringContent("sku,name\n"), "other", "x.csv" } };

        var problem = await (await staff.PostAsync("/api/products/upload", content)).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("file", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Upload_and_errors_csv_need_staff_or_admin()
    {
        await (await app.Anonymous().PostAsync("/api/products/upload", Uploads.Raw("sku,name\n"))).ShouldBe(HttpStatusCode.Unauthorized);
        await (await app.Anonymous().GetAsync("/api/jobs/1/errors.csv")).ShouldBe(HttpStatusCode.Unauthorized);
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        await (await customer.PostAsync("/api/products/upload", Uploads.Raw("sku,name\n"))).ShouldBe(HttpStatusCode.Forbidden);
        await (await customer.GetAsync("/api/jobs/1/errors.csv")).ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Errors_csv_is_404_for_an_unknown_job()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await (await staff.GetAsync("/api/jobs/987654321/errors.csv")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_retried_import_resumes_after_the_last_checkpoint_and_keeps_errors_csv_free_of_repeats()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        var upload = $"imports/uploads/resume-{id}.csv";
        var text = $"sku,name\r\none-{id},One\r\nbad-{id},\r\nthree-{id},Three\r\nfour-{id},Four\r\n";
        await app.PutTextAsync(upload, text);
        var heading = "error,sku,name\r\n";
        var rejectedBefore = $"line 3, column name: earlier attempt,bad-{id},\r\n";

        // As a crashed first attempt leaves it: lines 2-3 settled (one created, one rejected) and checkpointed with two
        // parts of errors.csv, and a third part stored after the checkpoint that the resumed attempt must drop.
        var jobId = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var job = new Emporium.Features.Jobs.Job
            {
                Kind = "catalog.import",
                Payload = JsonSerializer.Serialize(new { key = upload, dry_run = false, file_name = "resume.csv", bytes = Encoding.UTF8.GetByteCount(text) }),
                MaxAttempts = 3,
                // Not due until its errors.csv is in place (below).
                NextRunAt = now.AddHours(1),
                CreatedAt = now,
                UpdatedAt = now,
                Progress = JsonSerializer.Serialize(new
                {
                    processed = 2,
                    total = 4,
                    checkpoint = new { line = 3, error_parts = 2, created = 1, updated = 0, unchanged = 0, rejected = 1, duplicates = 0 },
                }),
            };
            db.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });
        await app.PutTextAsync($"imports/errors/{jobId}/000000.csv", heading);
        await app.PutTextAsync($"imports/errors/{jobId}/000001.csv", rejectedBefore);
        await app.PutTextAsync($"imports/errors/{jobId}/000002.csv", "leftover,after the checkpoint\r\n");
        await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().Where(j => j.Id == jobId)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.NextRunAt, DateTime.UtcNow.AddSeconds(-1))));

        var done = await Uploads.WaitAsync(staff, jobId);

        done.Str("status").Should().Be("COMPLETED", "the job was {0}", done);
        var result = done.GetProperty("result");
        result.GetProperty("created").GetInt32().Should().Be(3, "one from the checkpoint plus the two rows after it");
        result.GetProperty("rejected").GetInt32().Should().Be(1);
        result.GetProperty("rows").GetInt64().Should().Be(4);
        (await ProductsWithSku(staff, $"one-{id}")).Should().Be(0, "rows before the checkpoint are not imported again");
        (await ProductsWithSku(staff, $"three-{id}")).Should().Be(1);
        (await ProductsWithSku(staff, $"four-{id}")).Should().Be(1);
        (await staff.GetStringAsync($"/api/jobs/{jobId}/errors.csv")).Should().Be(heading + rejectedBefore);
        (await app.Store().OpenReadAsync(upload, default)).Should().BeNull("a completed import's upload is removed");
    }

    [Fact]
    public async Task Errors_csv_neutralises_formulas_and_a_corrected_copy_imports_the_original_values()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        // The description is neutralised already, as an export writes it: errors.csv must not add a second quote.
        var csv = $"sku,name,description,price\r\nf-{id},\"=HYPERLINK(\"\"http://evil\"\")\",'@SUM(A1),abc\r\n";

        var job = await Uploads.ImportAsync(staff, Uploads.Raw(csv));

        job.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(1);
        var errors = await staff.GetStringAsync($"/api/jobs/{job.GetProperty("id").GetInt64()}/errors.csv");
        var row = errors.Split("\r\n")[1];
        row.Should().EndWith($",f-{id},\"'=HYPERLINK(\"\"http://evil\"\")\",'@SUM(A1),abc", "no cell may start a formula");

        var corrected = errors.Replace(",abc\r\n", ",3\r\n", StringComparison.Ordinal);
        var again = await Uploads.ImportAsync(staff, Uploads.Raw(corrected));

        again.GetProperty("result").GetProperty("created").GetInt32().Should().Be(1);
        again.GetProperty("result").GetProperty("unknown_columns").EnumerateArray().Select(c => c.GetString()).Should().Equal("error");
        var product = await app.WithDbAsync(db => db.Set<Product>().SingleAsync(p => p.SkuKey == Product.KeyOf($"f-{id}")));
        product.Name.Should().Be("=HYPERLINK(\"http://evil\")", "the importer strips the quote errors.csv added");
        product.Description.Should().Be("@SUM(A1)");
        product.Price.Should().Be(3m);
    }

    [Fact]
    public async Task A_dead_import_retried_by_hand_resumes_from_its_checkpoint()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        var jobId = await Uploads.SeedDeadImportAsync(app, id, $"one-{id},One", $"two-{id},Two", $"three-{id},Three");

        var retried = await (await staff.PostAsync($"/api/jobs/{jobId}/retry", null)).ShouldBe(HttpStatusCode.OK);
        retried.GetProperty("attempts").GetInt32().Should().BeLessThanOrEqualTo(1);
        var done = await Uploads.WaitAsync(staff, jobId);

        done.Str("status").Should().Be("COMPLETED", "the job was {0}", done);
        done.GetProperty("attempts").GetInt32().Should().Be(1);
        var result = done.GetProperty("result");
        result.GetProperty("created").GetInt32().Should().Be(3, "one from the checkpoint plus the two rows after it");
        result.GetProperty("rows").GetInt64().Should().Be(3);
        (await ProductsWithSku(staff, $"one-{id}")).Should().Be(0, "the committed batch is not imported again");
        (await ProductsWithSku(staff, $"three-{id}")).Should().Be(1);
    }

    [Fact]
    public async Task An_import_that_settled_every_row_completes_from_its_checkpoint_when_its_upload_is_already_removed()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var gone = $"imports/uploads/{Guid.NewGuid():N}.csv";

        // As an attempt leaves it when it imported every row and removed the upload, but its completion was not recorded
        // (the outcome write failed, or its lease ran out just before): the next attempt finds no file.
        var finished = await SeedAsync(gone, new { line = 9, error_parts = 2, created = 5, updated = 1, unchanged = 0, rejected = 1, duplicates = 1, finished = true, unknown_columns = new[] { "colour" } });
        var unfinished = await SeedAsync(gone, new { line = 5, error_parts = 2, created = 3, updated = 0, unchanged = 0, rejected = 1, duplicates = 0 });

        var done = await Uploads.WaitAsync(staff, finished);
        done.Str("status").Should().Be("COMPLETED", "the job was {0}", done);
        var result = done.GetProperty("result");
        (result.GetProperty("created").GetInt32(), result.GetProperty("updated").GetInt32(), result.GetProperty("rejected").GetInt32(),
            result.GetProperty("duplicates").GetInt32(), result.GetProperty("rows").GetInt64()).Should().Be((5, 1, 1, 1, 8L));
        result.GetProperty("unknown_columns").EnumerateArray().Select(c => c.GetString()).Should().Equal("colour");
        result.Str("errors_url").Should().Be($"/api/jobs/{finished}/errors.csv");

        var failed = await Uploads.WaitAsync(staff, unfinished);
        failed.Str("status").Should().Be("FAILED", "rows remain and there is nothing to read them from: {0}", failed);
        failed.Str("error_message").Should().Contain("no longer stored");
    }

    private Task<long> SeedAsync(string key, object checkpoint) =>
        app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var job = new Emporium.Features.Jobs.Job
            {
                Kind = "catalog.import",
                Payload = JsonSerializer.Serialize(new { key, dry_run = false, file_name = "gone.csv", bytes = 100 }),
                MaxAttempts = 3,
                NextRunAt = now,
                CreatedAt = now,
                UpdatedAt = now,
                Progress = JsonSerializer.Serialize(new { processed = 8, total = 8, checkpoint }),
            };
            db.Add(job);
            await db.SaveChangesAsync();
            return job.Id;
        });

    private static void ShouldCount(JsonElement result, int created, int unchanged, bool dryRun)
    {
        result.GetProperty("created").GetInt32().Should().Be(created);
        result.GetProperty("updated").GetInt32().Should().Be(0);
        result.GetProperty("unchanged").GetInt32().Should().Be(unchanged);
        result.GetProperty("rejected").GetInt32().Should().Be(0);
        result.GetProperty("duplicates").GetInt32().Should().Be(2);
        result.GetProperty("rows").GetInt64().Should().Be(2000);
        result.GetProperty("dry_run").GetBoolean().Should().Be(dryRun);
        result.GetProperty("unknown_columns").GetArrayLength().Should().Be(0);
    }

    private static async Task<int> ProductsWithSku(HttpClient client, string sku)
    {
        var page = await (await client.GetAsync($"/api/products?sku={Uri.EscapeDataString(sku)}")).ShouldBe(HttpStatusCode.OK);
        return page.GetProperty("results").GetArrayLength();
    }
}

public sealed class ImportUploadTestsOnSqlite(UploadSqliteApp app) : ImportUploadTests(app), IClassFixture<UploadSqliteApp>;

public sealed class ImportUploadTestsOnPostgres(UploadPostgresApp app) : ImportUploadTests(app), IClassFixture<UploadPostgresApp>;

/// <summary>The production shape: uploads and errors.csv in S3 (s3rver), the catalog in PostgreSQL.</summary>
public class UploadPostgresS3App : UploadPostgresApp
{
    public UploadPostgresS3App() => this.UseS3();
}

public sealed class ImportUploadTestsOnPostgresWithS3(UploadPostgresS3App app) : ImportUploadTests(app), IClassFixture<UploadPostgresS3App>;

public class SmallUploadSqliteApp : UploadSqliteApp
{
    public SmallUploadSqliteApp() => With("Import:MaxUploadBytes", "1000");
}

public class SmallUploadPostgresApp : UploadPostgresApp
{
    public SmallUploadPostgresApp() => With("Import:MaxUploadBytes", "1000");
}

public abstract class UploadLimitTests(EmporiumApp app)
{
    [Fact]
    public async Task An_upload_over_the_limit_answers_413_and_leaves_no_file_behind()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var big = "sku,name\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"sku-{i},Name {i}\n"));

        // A chunked body has no Content-Length, so the limit is found while streaming.
        var raw = new StreamContent(ImportData.Trickle(Encoding.UTF8.GetBytes(big), 100));
        raw.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        (await (await staff.PostAsync("/api/products/upload", raw)).ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge))
            .Str("detail").Should().Contain("1,000");
        await (await staff.PostAsync("/api/products/upload", Uploads.Multipart(ImportData.Trickle(Encoding.UTF8.GetBytes(big), 100))))
            .ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
        await (await staff.PostAsync("/api/products/upload", Uploads.Raw(big))).ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);

        (await app.KeysAsync("imports/")).Should().BeEmpty("a refused upload leaves nothing in the store");
        var files = Path.Combine(app.DataDirectory, "files");
        (Directory.Exists(files) ? Directory.GetFiles(files, "*", SearchOption.AllDirectories) : []).Should().BeEmpty("nor any temporary file");
        (await app.WithDbAsync(db => db.Set<Emporium.Features.Jobs.Job>().CountAsync())).Should().Be(0);
    }

    [Fact]
    public async Task A_small_file_under_the_limit_is_accepted()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];

        var job = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name\nsmall-{id},Small {id}\n"));

        job.Str("status").Should().Be("COMPLETED");
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(1);
    }
}

public sealed class UploadLimitTestsOnSqlite(SmallUploadSqliteApp app) : UploadLimitTests(app), IClassFixture<SmallUploadSqliteApp>;

public sealed class UploadLimitTestsOnPostgres(SmallUploadPostgresApp app) : UploadLimitTests(app), IClassFixture<SmallUploadPostgresApp>;

public class ShortRetentionSqliteApp : UploadSqliteApp
{
    public ShortRetentionSqliteApp() => ShortRetention.Apply(this);
}

public class ShortRetentionPostgresApp : UploadPostgresApp
{
    public ShortRetentionPostgresApp() => ShortRetention.Apply(this);
}

internal static class ShortRetention
{
    public static void Apply(EmporiumApp app) => app.With("Import:RetainFilesFor", "00:00:02").With("Import:SweepInterval", "00:00:00.200");
}

/// <summary>Import files past Import:RetainFilesFor: swept by the workers, and errors.csv then says 410 rather than 404.</summary>
public abstract class ImportRetentionTests(EmporiumApp app)
{
    [Fact]
    public async Task Errors_csv_is_deleted_after_retention_and_then_answers_410()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var id = Guid.NewGuid().ToString("N")[..8];
        var job = await Uploads.ImportAsync(staff, Uploads.Raw($"sku,name\r\nok-{id},Fine\r\nbad-{id},\r\n"));
        var errorsUrl = job.GetProperty("result").Str("errors_url");
        var errorsPrefix = $"imports/errors/{job.GetProperty("id").GetInt64()}/";
        (await app.KeysAsync(errorsPrefix)).Should().NotBeEmpty();

        var deadline = TestTime.Deadline(20);
        HttpResponseMessage response;
        while ((response = await staff.GetAsync(errorsUrl)).StatusCode == HttpStatusCode.OK)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "errors.csv should be swept 2 s after the job finished");
            await Task.Delay(200);
        }

        var problem = await response.ShouldBeProblem(HttpStatusCode.Gone);
        problem.Str("detail").Should().Contain("Import:RetainFilesFor");
        (await app.KeysAsync(errorsPrefix)).Should().BeEmpty();
        await (await staff.GetAsync("/api/jobs/987654321/errors.csv")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_upload_of_a_dead_import_is_swept_after_retention_but_a_waiting_imports_upload_stays()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var dead = $"imports/uploads/{id}-dead.csv";
        var waiting = $"imports/uploads/{id}-waiting.csv";
        var orphan = $"imports/uploads/{id}-orphan.csv";
        var longAgo = DateTime.UtcNow.AddHours(-1);
        await app.WithDbAsync(async db =>
        {
            foreach (var (key, status) in new[] { (dead, Emporium.Features.Jobs.JobStatus.DEAD), (waiting, Emporium.Features.Jobs.JobStatus.PENDING) })
            {
                db.Add(new Emporium.Features.Jobs.Job
                {
                    Kind = "catalog.import",
                    Payload = JsonSerializer.Serialize(new { key, dry_run = false, file_name = "x.csv", bytes = 14 }),
                    Status = status,
                    Attempts = status == Emporium.Features.Jobs.JobStatus.DEAD ? 3 : 0,
                    MaxAttempts = 3,
                    // The waiting one is not due for a day, so no worker takes it during the test.
                    NextRunAt = status == Emporium.Features.Jobs.JobStatus.DEAD ? longAgo : DateTime.UtcNow.AddDays(1),
                    CreatedAt = longAgo,
                    UpdatedAt = longAgo,
                    FinishedAt = status == Emporium.Features.Jobs.JobStatus.DEAD ? longAgo : null,
                });
            }

            return await db.SaveChangesAsync();
        });

        // The jobs first: a sweep running in between must not find the waiting import's old upload without its job. The
        // files are aged in the local folder the default store keeps them in.
        foreach (var key in new[] { dead, waiting, orphan })
        {
            await app.PutTextAsync(key, "sku,name\r\na,A\r\n");
            File.SetLastWriteTimeUtc(Path.Combine(app.DataDirectory, "files", key), longAgo);
        }

        var deadline = TestTime.Deadline(20);
        while ((await app.KeysAsync($"imports/uploads/{id}-")).Intersect([dead, orphan]).Any())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the sweep should delete the dead job's upload and the orphan");
            await Task.Delay(200);
        }

        (await app.KeysAsync($"imports/uploads/{id}-")).Should().Equal([waiting], "a waiting import still needs its upload, however old the file");
    }
}

public sealed class ImportRetentionTestsOnSqlite(ShortRetentionSqliteApp app) : ImportRetentionTests(app), IClassFixture<ShortRetentionSqliteApp>;

public sealed class ImportRetentionTestsOnPostgres(ShortRetentionPostgresApp app) : ImportRetentionTests(app), IClassFixture<ShortRetentionPostgresApp>;
