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

    public static IReadOnlyList<string> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var terms = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                terms.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            terms.Add(current.ToString());
        }

        return terms.Distinct(StringComparer.Ordinal).Take(MaxTerms).ToList();
    }
}
