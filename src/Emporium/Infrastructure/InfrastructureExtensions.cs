using Emporium.Infrastructure.Caching;
using Emporium.Infrastructure.Storage;
using Emporium.Infrastructure.Jobs;
using Emporium.Infrastructure.Mail;
using Emporium.Infrastructure.Persistence;

namespace Emporium.Infrastructure;

public static class InfrastructureExtensions
{
    /// <summary>Adapters for the database (and, in later features, broker, cache, storage, email).</summary>
    public static WebApplicationBuilder AddInfrastructure(this WebApplicationBuilder builder)
    {
        builder.Services.AddPersistence(builder.Configuration);
        builder.Services.AddJobsInfrastructure();
        builder.Services.AddStorage(builder.Configuration);
        builder.Services.AddCaching(builder.Configuration);
        builder.Services.AddMail();
        builder.Services.AddScoped<Features.Webhooks.IWebhookDeliveryStore, Webhooks.WebhookDeliveryStore>();
        return builder;
    }
}
