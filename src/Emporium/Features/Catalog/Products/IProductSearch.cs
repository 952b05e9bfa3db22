namespace Emporium.Features.Catalog.Products;

/// <summary>
/// Full-text search over SKU, name and description through the database's own index. Each provider
/// implements it in Infrastructure/Persistence/Search, so the feature never names a database.
/// </summary>
public interface IProductSearch
{
    /// <summary>
    /// Products matching every term (each term prefix-matched: "blu shi" finds "Blue Shirt"), as a query
    /// over the products table that the caller composes with its filters, count and paging, so the
    /// search stays one statement. (It returns products rather than ids: with "p.id IN (ids)" PostgreSQL
    /// misjudges how many rows a prefix search yields and joins against a scan of the whole table, 85-650 ms
    /// at 500,000 products; filtering the search's own scan answers in under a millisecond.)
    /// </summary>
    /// <param name="terms">What the user typed.</param>
    /// <param name="few">
    /// The caller knows (from its count) that few products match. PostgreSQL then gathers the matches
    /// first and sorts them; otherwise, because it overestimates prefix matches, it may walk a whole sort
    /// index looking for rare rows (300 ms at 500,000 products), while for common words walking the index
    /// is what finds a page fastest.
    /// </param>
    /// <param name="includeDeleted">
    /// False (the default) also excludes soft-deleted products inside the search itself, where PostgreSQL's GIN index,
    /// which holds live products only, can serve it; true for staff lists with include_deleted=true (no index then).
    /// </param>
    IQueryable<Product> Matching(string terms, bool few = true, bool includeDeleted = false);
}

/// <summary>Splits what a user typed into plain words: letters and digits only, so no search syntax survives.</summary>
public static class SearchTerms
{
    /// <summary>Enough for any real query; bounds the size of the generated search expression.</summary>
    public const int MaxTerms = 16;

    /// <summary>All words, lower-cased, in order, without repeats.</summary>
    public static IReadOnlyList<string> Parse(string? text) =>
        Tokens(text).SelectMany(token => token.Words).Distinct(StringComparer.Ordinal).Take(MaxTerms).ToList();

    /// <summary>
    /// The whitespace-separated tokens as typed (e.g. an SKU such as "ACME-123") with the words in each;
    /// tokens without any word (pure punctuation) are dropped.
    /// </summary>
    public static IReadOnlyList<SearchToken> Tokens(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var tokens = new List<SearchToken>();
        var total = 0;
        foreach (var raw in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var words = Words(raw).Take(MaxTerms - total).ToList();
            if (words.Count > 0)
            {
                tokens.Add(new SearchToken(raw, words));
                total += words.Count;
            }

            if (total >= MaxTerms)
            {
                break;
            }
        }

        return tokens;
    }

    private static IEnumerable<string> Words(string raw)
    {
        var current = new System.Text.StringBuilder();
        foreach (var c in raw)
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                yield return current.ToString();
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }
}

/// <summary>One whitespace-separated piece of a search as typed, and the plain words in it.</summary>
public sealed record SearchToken(string Raw, IReadOnlyList<string> Words);
