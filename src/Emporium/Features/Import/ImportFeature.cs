namespace Emporium.Features.Import;

public static class ImportFeature
{
    /// <summary>The CSV import service and its catalog.import job (the endpoints are in <see cref="ImportEndpoints"/>).</summary>
    public static WebApplicationBuilder AddImport(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportSettings>()
            .BindConfiguration(ImportSettings.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddScoped<CatalogImporter>();
        builder.Services.AddScoped<Jobs.IJobHandler, CatalogImportJobHandler>();
        return builder;
    }
}
