using Emporium.Admin;
using Emporium.Features.Catalog;
using Emporium.Features.Commerce;
using Emporium.Features.Events;
using Emporium.Features.Identity;
using Emporium.Features.Jobs;
using Emporium.Features.Jobs.Workers;
using Emporium.Features.Webhooks;
using Emporium.Features.Import;

namespace Emporium.Features;

public static class FeatureExtensions
{
    public static WebApplicationBuilder AddFeatures(this WebApplicationBuilder builder)
    {
        builder.AddIdentityFeature();
        builder.AddEvents();
        builder.AddCatalog();
        builder.AddCommerce();
        builder.AddJobs();
        builder.AddImport();
        builder.AddWebhooks();
        return builder;
    }

    /// <summary>Feature endpoints; a worker-only process serves none of them.</summary>
    public static WebApplication MapFeatures(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<EmporiumOptions>>().Value.RunsApi)
        {
            return app;
        }

        var api = app.MapGroup("").NamedAfterHandlers();
        api.MapIdentity();
        api.MapCatalog();
        api.MapCommerce();
        api.MapJobs();
        api.MapWorkers();
        api.MapEvents();
        api.MapWebhooks();
        api.MapImport();
        app.MapAdmin();
        return app;
    }
}
