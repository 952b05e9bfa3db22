using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>The longest poll there is: only the after-commit signal can make an event leave before the test gives up.</summary>
public class SlowPollWebhooksSqliteApp : WebhooksSqliteApp
{
    public SlowPollWebhooksSqliteApp() => With("Webhooks:PollInterval", "00:10:00");
}

public class SlowPollWebhooksPostgresApp : WebhooksPostgresApp
{
    public SlowPollWebhooksPostgresApp() => With("Webhooks:PollInterval", "00:10:00");
}

/// <summary>An event leaves when its transaction commits, not at the next poll (issue 12: a median of 701 ms waited for it).</summary>
public abstract class WebhookFanOutSignalTests(EmporiumApp app)
{
    [Fact]
    public async Task A_committed_product_write_is_delivered_without_waiting_for_the_poll()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await app.SubscribeAsync(receiver.Url(), "product.created");
        var staff = await app.NewUserAsync(Roles.Staff);
        // The dispatcher's first look at the outbox happens as it starts; let it pass before the event exists.
        await Task.Delay(TimeSpan.FromSeconds(1));

        var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag(), "Signalled");

        var received = await receiver.WaitForAsync(r => r.Count > 0, TestTime.Of(60));
        var payload = JsonDocument.Parse(received[0].Body).RootElement;
        payload.Str("type").Should().Be("product.created");
        payload.GetProperty("data").GetProperty("id").GetInt64().Should().Be(product.Id());
    }
}

public sealed class WebhookFanOutSignalTestsOnSqlite(SlowPollWebhooksSqliteApp app) : WebhookFanOutSignalTests(app), IClassFixture<SlowPollWebhooksSqliteApp>;

public sealed class WebhookFanOutSignalTestsOnPostgres(SlowPollWebhooksPostgresApp app) : WebhookFanOutSignalTests(app), IClassFixture<SlowPollWebhooksPostgresApp>;
