using Emporium.Features.Jobs;
namespace Emporium.Features.Import;

public static class ImportFeature
{
    /// <summary>The CSV import service, its catalog.import job, the sweep of old import files and the catalog.bulk_delete job (the endpoints are in <see cref="ImportEndpoints"/>).</summary>
    public static WebApplicationBuilder AddImport(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<ImportSettings>(ImportSettings.Section);
        builder.Services.AddScoped<CatalogImporter>();
        builder.Services.AddJobHandler<CatalogImportJobHandler>(CatalogImportJobHandler.KindName);
        builder.Services.AddSingleton<ImportFileSweep>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ImportFileSweep>());
        builder.Services.AddSettings<BulkDeleteSettings>(BulkDeleteSettings.Section);
        builder.Services.AddJobHandler<BulkDeleteJobHandler>(BulkDeleteJobHandler.KindName);
        return builder;
    }
}
