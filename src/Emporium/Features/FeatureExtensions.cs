using Emporium.Admin;
using Emporium.Features.Catalog;
using Emporium.Features.Events;
using Emporium.Features.Identity;
using Emporium.Features.Jobs;
using Emporium.Features.Webhooks;
using Emporium.Features.Import;
using Emporium.Platform;
using Microsoft.Extensions.Options;

namespace Emporium.Features;

public static class FeatureExtensions
{
    public static WebApplicationBuilder AddFeatures(this WebApplicationBuilder builder)
    {
        builder.AddIdentityFeature();
        builder.AddEvents();
        builder.AddCatalog();
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

        app.MapIdentity();
        app.MapCatalog();
        app.MapJobs();
        app.MapEvents();
        app.MapWebhooks();
        app.MapImport();
        app.MapAdmin();
        return app;
    }
}
