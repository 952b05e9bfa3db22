using System.Text;
using System.Text.RegularExpressions;

namespace Emporium.Features.Catalog;

/// <summary>URL slugs: lower-case ASCII words joined by hyphens, never all digits (so /{ref} can tell ids from slugs).</summary>
public static partial class Slugs
{
    /// <summary>Literal routes beside /{ref} (GET /api/products/export, POST /api/products/upload) would shadow these slugs.</summary>
    private static readonly HashSet<string> RouteWords = new(StringComparer.Ordinal) { "export", "upload" };

    public static string FromName(string name, string fallback)
    {
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var ascii = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                ascii.Append(c);
            }
        }

        var slug = NonSlugCharacters().Replace(ascii.ToString().ToLowerInvariant(), "-").Trim('-');
        if (slug.Length == 0)
        {
            return fallback;
        }

        if (slug.All(char.IsAsciiDigit) || RouteWords.Contains(slug))
        {
            slug = $"{fallback}-{slug}";
        }

        // Room for the -2, -3, ... suffix UniqueAsync may add, prefix included; the cut keeps the prefix, so the slug
        // never becomes all digits.
        return slug.Length > CatalogLimits.SlugLength - 8 ? slug[..(CatalogLimits.SlugLength - 8)].TrimEnd('-') : slug;
    }

    /// <summary>Null when <paramref name="slug"/> is acceptable as a user-chosen slug, else the reason.</summary>
    public static string? Problem(string slug) =>
        slug.Length == 0 ? "slug must not be empty."
        : slug.Length > CatalogLimits.SlugLength ? $"slug must be at most {CatalogLimits.SlugLength} characters."
        : !ValidSlug().IsMatch(slug) ? "slug may contain only lower-case letters, digits and single hyphens between them."
        : slug.All(char.IsAsciiDigit) ? "slug must not be all digits (it would read as an id)."
        : RouteWords.Contains(slug) ? $"slug '{slug}' is reserved: it is the name of an API route."
        : null;

    /// <summary>
    /// How many times a create with a generated slug tries again when the unique index refuses it: concurrent creates of
    /// the same name all find the same slug free, and each retry steps past the ones taken meanwhile (-2, -3, ...).
    /// </summary>
    public const int GeneratedSlugAttempts = 25;

    /// <summary>
    /// A free one of slug, slug-2, slug-3, ...: the first one when those taken run without a gap (they mostly do: deleted
    /// rows keep their slugs), found with a few calls of <paramref name="taken"/> by doubling, then halving, the step.
    /// Trying each in turn made the 5,000th product named "Чай" (slug "product") wait for 5,000 queries.
    /// </summary>
    public static async Task<string> UniqueAsync(string slug, Func<string, Task<bool>> taken)
    {
        string Candidate(long n) => n == 1 ? slug : $"{slug}-{n.ToString(CultureInfo.InvariantCulture)}";
        if (!await taken(slug))
        {
            return slug;
        }

        // Candidate(taken) is taken and Candidate(free) is not, throughout.
        long takenN = 1, free = 2;
        while (await taken(Candidate(free)))
        {
            (takenN, free) = (free, free * 2);
        }

        while (free - takenN > 1)
        {
            var middle = takenN + ((free - takenN) / 2);
            if (await taken(Candidate(middle)))
            {
                takenN = middle;
            }
            else
            {
                free = middle;
            }
        }

        return Candidate(free);
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonSlugCharacters();

    [GeneratedRegex("^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    private static partial Regex ValidSlug();
}

/// <summary>A route's {ref}: a numeric id, or a slug (slugs are never all digits).</summary>
public readonly record struct CatalogRef(long? Id, string? Slug)
{
    public static CatalogRef Parse(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? new CatalogRef(id, null)
            : new CatalogRef(null, value.ToLowerInvariant());
}
