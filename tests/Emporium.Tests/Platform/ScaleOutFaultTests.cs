using System.Net;
using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Features.Webhooks;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Caching;
using Emporium.Tests.Features.Catalog.Images;
using Emporium.Tests.Features.Catalog.Products;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Platform;

/// <summary>
/// The production profile under faults (issue 17), kept short for the test command: the API (this host, API only) and two
/// worker processes on PostgreSQL, with the RabbitMQ transport (a broker of the test's own), files in S3 and the cache on
/// Redis. A worker is killed with SIGKILL in the middle of an import and another started, and the broker is restarted,
/// while sleep jobs, image jobs and webhook deliveries run; every job must complete, the catalog must be exactly the file,
/// every image must be processed and every event must reach the receiver. ServerFaultTests restarts PostgreSQL and stops
/// Redis; a longer bench version is not here yet (issue 17's note).
/// </summary>
public sealed class ScaleOutFaultTests : IAsyncLifetime, IDisposable
{
    private const int Rows = 40_000;
    private readonly ScaleOutApp _app = new();
    private readonly OwnServers _servers = new();
    private OwnRedis _redis = null!;

    public async Task InitializeAsync()
    {
        _redis = await OwnRedis.StartAsync();
        await _servers.StartRabbitMqAsync();
        _app.UseRedis(_redis.Address).With("Jobs:RabbitMq:Url", _servers.RabbitMqUrl);
        await _app.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)_app).DisposeAsync();
        await _servers.DisposeAsync();
        await _redis.DisposeAsync();
    }

    public void Dispose() => _app.Dispose();

    private sealed class ScaleOutApp : PostgresApp
    {
        public ScaleOutApp()
        {
            JobSettings.Apply(this);
            WebhookSettings.Apply(this);
            RabbitMqServer.Apply(this, Name);
            this.UseS3();
            With("Emporium:Role", "Api").With("Jobs:PollInterval", "00:00:01").With("Import:BatchSize", "1000");
        }

        public string Name { get; } = RabbitMqServer.NewName();

        public string Database => ConnectionString;

        /// <summary>The same settings for a worker process, as command-line arguments.</summary>
        public IEnumerable<string> WorkerArguments() =>
            Settings.Where(pair => pair.Value is not null
                    && pair.Key is not ("Emporium:Role" or "Database:Provider" or "Database:ConnectionString" or "Emporium:DataDirectory"))
                .Select(pair => $"--{pair.Key}={pair.Value}");
    }

    [Fact]
    public async Task A_worker_killed_mid_import_loses_and_repeats_nothing()
    {
        var workers = new List<WorkerProcess>();
        WorkerProcess StartWorker()
        {
            var worker = WorkerProcess.Start(_app.Provider, _app.Database, _app.DataDirectory, _app.WorkerArguments());
            workers.Add(worker);
            return worker;
        }

        try
        {
            StartWorker();
            StartWorker();
            var staff = (await _app.NewUserAsync(Roles.Staff)).Http;
            await using var receiver = await WebhookReceiver.StartAsync();
            await _app.SubscribeAsync(receiver.Url());

            var prefix = $"SO-{Guid.NewGuid():N}"[..12].ToUpperInvariant();
            var csv = new StringBuilder("sku,name,price\r\n");
            for (var i = 0; i < Rows; i++)
            {
                csv.Append($"{prefix}-{i},Product {i} of the fault test,{i % 100}.50\r\n");
            }

            var accepted = await (await staff.PostAsync("/api/products/upload", Uploads.Raw(csv.ToString()))).ShouldBe(HttpStatusCode.Accepted);
            var import = accepted.GetProperty("job_id").GetInt64();
            var sleeps = new List<long>();
            for (var i = 0; i < 40; i++)
            {
                sleeps.Add(await _app.EnqueueAsync("diagnostics.sleep", new { seconds = 0.05 }));
            }

            var events = await _app.WriteEventsAsync(300);
            var product = await staff.CreateProductAsync(Tag(), "Pictured");
            var images = new List<long>();
            for (var i = 0; i < 4; i++)
            {
                var files = Enumerable.Range(0, 5).Select(n => (TestImages.Png(64 + n, 48 + i), $"picture-{i}-{n}.png", "image/png")).ToArray();
                images.AddRange((await staff.UploadAsync(ProductTestKit.Id(product), files)).EnumerateArray().Select(image => image.GetProperty("id").GetInt64()));
            }

            // Kill whichever worker holds the import once it has committed some batches, and start another.
            var deadline = TestTime.Deadline(60);
            while (true)
            {
                var row = await _app.RowAsync(import);
                if (row!.Status == JobStatus.PROCESSING && row.Progress is not null && row.Progress.Contains("\"processed\":", StringComparison.Ordinal)
                    && !row.Progress.Contains("\"processed\":0", StringComparison.Ordinal))
                {
                    var holder = workers.Single(worker => row.LeaseOwner!.Contains($":{worker.Id}:", StringComparison.Ordinal));
                    holder.Kill();
                    break;
                }

                row.Status.Should().NotBe(JobStatus.COMPLETED, "the import should still run when the worker is killed; make the file longer");
                DateTime.UtcNow.Should().BeBefore(deadline, "the import should start");
                await Task.Delay(50);
            }

            StartWorker();
            // And the broker goes away and comes back: every connection drops; durable queues and persistent messages stay.
            await _servers.RestartRabbitMqAsync();

            var finished = await Uploads.WaitAsync(staff, import);
            finished.Str("status").Should().Be("COMPLETED", "the import resumes on another worker once the killed one's lease expires");
            finished.GetProperty("attempts").GetInt32().Should().Be(2);
            var products = await _app.WithDbAsync(db => db.Set<Product>().AsNoTracking()
                .Where(p => p.Sku.StartsWith(prefix)).Select(p => new { p.Sku, p.Name }).ToListAsync());
            products.Should().HaveCount(Rows, "every row once, none lost, none twice");
            products.Should().OnlyContain(p => p.Name == $"Product {p.Sku.Substring(prefix.Length + 1)} of the fault test");

            deadline = TestTime.Deadline(60);
            while (await _app.WithDbAsync(db => db.Set<Job>().CountAsync(job => sleeps.Contains(job.Id) && job.Status != JobStatus.COMPLETED)) > 0)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "every sleep job should complete");
                await Task.Delay(200);
            }

            foreach (var image in images)
            {
                (await staff.SettledAsync(image, seconds: 60)).Str("status").Should().Be("ready", "image {0} is processed once its job runs", image);
            }

            var received = await receiver.WaitForAsync(requests => events.All(id => requests.Any(request => request.Id == id)), TimeSpan.FromSeconds(60));
            received.Select(request => request.Id).Distinct().Should().Contain(events);
            (await _app.WithDbAsync(db => db.Set<WebhookDelivery>().CountAsync(d => d.Status != WebhookDeliveryStatus.SUCCEEDED
                && db.Set<Emporium.Features.Events.OutboxEvent>().Any(e => e.Id == d.EventId && events.Contains(e.EventId)))))
                .Should().Be(0, "every delivery of these events succeeded");
            (await _app.WithDbAsync(db => db.Set<Job>().CountAsync(job => job.Status == JobStatus.DEAD || job.Status == JobStatus.FAILED)))
                .Should().Be(0);
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }
}
