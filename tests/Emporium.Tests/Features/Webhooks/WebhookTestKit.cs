using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>Receivers on loopback over http: private networks and http allowed; a 1 s timeout so a timeout test is quick.</summary>
public sealed class WebhookSqliteApp : SqliteApp
{
    public WebhookSqliteApp() => WebhookTestKit.AllowLoopback(this);
}

public sealed class WebhookPostgresApp : PostgresApp
{
    public WebhookPostgresApp() => WebhookTestKit.AllowLoopback(this);
}

/// <summary>Production SSRF rules (private networks refused), http allowed so that only the address decides.</summary>
public sealed class StrictWebhookApp : SqliteApp
{
    public StrictWebhookApp()
    {
        With("Webhooks:AllowPrivateNetworks", "false");
        With("Webhooks:AllowHttp", "true");
    }
}

public static class WebhookTestKit
{
    public static void AllowLoopback(EmporiumApp app)
    {
        app.With("Webhooks:AllowPrivateNetworks", "true");
        app.With("Webhooks:AllowHttp", "true");
        app.With("Webhooks:Timeout", "00:00:05");
    }

    public static async Task<HttpClient> StaffAsync(this EmporiumApp app) => (await app.NewUserAsync(Roles.Staff)).Http;

    /// <summary>Creates a subscription; the answer holds the secret (the only time it is shown).</summary>
    public static async Task<JsonElement> SubscribeAsync(this HttpClient staff, string url, string[]? eventTypes = null, string? description = null) =>
        await (await staff.PostJson("/api/webhooks", new { url, event_types = eventTypes ?? ["*"], description })).ShouldBe(HttpStatusCode.Created);

    public static long Id(this JsonElement element) => element.GetProperty("id").GetInt64();

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, object? body = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Emporium.Tests.Infrastructure.Json.Options);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
