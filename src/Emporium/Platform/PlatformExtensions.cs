using System.Text.Json.Serialization;
using Emporium.Platform.Health;
using Emporium.Platform.Logging;
using Emporium.Platform.Telemetry;

namespace Emporium.Platform;

/// <summary>Cross-cutting plumbing every feature relies on: JSON, errors, security, docs, health, logs.</summary>
public static class PlatformExtensions
{
    public static WebApplicationBuilder AddPlatform(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<EmporiumOptions>(EmporiumOptions.Section);
        ShutdownSettings.AddTo(builder.Services);

        builder.Services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        builder.AddStructuredLogging();
        builder.Services.AddTrustedProxies();
        builder.Services.AddSettings<JsonBodyOptions>(JsonBodyOptions.Section);
        builder.Services.AddApiProblemDetails();
        builder.Services.AddPaging();
        builder.AddSecurity();
        builder.Services.AddApiDocumentation();
        builder.Services.AddHealthChecks();
        builder.AddTelemetry();
        return builder;
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    public static WebApplication UsePlatform(this WebApplication app)
    {
        app.UseTrustedProxies();
        app.UseTrailingSlashTolerance();
        app.UseRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHeadAsGet();
        app.UseNulCharacterGuard();
        app.UseIfMatchSyntaxCheck();
        app.UseRouting();
        app.UseSecurity();
        return app;
    }

    public static WebApplication MapPlatform(this WebApplication app)
    {
        app.MapHealth();
        app.MapTelemetry();
        if (app.Services.GetRequiredService<IOptions<EmporiumOptions>>().Value.RunsApi)
        {
            app.MapApiDocumentation();
        }

        return app;
    }
}
