using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// Bulk deletes accepted by an API-only host and run by real worker processes: the set is fixed when the request is
/// accepted, and a worker killed with SIGKILL mid-job is finished by another from the last committed batch.
/// </summary>
public abstract class BulkDeleteWorkerTests(EmporiumApp app, string connectionString)
{
    [Fact]
    public async Task Products_created_after_the_request_was_accepted_survive_a_delete_of_all()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var before = await seller.Http.CreateProductAsync(tag, "Before");
        var accepted = await (await seller.Http.PostJson("/api/products/bulk_delete", new { all = true })).ShouldBe(HttpStatusCode.Accepted);
        var id = accepted.GetProperty("job_id").GetInt64();
        // No worker runs yet: this product arrives while the job waits in the queue.
        var after = await seller.Http.CreateProductAsync(tag, "After");
        (await app.RowAsync(id))!.Status.Should().Be(JobStatus.PENDING);

        using (var worker = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory))
        {
            await app.WaitForRowAsync(id, job => job.Status == JobStatus.COMPLETED, worker, seconds: 60);
        }

        var done = await (await staff.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        done.GetProperty("result").GetProperty("deleted").GetInt64().Should().Be(1);
        (await DeletedAsync(before.Id(), after.Id())).Should().Equal(true, false);
    }

    [Fact]
    public async Task A_bulk_delete_whose_worker_was_killed_is_finished_by_another_worker_from_its_last_batch()
    {
        const int products = 3_000;
        var seller = await app.NewUserAsync(Roles.Seller);
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var ids = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var rows = Enumerable.Range(0, products).Select(i => new Product
            {
                Sku = $"K-{tag}-{i:0000}",
                SkuKey = Product.KeyOf($"K-{tag}-{i:0000}"),
                Slug = $"k-{tag}-{i:0000}",
                Name = $"Killed {tag} {i}",
                Price = 1m,
                OwnerId = seller.UserId,
                CreatedAt = now,
                UpdatedAt = now,
            }).ToList();
            db.AddRange(rows);
            await db.SaveChangesAsync();
            return rows.ConvertAll(p => p.Id);
        });
        var accepted = await (await seller.Http.PostJson("/api/products/bulk_delete", new { all = true })).ShouldBe(HttpStatusCode.Accepted);
        var id = accepted.GetProperty("job_id").GetInt64();
        string[] settings = ["--BulkDelete:BatchSize=10"];

        using (var first = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory, settings))
        {
            var running = await app.WaitForRowAsync(
                id, job => job.Status == JobStatus.PROCESSING && CheckpointOf(job) is { Deleted: >= products / 4 }, first, seconds: 60);
            first.Kill();
            running.LeaseOwner.Should().Contain($":{first.Id}:", "the first worker process held the job");
        }

        var orphaned = (await app.RowAsync(id))!;
        orphaned.Status.Should().Be(JobStatus.PROCESSING, "nobody released the job: its worker died");
        var checkpoint = CheckpointOf(orphaned)!;
        checkpoint.Deleted.Should().BeLessThan(products, "the worker should be killed before the end (add products if not)");
        // Exactly the batches up to the checkpoint are deleted: none committed after it, none lost before it.
        var deletedIds = await DeletedIdsAsync(ids);
        deletedIds.Should().HaveCount((int)checkpoint.Deleted);
        deletedIds.Should().OnlyContain(deleted => deleted <= checkpoint.Position, "batches go in id order up to the checkpoint");

        using (var second = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory, settings))
        {
            await app.WaitForRowAsync(id, job => job.Status == JobStatus.COMPLETED, second, seconds: 90);
        }

        var done = await (await staff.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        done.GetProperty("attempts").GetInt32().Should().Be(2);
        var result = done.GetProperty("result");
        result.GetProperty("deleted").GetInt64().Should().Be(products, "every product is deleted once, by one attempt or the other");
        result.GetProperty("already_deleted").GetInt64().Should().Be(0, "the second attempt did not look at the first one's batches again");
        (await DeletedIdsAsync(ids)).Should().HaveCount(products);
        var events = await (await staff.GetAsync("/api/events?type=bulk_delete.completed&page_size=100")).ShouldBe(HttpStatusCode.OK);
        events.GetProperty("results").EnumerateArray().Count(e => e.GetProperty("data").GetProperty("id").GetInt64() == id)
            .Should().Be(1, "one completion, one event");
    }

    private static Checkpoint? CheckpointOf(Job job) =>
        job.Progress is { } progress && JsonDocument.Parse(progress).RootElement.TryGetProperty("checkpoint", out var checkpoint)
            ? checkpoint.Deserialize<Checkpoint>(JobJson.Options)
            : null;

    private Task<List<bool>> DeletedAsync(params long[] ids) =>
        app.WithDbAsync(async db =>
        {
            var rows = await db.Set<Product>().Where(p => ids.Contains(p.Id)).Select(p => new { p.Id, p.DeletedAt }).ToListAsync();
            return ids.Select(id => rows.Single(r => r.Id == id).DeletedAt is not null).ToList();
        });

    private Task<List<long>> DeletedIdsAsync(List<long> ids) =>
        app.WithDbAsync(db => db.Set<Product>().Where(p => ids.Contains(p.Id) && p.DeletedAt != null).Select(p => p.Id).ToListAsync());

    private sealed record Checkpoint(long Position, long Total, long Examined, long Deleted, long AlreadyDeleted, long NotFound);
}

public sealed class BulkDeleteWorkerTestsOnSqlite(JobsApiOnlySqliteApp app)
    : BulkDeleteWorkerTests(app, app.Database), IClassFixture<JobsApiOnlySqliteApp>;

public sealed class BulkDeleteWorkerTestsOnPostgres(JobsApiOnlyPostgresApp app)
    : BulkDeleteWorkerTests(app, app.Database), IClassFixture<JobsApiOnlyPostgresApp>;
