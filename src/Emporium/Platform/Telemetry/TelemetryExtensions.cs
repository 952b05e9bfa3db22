using System.Security.Cryptography;
using System.Text;
using Emporium.Platform.Security;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OpenTelemetry.Resources;

namespace Emporium.Platform.Telemetry;

/// <summary>
/// OpenTelemetry: metrics of ASP.NET Core, HttpClient, the runtime, Npgsql (registered by its adapter) and Emporium's own
/// meters (Emporium.*: the cache's lookups, and the meters later features add), served as Prometheus text at /metrics
/// when Telemetry:Prometheus:Enabled; with OTEL_EXPORTER_OTLP_ENDPOINT set, metrics, traces (requests, outgoing HTTP,
/// Npgsql commands) and logs go over OTLP as well. Nothing is collected when no exporter is on.
/// </summary>
public static class TelemetryExtensions
{
    public const string ScrapePolicy = "metrics-scrape";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<TelemetryOptions>(TelemetryOptions.Section);
        builder.Services.AddSingleton<EmporiumMetrics>();
        // Read leniently here: a value that is not true or false is reported by the settings check at start, naming it.
        var prometheus = bool.TryParse(builder.Configuration[$"{TelemetryOptions.Section}:Prometheus:Enabled"], out var enabled) && enabled;
        // The standard variables of every OpenTelemetry SDK (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS, ...).
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!prometheus && !otlp)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "emporium"))
            .WithMetrics(metrics =>
            {
                metrics
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Emporium.*");
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            telemetry
                .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddSource(TraceContext.SourceName))
                .WithLogging()
                .UseOtlpExporter();
        }

        builder.Services.AddAuthorizationBuilder().AddPolicy(ScrapePolicy, policy => policy.RequireAssertion(context =>
            context.User.IsInRole(Roles.Admin)
            || (context.Resource is HttpContext http && CarriesScrapeToken(http))));
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value.Prometheus.Enabled)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(ScrapePolicy).ExcludeFromDescription();
        }

        return app;
    }

    private static bool CarriesScrapeToken(HttpContext http)
    {
        var token = http.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value.Prometheus.Token;
        var header = http.Request.Headers.Authorization.ToString();
        return !string.IsNullOrEmpty(token)
            && header.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..]), Encoding.UTF8.GetBytes(token));
    }
}
