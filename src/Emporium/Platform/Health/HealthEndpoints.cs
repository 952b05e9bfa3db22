using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Emporium.Platform.Health;

public static class HealthEndpoints
{
    /// <summary>Tag for checks of dependencies the service cannot serve without (database, broker, cache).</summary>
    public const string Ready = "ready";

    /// <summary>/health/live (the process answers), /health/ready and /health (every dependency).</summary>
    public static void MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = WriteJson,
        }).WithTags("Health");
        var ready = new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResponseWriter = WriteJson,
        };
        app.MapHealthChecks("/health/ready", ready).WithTags("Health");
        app.MapHealthChecks("/health", ready).WithTags("Health");
    }

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// Each check's status and time for anyone (probes and load balancers call anonymously); what a failing check says
    /// (host names, addresses, the driver's error) only for staff and admins signed in: it maps the deployment for an attacker.
    /// </summary>
    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        var detailed = context.User.IsStaffOrAdmin();
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new
                {
                    status = entry.Value.Status.ToString(),
                    duration_ms = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    description = detailed ? entry.Value.Description ?? entry.Value.Exception?.Message : null,
                }),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }
}
