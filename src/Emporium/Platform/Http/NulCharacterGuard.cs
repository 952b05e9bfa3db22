using System.Text;

namespace Emporium.Platform.Http;

/// <summary>
/// Refuses text with the NUL character (U+0000) in a query parameter or a JSON body, with a 400 problem that names the
/// field (Kestrel itself refuses a path holding %00 with 400); and, in a JSON body, an escaped lone surrogate
/// ("\ud800"), which is no character at all and which System.Text.Json refuses to read as a string with an exception
/// no binder turns into a 400, and bytes that are not UTF-8 (the binder called that a wrong type). PostgreSQL cannot store NUL in text (it answered 500 with error 22021) and SQLite stored it
/// silently; no field of this API has a use for it, so every request is held to one rule before any handler runs,
/// including handlers that read a body as a <see cref="JsonElement"/>.
/// </summary>
public static class NulCharacterGuard
{

    private const string NulMessage = "must not contain the NUL character (U+0000).";

    private const string SurrogateMessage = "must not contain a lone UTF-16 surrogate (an escape such as \\ud800 without its pair).";

    private const string Utf8Message = "must be UTF-8 text; it holds bytes that are not.";

    public static IApplicationBuilder UseNulCharacterGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (NotUtf8Json(context.Request) is { } charset)
            {
                await context.WriteProblemAsync(new ProblemDetails
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Title = "JSON bodies must be UTF-8.",
                    Detail = $"The body is declared as charset {charset}; send UTF-8 JSON (RFC 8259), with no charset or charset=utf-8.",
                });
                return;
            }

            var limit = context.RequestServices.GetRequiredService<IOptions<JsonBodyOptions>>().Value.MaxJsonBodyBytes;
            var refused = InQuery(context.Request) is { } name ? (name, NulMessage) : await InJsonBodyAsync(context.Request, limit);
            if (refused is (TooLarge, _))
            {
                await context.WriteProblemAsync(new ProblemDetails
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "The body is too large.",
                    Detail = string.Create(CultureInfo.InvariantCulture, $"JSON bodies may be at most {limit:N0} bytes (Http:MaxJsonBodyBytes); nothing was changed."),
                });
            }
            else if (refused is var (field, message))
            {
                await context.WriteFieldProblemAsync(field, $"{field} {message}");
            }
            else
            {
                await next(context);
            }
        });

    private static string? InQuery(HttpRequest request)
    {
        if (!request.QueryString.HasValue)
        {
            return null;
        }

        foreach (var (name, values) in request.Query)
        {
            if (name.Contains('\0', StringComparison.Ordinal))
            {
                return "query";
            }

            foreach (var value in values)
            {
                if (value?.Contains('\0', StringComparison.Ordinal) == true)
                {
                    return name;
                }
            }
        }

        return null;
    }

    /// <summary>The "field" of a JSON body over Http:MaxJsonBodyBytes: a 413, not a 400 (no query name holds a NUL).</summary>
    private const string TooLarge = "\0too-large";

    private static async Task<(string Field, string Message)?> InJsonBodyAsync(HttpRequest request, long limit)
    {
        if (!IsJson(request.ContentType) || request.ContentLength is 0)
        {
            return null;
        }

        if (request.ContentLength > limit)
        {
            return (TooLarge, "");
        }

        request.EnableBuffering();
        using var buffer = new MemoryStream();
        // Stops reading past the limit (a body sent without a length): the whole of every body a handler reads is scanned.
        var limited = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(limited, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(limited, 0, read);
            if (buffer.Length > limit)
            {
                return (TooLarge, "");
            }
        }

        request.Body.Position = 0;
        return FindUnstorableText(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>
    /// The charset a JSON body is declared in when it is not UTF-8 (JSON between systems is UTF-8, RFC 8259, and this guard
    /// reads bodies as such); null for UTF-8 or no charset. ASP.NET Core would transcode a known one and answer 500 for one
    /// it does not know, including UTF-8 spelled "utf8" or in quotes: a UTF-8 charset is dropped from the request, which
    /// is read as UTF-8 all the same.
    /// </summary>
    private static string? NotUtf8Json(HttpRequest request)
    {
        if (request.ContentType is not { } contentType || request.ContentLength is 0
            || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media) || !IsJson(media) || !media.Charset.HasValue)
        {
            return null;
        }

        var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(media.Charset).Value;
        // US-ASCII is UTF-8's first 128 characters: such a body reads the same either way.
        if (charset is not null && (charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            || charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase)))
        {
            request.ContentType = media.MediaType.Value;
            return null;
        }

        return charset;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null &&
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media) && IsJson(media);

    private static bool IsJson(Microsoft.Net.Http.Headers.MediaTypeHeaderValue media) =>
        media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
        media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The path of the first string (or member name) holding U+0000, a lone surrogate or bytes that are not UTF-8, as
    /// the client would name it ("name", "filter.brand", "roles[0]"), with what is wrong with it; or null. JSON can carry
    /// the first two only escaped, so only escaped strings are unescaped; the others' bytes are checked as they are. An invalid document is not this guard's to report: it stops, and the
    /// handler's own binding explains the mistake.
    /// </summary>
    internal static (string Field, string Message)? FindUnstorableText(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.EndObject or JsonTokenType.EndArray)
                    && frames.Count > 0 && frames[^1].IsArray)
                {
                    frames[^1].Index++;
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        frames.Add(new Frame(isArray: false));
                        break;
                    case JsonTokenType.StartArray:
                        frames.Add(new Frame(isArray: true));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var name = Unescaped(ref reader, out var nameProblem);
                        frames[^1].Property = name;
                        if (nameProblem is not null)
                        {
                            return (Path(frames, upToParent: true) is { Length: > 0 } parent ? parent : "body", nameProblem);
                        }

                        break;
                    case JsonTokenType.String:
                        Unescaped(ref reader, out var problem);
                        if (problem is not null)
                        {
                            return (Path(frames, upToParent: false) is { Length: > 0 } path ? path : "body", problem);
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    /// <summary>The token's text and, when it is escaped and holds NUL or a lone surrogate, what is wrong with it.</summary>
    private static string? Unescaped(ref Utf8JsonReader reader, out string? problem)
    {
        problem = null;
        // The reader reads any bytes; invalid UTF-8 surfaced only when the binder turned it into a string, as a wrong type.
        if (!reader.ValueIsEscaped)
        {
            if (!System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
            {
                problem = Utf8Message;
                return null;
            }

            return reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
        }

        try
        {
            var text = reader.GetString();
            if (reader.ValueIsEscaped && text?.Contains('\0', StringComparison.Ordinal) == true)
            {
                problem = NulMessage;
            }

            return text;
        }
        catch (InvalidOperationException)
        {
            problem = System.Text.Unicode.Utf8.IsValid(reader.ValueSpan) ? SurrogateMessage : Utf8Message;
            return null;
        }
    }

    private static string Path(List<Frame> frames, bool upToParent)
    {
        var path = new StringBuilder();
        for (var i = 0; i < frames.Count - (upToParent ? 1 : 0); i++)
        {
            var frame = frames[i];
            if (frame.IsArray)
            {
                path.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.Property is { } property)
            {
                path.Append(path.Length == 0 ? "" : ".").Append(property);
            }
        }

        return path.ToString();
    }

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public int Index { get; set; } = -1;

        public string? Property { get; set; }
    }
}

/// <summary>Http:MaxJsonBodyBytes: the largest JSON body any operation reads (file uploads have limits of their own).</summary>
public sealed class JsonBodyOptions
{
    public const string Section = "Http";

    /// <summary>
    /// 4 MiB by default: a bulk delete of BulkDeleteJob's 10,000 SKUs (the largest body) fits several times over. Larger
    /// bodies are refused with 413 before anything reads them; every body up to it is checked for NUL and lone surrogates.
    /// At most 25 MiB, under Kestrel's own limit on request bodies (30,000,000 bytes), which would refuse larger ones first.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(65_536, 26_214_400)]
    public long MaxJsonBodyBytes { get; set; } = 4 * 1024 * 1024;
}
