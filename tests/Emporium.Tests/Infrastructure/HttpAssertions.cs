using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Emporium.Platform;

namespace Emporium.Tests.Infrastructure;

public static class Json
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        PlatformExtensions.ConfigureJson(options);
        return options;
    }
}

public static class HttpAssertions
{
    /// <summary>Asserts the status and returns the body as JSON, showing the body when the status is wrong.</summary>
    public static async Task<JsonElement> ShouldBe(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, "the response body was: {0}", body);
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with this status, and returns it.</summary>
    public static async Task<JsonElement> ShouldBeProblem(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.ShouldBe(expected);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/problem+json");
        problem.GetProperty("status").GetInt32().Should().Be((int)expected);
        return problem;
    }

    public static Task<HttpResponseMessage> PostJson<T>(this HttpClient client, string url, T body) =>
        client.PostAsJsonAsync(url, body, Json.Options);

    public static Task<HttpResponseMessage> PutJson<T>(this HttpClient client, string url, T body) =>
        client.PutAsJsonAsync(url, body, Json.Options);

    public static Task<HttpResponseMessage> PatchJson<T>(this HttpClient client, string url, T body) =>
        client.PatchAsJsonAsync(url, body, Json.Options);

    public static string Str(this JsonElement element, string property) => element.GetProperty(property).GetString()!;
}
