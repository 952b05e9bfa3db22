using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;

namespace Emporium.Infrastructure.Persistence.Search;

/// <summary>FTS5 over products_fts (migration 0002).</summary>
internal sealed class SqliteProductSearch(EmporiumDbContext db) : IProductSearch
{
    public IQueryable<Product> Matching(string terms, bool few = true, bool includeDeleted = false)
    {
        var words = SearchTerms.Parse(terms);
        if (words.Count == 0)
        {
            return db.Set<Product>().FromSql($"SELECT * FROM products WHERE 0");
        }

        var match = ToMatchExpression(words);
        return db.Set<Product>().FromSql(
            $"SELECT * FROM products WHERE id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {match})");
    }

    /// <summary>
    /// Every word becomes a quoted prefix token ("blu"* "shi"*), implicitly ANDed. Words hold only
    /// letters and digits, so FTS5 operators, columns filters or quotes typed by a user never reach the parser.
    /// </summary>
    internal static string ToMatchExpression(IReadOnlyList<string> words) =>
        string.Join(' ', words.Select(word => $"\"{word}\"*"));
}
