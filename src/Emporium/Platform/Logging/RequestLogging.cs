using System.Diagnostics;

namespace Emporium.Platform.Logging;

public static partial class RequestLogging
{
    /// <summary>JSON console logs; levels come from Logging:LogLevel like any ASP.NET Core app.</summary>
    public static WebApplicationBuilder AddStructuredLogging(this WebApplicationBuilder builder)
    {
        if (builder.Configuration.GetValue("Logging:Json", true))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = false;
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                options.UseUtcTimestamp = true;
            });
        }

        return builder;
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
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
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
