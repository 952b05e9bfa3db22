using Emporium.Features.Jobs;
namespace Emporium.Features.Import;

public static class ImportFeature
{
    /// <summary>The CSV import service, its catalog.import job, the sweep of old import files and the catalog.bulk_delete job (the endpoints are in <see cref="ImportEndpoints"/>).</summary>
    public static WebApplicationBuilder AddImport(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportSettings>()
            .BindConfiguration(ImportSettings.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddScoped<CatalogImporter>();
        builder.Services.AddJobHandler<CatalogImportJobHandler>(CatalogImportJobHandler.KindName);
        builder.Services.AddSingleton<ImportFileSweep>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ImportFileSweep>());
        builder.Services.AddOptions<BulkDeleteSettings>()
            .BindConfiguration(BulkDeleteSettings.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddJobHandler<BulkDeleteJobHandler>(BulkDeleteJobHandler.KindName);
        return builder;
    }
}
