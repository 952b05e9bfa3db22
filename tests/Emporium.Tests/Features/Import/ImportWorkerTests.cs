using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// An import whose worker process is killed with SIGKILL mid-file, finished by another worker process: the API app
/// runs no jobs, so the two real worker processes (the built Emporium.dll, see <see cref="WorkerProcess"/>) are the only
/// ones that take it.
/// </summary>
public abstract partial class ImportWorkerTests(EmporiumApp app, string connectionString)
{
    // Small batches make a few thousand rows many checkpoints, so the first worker is caught between two of them.
    private const int BatchSize = 20;
    private const int DataRows = 4_000;

    // Each batch commits on its own (no Import:CommitInterval), so checkpoints come every 20 rows.
    private static readonly string[] WorkerSettings = [$"--Import:BatchSize={BatchSize}", "--Import:CommitInterval=00:00:00"];

    [Fact]
    public async Task An_import_whose_worker_was_killed_is_resumed_by_another_worker_from_its_last_checkpoint_with_exact_results()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var file = new GeneratedFile(Guid.NewGuid().ToString("N")[..8], DataRows);
        var accepted = await (await staff.PostAsync("/api/products/upload", Uploads.Raw(file.Csv))).ShouldBe(HttpStatusCode.Accepted);
        var id = accepted.GetProperty("job_id").GetInt64();

        using (var first = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory, WorkerSettings))
        {
            // A quarter of the file committed, so rows on both sides of the kill repeat SKUs and mention brands.
            var running = await app.WaitForRowAsync(
                id, job => job.Status == JobStatus.PROCESSING && CheckpointOf(job) is { } c && c.Line >= file.LastLine / 4, first, seconds: 60);
            first.Kill();
            running.LeaseOwner.Should().Contain($":{first.Id}:", "the first worker process held the job");
        }

        var orphaned = (await app.RowAsync(id))!;
        orphaned.Status.Should().Be(JobStatus.PROCESSING, "nobody released the job: its worker died");
        orphaned.Attempts.Should().Be(1, orphaned.LastError);
        var checkpoint = CheckpointOf(orphaned)!;
        checkpoint.Line.Should().BeLessThan(file.LastLine, "the worker should be killed before the end of the file (make the file longer if not)");

        // Exactly the batches up to the checkpoint are in the catalog: none committed after it, none lost before it.
        var committed = await ProductsAsync(file.Tag);
        var settled = file.Winners.Values.Where(w => w.Line <= checkpoint.Line).ToList();
        committed.Keys.Should().BeEquivalentTo(settled.Select(w => w.SkuKey), "the checkpoint is the last committed batch");
        checkpoint.Created.Should().Be(settled.Count);
        checkpoint.Rejected.Should().Be(file.Rows.Count(r => !r.Valid && r.Line <= checkpoint.Line));
        checkpoint.Duplicates.Should().Be(file.Rows.Count(r => r.Valid && r.Line <= checkpoint.Line) - settled.Count);

        using (var second = WorkerProcess.Start(app.Provider, connectionString, app.DataDirectory, WorkerSettings))
        {
            await app.WaitForRowAsync(id, job => job.Status == JobStatus.COMPLETED, second, seconds: 90);
        }

        var done = await (await staff.GetAsync($"/api/jobs/{id}")).ShouldBe(HttpStatusCode.OK);
        done.GetProperty("attempts").GetInt32().Should().Be(2);
        var result = done.GetProperty("result");
        result.GetProperty("created").GetInt32().Should().Be(file.Winners.Count, "every SKU is created once, by one attempt or the other");
        result.GetProperty("updated").GetInt32().Should().Be(0);
        result.GetProperty("unchanged").GetInt32().Should().Be(0, "the second attempt did not read the first one's batches again");
        result.GetProperty("rejected").GetInt32().Should().Be(file.Rows.Count(r => !r.Valid));
        result.GetProperty("duplicates").GetInt32().Should().Be(file.Rows.Count(r => r.Valid) - file.Winners.Count);
        result.GetProperty("rows").GetInt64().Should().Be(DataRows);
        (result.GetProperty("created").GetInt32() + result.GetProperty("updated").GetInt32() + result.GetProperty("unchanged").GetInt32()
            + result.GetProperty("rejected").GetInt32() + result.GetProperty("duplicates").GetInt32()).Should().Be(DataRows);

        // Every SKU once, with its last valid row's values; the first attempt's products were not written again.
        var products = await ProductsAsync(file.Tag);
        products.Should().HaveCount(file.Winners.Count);
        foreach (var (key, winner) in file.Winners)
        {
            var product = products[key];
            (product.Name, product.Price, product.Brand).Should().Be((winner.Name, winner.Price, winner.Brand), "line {0} is the last valid row of {1}", winner.Line, key);
            product.Version.Should().Be(1);
            if (committed.TryGetValue(key, out var before))
            {
                product.UpdatedAt.Should().Be(before.UpdatedAt, "{0} was committed by the first attempt", key);
            }
        }

        var brands = await app.WithDbAsync(db => db.Set<Brand>().Where(b => b.Name.StartsWith($"Brand {file.Tag} ")).Select(b => b.Name).ToListAsync());
        brands.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(file.Winners.Values.Select(w => w.Brand).Distinct());

        // errors.csv: the header, then each rejected row once, in file order (the replayed rows after the checkpoint included).
        var errors = await staff.GetAsync(result.Str("errors_url"));
        var body = await errors.Content.ReadAsStringAsync();
        errors.StatusCode.Should().Be(HttpStatusCode.OK, body);
        var lines = body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("error,sku,name,price,brand");
        lines.Skip(1).Select(line => long.Parse(ErrorLine().Match(line).Groups[1].Value, CultureInfo.InvariantCulture))
            .Should().Equal(file.Rows.Where(r => !r.Valid).Select(r => r.Line));
    }

    private static Checkpoint? CheckpointOf(Job job) =>
        job.Progress is { } progress && JsonDocument.Parse(progress).RootElement.TryGetProperty("checkpoint", out var checkpoint)
            ? checkpoint.Deserialize<Checkpoint>(JobJson.Options)
            : null;

    private Task<Dictionary<string, StoredProduct>> ProductsAsync(string tag) =>
        app.WithDbAsync(db => db.Set<Product>().AsNoTracking()
            .Where(p => p.Sku.StartsWith($"{tag}-"))
            .Select(p => new StoredProduct(p.SkuKey, p.Name, p.Price, p.Brand == null ? null : p.Brand.Name, p.Version, p.UpdatedAt))
            .ToDictionaryAsync(p => p.SkuKey));

    [GeneratedRegex("""[,"]line (\d+)[,:]""")]
    private static partial Regex ErrorLine();

    private sealed record Checkpoint(long Line, int ErrorParts, int Created, int Updated, int Unchanged, int Rejected, int Duplicates);

    private sealed record StoredProduct(string SkuKey, string Name, decimal Price, string? Brand, int Version, DateTime UpdatedAt);

    private sealed record Row(long Line, string Sku, string Name, decimal Price, string Brand, bool Valid);

    /// <summary>
    /// sku,name,price,brand rows for one test: mostly new SKUs; every tenth row from 500 on repeats the SKU of the row 450
    /// before it (the later row wins); every 97th has no SKU and every 53rd (from 300 on) an unreadable price for an earlier
    /// row's SKU (both rejected, and the rejected row wins nothing). Names are unique per line; a new brand every 400 rows.
    /// </summary>
    private sealed class GeneratedFile
    {
        public GeneratedFile(string tag, int rows)
        {
            Tag = tag;
            var csv = new StringBuilder("sku,name,price,brand\r\n");
            var skus = new string[rows];
            for (var i = 0; i < rows; i++)
            {
                var line = i + 2L;
                var price = decimal.Parse($"{1 + (i % 500)}.{i % 100:00}", CultureInfo.InvariantCulture);
                var brand = $"Brand {tag} {i / 400}";
                var name = $"Product {tag} #{line}";
                var (sku, valid, priceCell) = (i % 97, i % 53, i % 10) switch
                {
                    (13, _, _) => ("", false, Cell(price)),
                    (_, 7, _) when i >= 300 => (skus[i - 300], false, "abc"),
                    (_, _, 3) when i >= 500 => (skus[i - 450], true, Cell(price)),
                    _ => ($"{tag}-{i:00000}", true, Cell(price)),
                };
                skus[i] = sku.Length > 0 ? sku : skus[Math.Max(0, i - 1)] ?? $"{tag}-00000";
                csv.Append(CultureInfo.InvariantCulture, $"{sku},{name},{priceCell},{brand}\r\n");
                Rows.Add(new Row(line, sku, name, price, brand, valid));
                if (valid)
                {
                    Winners[Product.KeyOf(sku)] = new Winner(Product.KeyOf(sku), line, name, price, brand);
                }
            }

            Csv = csv.ToString();
            LastLine = rows + 1;
        }

        public string Tag { get; }

        public string Csv { get; }

        public long LastLine { get; }

        public List<Row> Rows { get; } = [];

        /// <summary>The last valid row of each SKU key.</summary>
        public Dictionary<string, Winner> Winners { get; } = [];

        private static string Cell(decimal price) => price.ToString("0.00", CultureInfo.InvariantCulture);
    }

    private sealed record Winner(string SkuKey, long Line, string Name, decimal Price, string Brand);
}

public sealed class ImportWorkerTestsOnSqlite(JobsApiOnlySqliteApp app) : ImportWorkerTests(app, app.Database), IClassFixture<JobsApiOnlySqliteApp>;

public sealed class ImportWorkerTestsOnPostgres(JobsApiOnlyPostgresApp app) : ImportWorkerTests(app, app.Database), IClassFixture<JobsApiOnlyPostgresApp>;
