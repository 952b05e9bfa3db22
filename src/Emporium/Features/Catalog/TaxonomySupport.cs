using Microsoft.Net.Http.Headers;

namespace Emporium.Features.Catalog;

/// <summary>The sort orders brand and category lists offer.</summary>
internal enum TaxonomySort
{
    Name,
    NameDescending,
    CreatedAt,
    CreatedAtDescending,
}

/// <summary>How a write changes a slug: keep it, take the one the client chose, or derive a fresh one from the name.</summary>
internal readonly record struct SlugEdit(string? Given, bool Regenerate)
{
    public static SlugEdit Keep => default;
}

/// <summary>Rules and answers that brands and categories share (validation, slugs, merge patch, conditional GET).</summary>
internal static class TaxonomySupport
{
    public const string SortDescription = "name, -name, created_at or -created_at (default name).";

    /// <summary>The trimmed name, or null after recording why it is unacceptable.</summary>
    public static string? Name(string? name, ValidationErrors errors)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add("name", "name is required.");
            return null;
        }

        errors.When(trimmed.Length > CatalogLimits.NameLength, "name", $"name must be at most {CatalogLimits.NameLength} characters.");
        return trimmed;
    }

    public static void Description(string? description, ValidationErrors errors) =>
        errors.When(
            description?.Length > CatalogLimits.DescriptionLength,
            "description",
            $"description must be at most {CatalogLimits.DescriptionLength} characters.");

    public static void Slug(string? slug, ValidationErrors errors)
    {
        if (slug is not null && Slugs.Problem(slug) is { } problem)
        {
            errors.Add("slug", problem);
        }
    }

    public static TaxonomySort Sort(string? sort, ValidationErrors errors)
    {
        switch (sort)
        {
            case null or "" or "name":
                return TaxonomySort.Name;
            case "-name":
                return TaxonomySort.NameDescending;
            case "created_at":
                return TaxonomySort.CreatedAt;
            case "-created_at":
                return TaxonomySort.CreatedAtDescending;
            default:
                errors.Add("sort", $"sort must be one of {SortDescription}");
                return TaxonomySort.Name;
        }
    }

    /// <summary>
    /// The slug a write ends up with, or null when the client's chosen slug belongs to another row.
    /// Generated slugs step to -2, -3, ... instead of failing.
    /// </summary>
    public static async Task<string?> ResolveSlugAsync(
        SlugEdit edit, string? current, string name, string fallback, Func<string, Task<bool>> takenByAnother)
    {
        if (edit.Given is { } given)
        {
            return given == current || !await takenByAnother(given) ? given : null;
        }

        if (!edit.Regenerate && current is not null)
        {
            return current;
        }

        return await Slugs.UniqueAsync(Slugs.FromName(name, fallback), takenByAnother);
    }

    /// <summary>
    /// Saves a new row: assigns its slug, saves, and when the unique index refuses a slug it generated (a concurrent create of
    /// the same name took it first) assigns the next free one and saves again. A slug the client chose is never changed:
    /// its conflict is the answer. Null on success, else the problem that answers the request.
    /// </summary>
    public static async Task<ProblemHttpResult?> CreateWithSlugAsync(
        string? givenSlug, Func<Task<ProblemHttpResult?>> assignSlug, Func<Task<ProblemHttpResult?>> save)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await assignSlug() is { } taken)
            {
                return taken;
            }

            var problem = await save();
            if (problem is null || givenSlug is not null || attempt == Slugs.GeneratedSlugAttempts)
            {
                return problem;
            }
        }
    }

    /// <summary>409 with a field error, so a form can show it next to the slug input.</summary>
    public static ProblemHttpResult SlugTaken(string slug, string what) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Conflict.",
            detail: $"The slug '{slug}' is already used by another {what} (deleted ones keep their slugs).",
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = new Dictionary<string, string[]> { ["slug"] = [$"slug '{slug}' is already taken."] },
            });

    public static ProblemHttpResult IncludeDeletedForbidden() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Forbidden.",
            detail: "include_deleted=true is reserved for staff and admins.");

    public static ProblemHttpResult IsDeleted(string what) =>
        Problems.Conflict($"The {what} is deleted; restore it first (POST .../restore).");

    /// <summary>True when If-None-Match names the current tag (weak comparison, as RFC 9110 asks for GET).</summary>
    public static bool NotModified(HttpRequest request, string current)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Tag == current);
    }

    public static StatusCodeHttpResult NotModifiedResult() => TypedResults.StatusCode(StatusCodes.Status304NotModified);

    /// <summary>
    /// Reads one string member of a JSON merge patch. Returns false when the member is absent (leave the field alone);
    /// true with a null value when it is null (clear or reset the field).
    /// </summary>
    public static bool TryReadString(JsonElement patch, string field, ValidationErrors errors, out string? value)
    {
        value = null;
        if (!patch.TryGetProperty(field, out var member))
        {
            return false;
        }

        switch (member.ValueKind)
        {
            case JsonValueKind.String:
                value = member.GetString();
                break;
            case JsonValueKind.Null:
                break;
            default:
                errors.Add(field, $"{field} must be a string or null.");
                break;
        }

        return true;
    }

    public static ValidationProblem NotAnObject() =>
        Problems.Validation("body", "A JSON merge patch (RFC 7396) object is expected, e.g. {\"name\": \"New name\"}.");
}
