using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace Emporium.Platform.Logging;

/// <summary>How console logs are written (Logging:Format).</summary>
public enum LogFormat
{
    /// <summary>JSON when standard output is redirected, text at a terminal.</summary>
    Auto,

    /// <summary>One JSON object per line.</summary>
    Json,

    /// <summary>One readable line per entry: time, level, category, message.</summary>
    Text,
}

/// <summary>The console format settings (section Logging), bound only to report a wrong value at start.</summary>
public sealed class LogSettings
{
    public LogFormat Format { get; set; }

    public bool? Json { get; set; }
}

public static partial class RequestLogging
{
    /// <summary>
    /// Console logs in the format Logging:Format asks for: JSON lines for machines (a log collector, a container, a file),
    /// or one readable line per entry for a person at a terminal. Auto (the default) picks JSON when standard output is
    /// redirected and text when it is a terminal; Logging:Json (true or false) is still honoured. Levels come from
    /// Logging:LogLevel like any ASP.NET Core app.
    /// </summary>
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
        // Read leniently below; a value that is not one of the formats is reported by the settings check at start.
        builder.Services.AddSettings<LogSettings>("Logging");
        if (ChooseFormat(builder.Configuration, Console.IsOutputRedirected) == LogFormat.Json)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = false;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                options.UseUtcTimestamp = true;
            });
        }
        else
        {
            // The console the host already has, one line per entry.
            builder.Logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.IncludeScopes = false;
                options.TimestampFormat = "HH:mm:ss ";
            });
        }

        return builder;
    }

    /// <summary>The format of console logs: Logging:Format, else Logging:Json, else JSON unless a person is watching.</summary>
    public static LogFormat ChooseFormat(IConfiguration configuration, bool outputRedirected)
    {
        if (Enum.TryParse<LogFormat>(configuration["Logging:Format"], ignoreCase: true, out var format) && Enum.IsDefined(format)
            && format != LogFormat.Auto)
        {
            return format;
        }

        if (configuration["Logging:Json"] is { Length: > 0 } json && bool.TryParse(json, out var asJson))
        {
            return asJson ? LogFormat.Json : LogFormat.Text;
        }

        return outputRedirected ? LogFormat.Json : LogFormat.Text;
    }

    /// <summary>One line per request: method, route template, status, duration and trace id.</summary>
    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Emporium.Requests");
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                // The exception handler clears the endpoint before it writes its answer, and keeps it on its feature.
                var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
                var route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
                var statusCode = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted
                    ? 499
                    : context.Response.StatusCode;
                LogRequest(
                    logger,
                    context.Request.Method,
                    route,
                    context.Request.Path,
                    statusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier);
            }
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "HTTP {Method} {Route} ({Path}) answered {StatusCode} in {DurationMs:0.0} ms trace {TraceId}")]
    private static partial void LogRequest(
        ILogger logger, string method, string route, string path, int statusCode, double durationMs, string traceId);
}
