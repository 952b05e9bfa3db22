using Microsoft.Net.Http.Headers;

namespace Emporium.Platform.Http;

/// <summary>Strong entity tags built from a row version, and the If-Match check that guards updates.</summary>
public static class ETags
{
    public static string For(long id, int version) => $"\"{id}-{version}\"";

    /// <summary>True when the request has no If-Match, or one of its tags (or *) matches <paramref name="current"/>.</summary>
    public static bool IfMatchSatisfied(HttpRequest request, string current)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || (!tag.IsWeak && tag.Tag == current));
    }

    /// <summary>
    /// True when If-Match names tags (not only *), so that a guarded write must still find the version the check read; a
    /// write under If-Match: * asks only that the resource exists.
    /// </summary>
    public static bool IfMatchNamesAVersion(HttpRequest request) =>
        request.Headers.IfMatch.Count > 0
        && !(EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags) && tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any)));

    /// <summary>True when If-None-Match names <paramref name="current"/> or is *: weak comparison, as RFC 9110 asks for GET and HEAD.</summary>
    public static bool IfNoneMatchSatisfied(HttpRequest request, string current)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Tag == current);
    }

    public static void Set(HttpResponse response, string etag) => response.Headers.ETag = etag;

    /// <summary>
    /// An If-Match that is not a list of entity tags (an unquoted 42-3, one bad entry in a list) is a 400 naming the header:
    /// read as matching nothing, it was a 412 whose "fetch it again" could never help.
    /// </summary>
    public static IApplicationBuilder UseIfMatchSyntaxCheck(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            // Only writes read If-Match here (a GET, a file or a health probe ignores it, as the OpenAPI document says).
            var header = context.Request.Headers.IfMatch;
            if (header.Count == 0 || HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                || EntityTagHeaderValue.TryParseStrictList(header, out _))
            {
                await next(context);
                return;
            }

            await context.WriteFieldProblemAsync("If-Match", "If-Match must be * or entity tags in double quotes, as the ETag header gives them (\"12-3\").");
        });
}
