namespace Emporium.Features.Import;

public static class ImportFeature
{
    /// <summary>The CSV import service (the upload endpoint and the import job are wired on top of it later).</summary>
    public static WebApplicationBuilder AddImport(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportSettings>()
            .BindConfiguration(ImportSettings.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddScoped<CatalogImporter>();
        return builder;
    }
}
