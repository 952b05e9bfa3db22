namespace Emporium.Platform.Paging;

public sealed class PagingOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string Section = "Paging";

    [System.ComponentModel.DataAnnotations.Range(1, 10_000)]
    public int DefaultPageSize { get; set; } = 25;

    [System.ComponentModel.DataAnnotations.Range(1, 10_000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>
    /// Lists count matches exactly up to this many; beyond it, where the database can estimate, count is the
    /// planner's estimate and count_exact is false. Exact counts of hundreds of thousands of rows cost more
    /// than the page itself.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue - 1)]
    public int ExactCountLimit { get; set; } = 10_000;

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (DefaultPageSize > MaxPageSize)
        {
            // Every list asked for without page_size would be cut to the maximum and say so.
            yield return new System.ComponentModel.DataAnnotations.ValidationResult(
                $"Paging:DefaultPageSize ({DefaultPageSize}) must not be larger than Paging:MaxPageSize ({MaxPageSize}).", [nameof(DefaultPageSize)]);
        }
    }
}

/// <summary>How many items a list has: exact, or an estimate when there are more than Paging:ExactCountLimit.</summary>
public readonly record struct PageCount(long Value, bool Exact)
{
    public static implicit operator PageCount(long exact) => new(exact, true);
}

/// <summary>
/// page/page_size as sent by the client, as text: a value that is not a whole number is a field error naming it (bound as
/// numbers, it was a bare 400 naming the C# parameter). <see cref="Pager.Resolve"/> parses them and applies defaults and the
/// cap; the OpenAPI document gives them as integers (ParameterTypes).
/// </summary>
public readonly record struct PageRequest(
    [FromQuery(Name = "page")][property: Description("1-based page number.")] string? Page,
    [FromQuery(Name = "page_size")][property: Description("Items per page; larger values are clamped to the configured maximum.")] string? PageSize);

public readonly record struct ResolvedPage(int Page, int PageSize, bool Clamped)
{
    public int Skip => (Page - 1) * PageSize;
}

/// <summary>The list envelope: {count, next, previous, results} plus the page size actually used.</summary>
public sealed record Paged<T>(
    [property: Description("Number of matching items; an estimate when count_exact is false.")]
    long Count,
    [property: Description("False when count is the database's estimate (more than Paging:ExactCountLimit matches).")]
    bool CountExact,
    string? Next,
    string? Previous,
    int Page,
    int PageSize,
    IReadOnlyList<T> Results,
    [property: Description("Present when the requested page_size was larger than the maximum and was reduced.")]
    string? Notice = null);

public static class Pager
{
    public static ResolvedPage Resolve(PageRequest request, PagingOptions options, Problems.ValidationErrors errors)
    {
        var page = Whole(request.Page, "page", errors) ?? 1;
        var size = Whole(request.PageSize, "page_size", errors) ?? options.DefaultPageSize;
        errors.When(page < 1, "page", "page must be 1 or more.");
        errors.When(size < 1, "page_size", "page_size must be 1 or more.");
        var clamped = size > options.MaxPageSize;
        var resolved = new ResolvedPage(Math.Max(page, 1), Math.Clamp(size, 1, options.MaxPageSize), clamped);
        // The rows before the page are counted in an int, as the database's OFFSET takes them.
        if ((long)(resolved.Page - 1) * resolved.PageSize > int.MaxValue)
        {
            errors.Add("page", string.Create(
                CultureInfo.InvariantCulture, $"page must be at most {int.MaxValue / resolved.PageSize + 1} with page_size {resolved.PageSize}."));
        }

        return resolved;
    }

    private static int? Whole(string? text, string field, Problems.ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add(field, long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? $"{field} must be between 1 and {int.MaxValue.ToString(CultureInfo.InvariantCulture)}."
            : $"{field} must be a whole number such as 2.");
        return 1;
    }

    public static Paged<T> Create<T>(HttpRequest request, ResolvedPage page, PageCount count, IReadOnlyList<T> results, int maxPageSize)
    {
        // With an estimated count, a full page is the only honest sign that another may follow.
        var hasNext = count.Exact ? (long)page.Page * page.PageSize < count.Value : results.Count == page.PageSize;
        var hasPrevious = page.Page > 1;
        return new Paged<T>(
            count.Value,
            count.Exact,
            hasNext ? LinkTo(request, page.Page + 1, page.PageSize) : null,
            hasPrevious ? LinkTo(request, page.Page - 1, page.PageSize) : null,
            page.Page,
            page.PageSize,
            results,
            page.Clamped ? $"page_size was reduced to the maximum of {maxPageSize}." : null);
    }

    /// <summary>
    /// An envelope whose links are keyset cursors (lists that support them): <paramref name="next"/> and
    /// <paramref name="previous"/> are opaque cursor values, or null where there is no such page.
    /// </summary>
    public static Paged<T> CreateWithCursors<T>(
        HttpRequest request, ResolvedPage page, PageCount count, IReadOnlyList<T> results, string? next, string? previous, int maxPageSize) =>
        new(
            count.Value,
            count.Exact,
            next is null ? null : Link(request, page.PageSize, "cursor", next),
            previous is null ? null : Link(request, page.PageSize, "cursor", previous),
            page.Page,
            page.PageSize,
            results,
            page.Clamped ? $"page_size was reduced to the maximum of {maxPageSize}." : null);

    private static string LinkTo(HttpRequest request, int page, int pageSize) =>
        Link(request, pageSize, "page", page.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The request's own URL with its filters kept and the position replaced by <paramref name="key"/>=<paramref name="value"/>.</summary>
    private static string Link(HttpRequest request, int pageSize, string key, string value)
    {
        var query = request.Query
            .Where(pair => pair.Key is not ("page" or "page_size" or "cursor"))
            .SelectMany(pair => pair.Value.Select(v => new KeyValuePair<string, string?>(pair.Key, v)))
            .Append(new(key, value))
            .Append(new("page_size", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{Microsoft.AspNetCore.Http.QueryString.Create(query)}";
    }
}

public static class PagingRegistration
{
    public static IServiceCollection AddPaging(this IServiceCollection services)
    {
        services.AddSettings<PagingOptions>(PagingOptions.Section);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PagingOptions>>().Value);
        services.AddScoped<ListPager>();
        return services;
    }
}
