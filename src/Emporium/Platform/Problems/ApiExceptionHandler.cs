using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Emporium.Platform.Http;

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
    IEnumerable<ITransientConflicts> conflicts,
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
            return await UnavailableAsync(context, exception, RetryAfterSeconds, "The service is temporarily unavailable.",
                $"A service it depends on cannot be reached; nothing was changed. Try again in {RetryAfterSeconds} seconds.");
        }

        if (!context.RequestAborted.IsCancellationRequested && (exception is ContendedRowException || conflicts.Any(c => c.IsTransientConflict(exception))))
        {
            // A deadlock or serialization failure the endpoint did not run again (or lost every time): the database
            // rolled the whole transaction back, and the same request sent again is expected to succeed.
            LogLostRace(logger, context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
            return await UnavailableAsync(context, exception, 1, "The request collided with another.",
                "The database aborted it to let a concurrent change through; nothing was changed. Send it again.");
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

    internal static ProblemDetails BadBody(JsonException json)
    {
        var field = json.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : null;
        var message = WrongType().Match(json.Message) is { Success: true } wrong
            ? $"{field ?? "The body"} must be {Expected(wrong.Groups["type"].Value, field)}."
            : json.Message;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON for this operation.",
            Detail = message,
        };
        if (field is not null)
        {
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        }

        return problem;
    }

    /// <summary>
    /// What the field's value looks like in JSON, from the .NET type System.Text.Json names in "could not be converted
    /// to ...", so that a client reads "price must be a number", not "System.Nullable`1[System.Decimal]". For a record
    /// read through its constructor the message names the record, not the field's type; the constructor's parameter of
    /// the field's name gives that.
    /// </summary>
    private static string Expected(string typeName, string? field)
    {
        const string nullable = "System.Nullable`1[";
        var name = typeName.StartsWith(nullable, StringComparison.Ordinal) ? typeName[nullable.Length..^1] : typeName;
        var type = Type.GetType(name)
            ?? AppDomain.CurrentDomain.GetAssemblies().Select(assembly => assembly.GetType(name)).FirstOrDefault(found => found is not null);
        if (type is null)
        {
            // A generic collection of the service's own types, which Type.GetType cannot resolve by this name.
            var generic = name.IndexOf('`', StringComparison.Ordinal);
            return generic > 0 && name.StartsWith("System.Collections.", StringComparison.Ordinal)
                ? name[..generic].EndsWith("Dictionary", StringComparison.Ordinal) ? "an object" : "an array"
                : "a value of another JSON type";
        }

        if (field is not null && Describe(type) == "an object")
        {
            var last = field[(field.LastIndexOf('.') + 1)..];
            var element = last.EndsWith(']');
            var property = element ? last[..last.IndexOf('[', StringComparison.Ordinal)] : last;
            var parameter = type.GetConstructors()
                .SelectMany(constructor => constructor.GetParameters())
                .FirstOrDefault(p => p.Name is { } n && JsonNamingPolicy.SnakeCaseLower.ConvertName(n) == property);
            if (parameter is not null)
            {
                var parameterType = parameter.ParameterType;
                return Describe(element && ElementOf(parameterType) is { } item ? item : parameterType);
            }
        }

        return Describe(type);
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(member => $"\"{JsonNamingPolicy.SnakeCaseLower.ConvertName(member)}\""));
        }

        const string dateTime = "a date and time in RFC 3339 form, such as \"2026-01-31T12:00:00Z\"";
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => string.Create(CultureInfo.InvariantCulture, $"a whole number from {Limit(type, "MinValue")} to {Limit(type, "MaxValue")}"),
            TypeCode.Decimal or TypeCode.Double or TypeCode.Single => "a number within range",
            TypeCode.Boolean => "true or false",
            TypeCode.String or TypeCode.Char => "a string",
            TypeCode.DateTime => dateTime,
            _ when type == typeof(DateTimeOffset) => dateTime,
            _ when type == typeof(DateOnly) => "a date such as \"2026-01-31\"",
            _ when type == typeof(Guid) => "a UUID",
            _ when IsDictionary(type) => "an object",
            _ when ElementOf(type) is not null => "an array",
            _ => "an object",
        };
    }

    private static bool IsDictionary(Type type) =>
        type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
            && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)));

    private static Type? ElementOf(Type type) =>
        type == typeof(string) || type == typeof(JsonElement) ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static object? Limit(Type type, string field) => type.GetField(field)?.GetValue(null);

    /// <summary>System.Text.Json's message for a value of the wrong JSON type, or a number out of its type's range.</summary>
    [GeneratedRegex(@"^The JSON value could not be converted to (?<type>\S+?)\. Path: ")]
    private static partial Regex WrongType();

    /// <summary>503 with Retry-After: nothing was changed, and the same request later is expected to work.</summary>
    private async ValueTask<bool> UnavailableAsync(HttpContext context, Exception exception, int retryAfterSeconds, string title, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail },
            Exception = exception,
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: it lost a race in the database ({Reason})")]
    private static partial void LogLostRace(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: a dependency is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
