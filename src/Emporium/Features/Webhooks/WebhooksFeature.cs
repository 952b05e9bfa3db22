namespace Emporium.Features.Webhooks;

public static class WebhooksFeature
{
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhooksOptions>()
            .BindConfiguration(WebhooksOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WebhookAddressGuard>();
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddSingleton<WebhookRules>();
        builder.Services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(services => WebhookSender.CreateHandler(services.GetRequiredService<WebhookAddressGuard>()))
            // Webhooks:Timeout is applied per attempt by the sender; the client's own timeout must not cut in first.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddWebhookDelivery();
        return builder;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapWebhookSubscriptions();
        app.MapWebhookDeliveries();
        return app;
    }
}
