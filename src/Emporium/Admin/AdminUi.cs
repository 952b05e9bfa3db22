using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace Emporium.Admin;

/// <summary>
/// The admin UI at /admin: static HTML, CSS and JavaScript modules that call the public API with the
/// signed-in user's token. The files are embedded in the assembly, so `dotnet run`, the tests and the
/// published image serve exactly the same bytes without depending on the content root.
/// </summary>
public static class AdminUi
{
    public const string BasePath = "/admin";

    private const string ResourcePrefix = "admin/";

    // Everything the UI needs comes from this origin, images also from where product images are served (a CDN, or the
    // presigned URLs /media redirects to) and blob: (upload previews); inline script and style are refused, so a product
    // name that slipped past escaping still cannot run code.
    private static string ContentSecurityPolicyFor(IEnumerable<string> imageOrigins) =>
        $"default-src 'self'; script-src 'self'; style-src 'self'; img-src {string.Join(' ', ["'self'", "data:", "blob:", .. imageOrigins.Distinct()])}; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var assets = LoadAssets(typeof(AdminUi).Assembly);
        var policy = ContentSecurityPolicyFor(ImageOrigins(app.ServiceProvider));
        var admin = app.MapGroup(BasePath).ExcludeFromDescription().AllowAnonymous();

        // The UI routes with the URL fragment (#/products), so the server only ever hands out the shell.
        admin.MapGet("", (HttpContext http) => Serve(http, assets["index.html"], policy));
        admin.MapGet("/{**path}", (string path, HttpContext http) =>
            assets.TryGetValue(path, out var asset) ? Serve(http, asset, policy) : Results.NotFound());

        // The service's root is for people: it opens the admin UI (the API lives under /api, its documents at /api/docs and /api/redoc).
        app.MapGet("/", () => Results.Redirect(BasePath)).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    /// <summary>Origins other than the service's own that product images may come from.</summary>
    private static IEnumerable<string> ImageOrigins(IServiceProvider services)
    {
        var media = services.GetRequiredService<IOptions<Features.Catalog.Images.MediaOptions>>().Value;
        if (Uri.TryCreate(media.BaseUrl, UriKind.Absolute, out var cdn) && cdn.Scheme is "http" or "https")
        {
            yield return cdn.GetLeftPart(UriPartial.Authority);
        }

        using var scope = services.CreateScope();
        if (scope.ServiceProvider.GetRequiredService<Platform.Storage.IFileStore>().DirectUrl("images/origin", TimeSpan.FromMinutes(1)) is { } direct)
        {
            yield return direct.GetLeftPart(UriPartial.Authority);
        }
    }

    private static IResult Serve(HttpContext http, AdminAsset asset, string policy)
    {
        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        // Revalidate every time: a deploy must never leave an old app.js talking to a new API.
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = policy;

        if (ETags.IfNoneMatchSatisfied(http.Request, asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    internal static FrozenDictionary<string, AdminAsset> LoadAssets(Assembly assembly)
    {
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, AdminAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            // RecursiveDir carries the build machine's separator; URLs always use '/'.
            var normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var path = normalized[ResourcePrefix.Length..];
            var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"";
            assets[path] = new AdminAsset(content, type, etag);
        }

        if (!assets.ContainsKey("index.html"))
        {
            throw new InvalidOperationException("The admin UI was not embedded: admin/index.html is missing from the assembly.");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

internal sealed record AdminAsset(byte[] Content, string ContentType, string ETag);
