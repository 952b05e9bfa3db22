using Microsoft.AspNetCore.Diagnostics;

namespace Emporium.Platform.Problems;

/// <summary>
/// Says whether an exception means that a dependency (the database, say) cannot be reached right now: the request was
/// fine and may succeed when retried. Implemented by the infrastructure adapters, the only code that knows their errors.
/// </summary>
public interface IUnavailableDependencies
{
    bool IsUnavailable(Exception exception);
}

/// <summary>
/// Turns the few exceptions that mean "the client sent something wrong" into 4xx problem details, and those that mean "a
/// dependency is down" into 503 with Retry-After; anything else stays a logged 500.
/// </summary>
internal sealed partial class ApiExceptionHandler(
    IProblemDetailsService problems,
    IEnumerable<IUnavailableDependencies> dependencies,
    ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    /// <summary>What a 503 asks clients to wait: long enough for a database failover or restart to be noticed.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!context.RequestAborted.IsCancellationRequested && dependencies.Any(d => d.IsUnavailable(exception)))
        {
            LogUnavailable(logger, context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "The service is temporarily unavailable.",
                    Detail = $"A service it depends on cannot be reached; nothing was changed. Try again in {RetryAfterSeconds} seconds.",
                },
                Exception = exception,
            });
        }

        var problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => BadBody(json),
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type.",
                    _ => "The request is malformed.",
                },
                Detail = bad.Message,
            },
            JsonException json => BadBody(json),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
            _ => null,
        };

        if (problem is null)
        {
            if (exception is not OperationCanceledException)
            {
                LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
            }

            return false;
        }

        context.Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails BadBody(JsonException json)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON for this operation.",
            Detail = json.Message,
        };
        if (json.Path is { Length: > 2 } path)
        {
            problem.Extensions["errors"] = new Dictionary<string, string[]>
            {
                [path.TrimStart('$', '.')] = [json.Message],
            };
        }

        return problem;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: a dependency is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
