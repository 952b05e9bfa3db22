namespace Emporium.Platform.Http;

public static class TrailingSlashMiddleware
{
    /// <summary>
    /// Treats /api/products/ like /api/products: clients written against Django-style APIs send the
    /// slash, and a redirect would drop the body of a POST. The API readers' pages keep theirs: a browser resolves their
    /// relative redirects against it.
    /// </summary>
    public static IApplicationBuilder UseTrailingSlashTolerance(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value;
            if (path is { Length: > 1 } && path.EndsWith('/') && !OpenApi.ApiDocumentation.IsReaderPath(context.Request.Path))
            {
                context.Request.Path = new PathString(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/");
            }

            return next(context);
        });
}
