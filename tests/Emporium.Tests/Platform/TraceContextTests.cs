using System.Net;
using Emporium.Features.Events;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Platform;

/// <summary>Fast jobs and webhooks on the embedded default.</summary>
public class TracedSqliteApp : SqliteApp
{
    public TracedSqliteApp()
    {
        JobSettings.Apply(this);
        WebhookSettings.Apply(this);
    }
}

public class TracedPostgresApp : PostgresApp
{
    public TracedPostgresApp()
    {
        JobSettings.Apply(this);
        WebhookSettings.Apply(this);
    }
}

/// <summary>A request's trace continues into the job it queues and on to the webhook deliveries that job's events cause.</summary>
public abstract class TraceContextTests(EmporiumApp app)
{
    [Fact]
    public async Task An_upload_its_import_job_and_the_import_completed_delivery_share_one_trace()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await app.SubscribeAsync(receiver.Url(), EventTypes.ImportCompleted);
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

        using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/products/upload") { Content = Uploads.Raw($"sku,name\r\n{Tag()},Traced\r\n") };
        upload.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        var accepted = await (await staff.SendAsync(upload)).ShouldBe(HttpStatusCode.Accepted);
        var job = await app.RowAsync(accepted.GetProperty("job_id").GetInt64());
        job!.TraceParent.Should().StartWith($"00-{traceId}-", "the job row keeps the trace of the request that queued it");

        var delivery = (await receiver.WaitForAsync(received => received.Count >= 1)).Single();
        delivery.Headers.Should().ContainKey("traceparent");
        delivery.Headers["traceparent"].Should().StartWith($"00-{traceId}-",
            "the import.completed event was written in the job's run, which continued the upload's trace, and its delivery continues it to the receiver");
    }
}

public sealed class TraceContextTestsOnSqlite(TracedSqliteApp app) : TraceContextTests(app), IClassFixture<TracedSqliteApp>;

public sealed class TraceContextTestsOnPostgres(TracedPostgresApp app) : TraceContextTests(app), IClassFixture<TracedPostgresApp>;
