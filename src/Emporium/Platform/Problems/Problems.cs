namespace Emporium.Platform.Problems;

/// <summary>Problem results shared by every feature, so the same mistake reads the same everywhere.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"{what} was not found.");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict.", detail: detail);

    /// <summary>
    /// A refusal (409 Conflict, 422 Unprocessable Content) that also names the field it is about, in the errors member a
    /// validation problem has, so a form can show the message next to its input.
    /// </summary>
    public static ProblemHttpResult OfField(int statusCode, string title, string detail, string field, string message) =>
        TypedResults.Problem(
            statusCode: statusCode,
            title: title,
            detail: detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    public static ProblemHttpResult PreconditionFailed() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status412PreconditionFailed,
            title: "The resource has changed.",
            detail: "If-Match does not match the current ETag; fetch the resource again and reapply your change.");

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "One or more fields are invalid.");

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>Collects field-level messages keyed by the snake_case name the client sent.</summary>
public sealed partial class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    public ValidationErrors When(bool condition, string field, string message) =>
        condition ? Add(field, message) : this;

    /// <summary>A filter naming one value of <typeparamref name="TEnum"/> in any case; null when not given, an error when unknown.</summary>
    public TEnum? OneOf<TEnum>(string? given, string field)
        where TEnum : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(given))
        {
            return null;
        }

        // By name only: Enum.TryParse also reads "1" and "0,2", which name no status a client can see.
        if (Enum.GetNames<TEnum>().FirstOrDefault(name => name.Equals(given.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name)
        {
            return Enum.Parse<TEnum>(name);
        }

        Add(field, $"{field} must be one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
        return null;
    }

    /// <summary>
    /// A filter naming an instant in ISO 8601 (2026-01-31, 2026-01-31T08:00:00Z, with an offset or fractions; without
    /// one, UTC), as UTC; null when not given, an error otherwise. Never a culture's spelling: 01/02/2026 is refused, not
    /// read as the 2nd of January.
    /// </summary>
    public DateTime? Instant(string? given, string field)
    {
        if (string.IsNullOrWhiteSpace(given))
        {
            return null;
        }

        // RFC 3339's spellings too: a space or a lower-case t between date and time, a lower-case z, and up to nine
        // fractional digits (Go's RFC3339Nano), of which .NET keeps seven.
        var text = given.Trim().ToUpperInvariant();
        if (text.Length > 10 && text[10] == ' ')
        {
            text = string.Concat(text.AsSpan(0, 10), "T", text.AsSpan(11));
        }

        text = ExtraFractionDigits().Replace(text, "$1");
        if (DateTimeOffset.TryParseExact(text, IsoInstants, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed.UtcDateTime;
        }

        Add(field, $"{field} must be an ISO 8601 instant such as 2026-01-31T00:00:00Z; '{given}' is not.");
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(\.[0-9]{7})[0-9]{1,2}(?=[Z+-]|$)")]
    private static partial System.Text.RegularExpressions.Regex ExtraFractionDigits();

    private static readonly string[] IsoInstants =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    public ValidationProblem ToProblem() => Problems.Validation(ToDictionary());
}
