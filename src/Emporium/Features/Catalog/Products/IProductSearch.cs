namespace Emporium.Features.Catalog.Products;

/// <summary>
/// Full-text search over SKU, name and description through the database's own index. Each provider
/// implements it in Infrastructure/Persistence/Search, so the feature never names a database.
/// </summary>
public interface IProductSearch
{
    /// <summary>
    /// Ids of products matching every term (each term prefix-matched: "blu shi" finds "Blue Shirt"),
    /// as a query that composes into a products query (ids.Contains(p.Id)) so filters, count and paging
    /// stay in one statement. Callers pass only terms for which <see cref="SearchTerms.Parse"/> found words.
    /// </summary>
    IQueryable<long> MatchingIds(string terms);
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
