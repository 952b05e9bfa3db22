using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Emporium.Platform.Problems;

/// <summary>
/// Turns the few exceptions that mean "the client sent something wrong" into 4xx problem details;
/// anything else stays a logged 500.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
