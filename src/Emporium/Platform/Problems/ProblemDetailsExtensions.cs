using System.Diagnostics;

namespace Emporium.Platform.Problems;

public static class ProblemDetailsExtensions
{
    /// <summary>Every error the service answers is RFC 9457 problem details carrying the trace id.</summary>
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["trace_id"] =
                Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
        });
        // After ASP.NET Core's own writer, which writes only for clients that accept JSON: every other client gets
        // problem+json all the same, instead of an exception (a 500 in place of a 429 or a 400) where no writer is found.
        services.AddSingleton<IProblemDetailsWriter, AnyClientProblemWriter>();
        services.AddExceptionHandler<ApiExceptionHandler>();
        return services;
    }

    /// <summary>Answers <paramref name="problem"/> (its status included) from a middleware, before any endpoint runs.</summary>
    public static Task WriteProblemAsync(this HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    /// <summary>A 400 naming <paramref name="field"/>, as a validation problem, from a middleware.</summary>
    public static Task WriteFieldProblemAsync(this HttpContext context, string field, string message) =>
        context.WriteProblemAsync(new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more fields are invalid.",
        });

    /// <summary>Problem details as JSON whatever the request's Accept header says, with the same customization.</summary>
    private sealed class AnyClientProblemWriter(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var problem = context.ProblemDetails;
            problem.Status ??= context.HttpContext.Response.StatusCode;
            // As ASP.NET Core's writer does for a bare status (an empty 401 or 404 made into a problem).
            problem.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(problem.Status.Value);
            options.Value.CustomizeProblemDetails?.Invoke(context);
            return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
                problem, json.Value.SerializerOptions.GetTypeInfo(problem.GetType()), "application/problem+json"));
        }
    }
}
