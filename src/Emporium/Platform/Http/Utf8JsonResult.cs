namespace Emporium.Platform.Http;

/// <summary>
/// A JSON body serialized once and written as is: for representations read far more often than they change (a cached
/// product), where serializing the same object again on every request was most of the request's work. The OpenAPI
/// document describes the body through the endpoint's typed result (Ok&lt;T&gt;) as before.
/// </summary>
public sealed class Utf8JsonResult(ReadOnlyMemory<byte> body) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}
