using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Emporium.Features.Webhooks;

public static class WebhooksFeature
{
    /// <summary>Test pings per user (Webhooks:TestPermitLimit per Webhooks:TestWindow): each one is a request to a URL a user chose.</summary>
    public const string TestRateLimitPolicy = "webhook-test";

    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<WebhooksOptions>(WebhooksOptions.Section);
        builder.Services.AddSingleton<WebhookAddressGuard>();
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddSingleton<WebhookRules>();
        builder.Services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(services => OutboundAddressGuard.CreateHandler(services.GetRequiredService<WebhookAddressGuard>()))
            // Webhooks:Timeout is applied per attempt by the sender; the client's own timeout must not cut in first.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddWebhookDelivery();
        builder.Services.Configure<RateLimiterOptions>(options => options.AddPolicy(TestRateLimitPolicy, context =>
        {
            var settings = context.RequestServices.GetRequiredService<IOptions<WebhooksOptions>>().Value;
            var caller = context.User.UserId()?.ToString(CultureInfo.InvariantCulture) ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return RateLimitPartition.GetFixedWindowLimiter(
                caller,
                _ => new FixedWindowRateLimiterOptions { PermitLimit = settings.TestPermitLimit, Window = settings.TestWindow, QueueLimit = 0 });
        }));
        return builder;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapWebhookSubscriptions();
        app.MapWebhookDeliveries();
        return app;
    }
}
