namespace Emporium.Features.Jobs;

/// <summary>
/// Which job kinds a worker takes (Jobs:Kinds): comma-separated patterns where <c>*</c> stands for any run of characters,
/// e.g. <c>image.*</c> for a worker that only processes images, <c>!image.*</c> for the workers that leave them to it.
/// A kind is taken when it matches an included pattern (or none is given) and no excluded one.
/// </summary>
public sealed class JobKinds
{
    /// <summary>Every kind: the default.</summary>
    public static readonly JobKinds All = new([], []);

    private JobKinds(IReadOnlyList<string> included, IReadOnlyList<string> excluded, IReadOnlyList<string>? handled = null) =>
        (Included, Excluded, Handled) = (included, excluded, handled ?? []);

    public IReadOnlyList<string> Included { get; }

    public IReadOnlyList<string> Excluded { get; }

    /// <summary>
    /// The kinds this process has handlers for (empty: not narrowed). During a rolling upgrade an older worker must leave a
    /// newer release's kind to the workers that know it, not fail the job for want of a handler.
    /// </summary>
    public IReadOnlyList<string> Handled { get; }

    /// <summary>These patterns, taking only the kinds in <paramref name="handled"/>.</summary>
    public JobKinds Handling(IEnumerable<string> handled) => new(Included, Excluded, [.. handled.Distinct().Order(StringComparer.Ordinal)]);

    public bool TakesAll => Included.Count == 0 && Excluded.Count == 0;

    /// <summary>Parses Jobs:Kinds; null (with the reason) when a pattern is not made of a-z, 0-9, '.', '_', '-' and '*'.</summary>
    public static JobKinds? Parse(string? value, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return All;
        }

        List<string> included = [], excluded = [];
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var exclude = item.StartsWith('!');
            var pattern = exclude ? item[1..] : item;
            if (pattern.Length == 0 || !pattern.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' or '*'))
            {
                error = $"Jobs:Kinds: '{item}' is not a kind pattern (a-z, 0-9, '.', '_', '-', '*' for any run of characters, '!' in front to leave those kinds out).";
                return null;
            }

            (exclude ? excluded : included).Add(pattern);
        }

        return new JobKinds(included, excluded);
    }

    /// <summary>Whether a worker with these patterns takes <paramref name="kind"/>.</summary>
    public bool Takes(string kind) => (Included.Count == 0 || Included.Any(pattern => Matches(pattern, kind))) && !Excluded.Any(pattern => Matches(pattern, kind));

    /// <summary>The pattern as SQL LIKE text, with '\' as the escape character ('_' and '%' are literal in a kind).</summary>
    public static string ToLike(string pattern) =>
        pattern.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal)
            .Replace('*', '%');

    public override string ToString() =>
        TakesAll ? "every kind" : string.Join(", ", Included.Concat(Excluded.Select(pattern => "!" + pattern)));

    private static bool Matches(string pattern, string kind)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return pattern == kind;
        }

        if (!kind.StartsWith(parts[0], StringComparison.Ordinal) || !kind.EndsWith(parts[^1], StringComparison.Ordinal)
            || kind.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var at = parts[0].Length;
        var end = kind.Length - parts[^1].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = kind.IndexOf(parts[i], at, end - at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return true;
    }
}
