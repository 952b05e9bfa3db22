using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Identity;

/// <summary>Small steps the identity tests repeat: make an account, log in, read a token's claims.</summary>
internal static class AuthApi
{
    public const string Password = "a long enough passphrase";

    public static string NewEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    public static async Task<JsonElement> RegisterAsync(this EmporiumApp app, string email, string password = Password) =>
        await (await app.Anonymous().PostJson("/api/auth/register", new { email, password })).ShouldBe(HttpStatusCode.Created);

    public static async Task<JsonElement> LoginAsync(this EmporiumApp app, string email, string password = Password) =>
        await (await app.Anonymous().PostJson("/api/auth/login", new { email, password })).ShouldBe(HttpStatusCode.OK);

    public static Task<HttpResponseMessage> RefreshAsync(this EmporiumApp app, string refreshToken) =>
        app.Anonymous().PostJson("/api/auth/refresh", new { refresh_token = refreshToken });

    public static HttpClient WithToken(this EmporiumApp app, string accessToken)
    {
        var client = app.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    /// <summary>The role claims inside an access token (one string, or an array when there are several).</summary>
    public static IReadOnlyList<string> RolesIn(string accessToken)
    {
        var payload = accessToken.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        if (!json.RootElement.TryGetProperty("role", out var role))
        {
            return [];
        }

        return role.ValueKind == JsonValueKind.Array
            ? role.EnumerateArray().Select(r => r.GetString()!).ToList()
            : [role.GetString()!];
    }

    public static IReadOnlyList<string> Strings(this JsonElement element, string property) =>
        element.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToList();
}
