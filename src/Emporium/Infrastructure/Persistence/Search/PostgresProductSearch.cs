using System.Runtime.CompilerServices;
using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;

namespace Emporium.Infrastructure.Persistence.Search;

/// <summary>
/// The generated products.search_vector column and its GIN index (migrations 0002 and 0019): the emporium_english and
/// emporium_simple configurations are PostgreSQL's english and simple with accents folded first, in the index and here.
/// </summary>
internal sealed class PostgresProductSearch(EmporiumDbContext db) : IProductSearch
{
    public IQueryable<Product> Matching(string terms, bool few = true, bool includeDeleted = false)
    {
        var tokens = SearchTerms.Tokens(terms);
        if (tokens.Count == 0)
        {
            return db.Set<Product>().FromSql($"SELECT * FROM products WHERE false");
        }

        // Every token typed must match (&&). A token matches when all its words match as prefixes, each
        // either as an English stem (name, description) or as typed (the SKU is indexed with 'simple', and
        // a stem such as "happi" is not always a prefix of the word); or when the token as a whole matches
        // as a 'simple' phrase, which is how an SKU such as ACME-123 is indexed ('acme' <-> '-123').
        // Every value is a parameter and the words hold only letters and digits, so no input can break the
        // tsquery syntax; phraseto_tsquery accepts any text. A token made only of English stop words ("the", "with") is
        // left out, as the English index leaves those words out of names and descriptions: its query is the empty one,
        // which && ignores (otherwise its 'simple' forms would demand a word that no name is indexed with). When every
        // word typed is a stop word ("to", "can", "be": the first letters of "Toaster", "Candle", "Bed" as a shopper
        // types them), the words are prefixes as typed instead: an empty query would match nothing.
        var arguments = new List<object>();
        var everyWord = $"to_tsquery('emporium_english', {Parameter(arguments, string.Join(" & ", tokens.SelectMany(t => t.Words).Select(w => w + ":*")))})";
        var sql = new StringBuilder("SELECT * FROM products WHERE search_vector @@ (CASE WHEN numnode(").Append(everyWord).Append(") = 0 THEN ");
        for (var t = 0; t < tokens.Count; t++)
        {
            sql.Append(t > 0 ? " && " : "").Append("(to_tsquery('emporium_simple', ")
                .Append(Parameter(arguments, string.Join(" & ", tokens[t].Words.Select(w => w + ":*"))))
                .Append(") || phraseto_tsquery('emporium_simple', ").Append(Parameter(arguments, tokens[t].Raw)).Append("))");
        }

        sql.Append(" ELSE ");
        for (var t = 0; t < tokens.Count; t++)
        {
            var english = $"to_tsquery('emporium_english', {Parameter(arguments, string.Join(" & ", tokens[t].Words.Select(w => w + ":*")))})";
            sql.Append(t > 0 ? " && " : "").Append("(CASE WHEN numnode(").Append(english).Append(") = 0 THEN ").Append(english).Append(" ELSE ((");
            for (var w = 0; w < tokens[t].Words.Count; w++)
            {
                var word = Parameter(arguments, tokens[t].Words[w] + ":*");
                sql.Append(w > 0 ? " && " : "")
                    .Append("(to_tsquery('emporium_english', ").Append(word).Append(") || to_tsquery('emporium_simple', ").Append(word).Append("))");
            }

            sql.Append(") || phraseto_tsquery('emporium_simple', ").Append(Parameter(arguments, tokens[t].Raw)).Append(")) END)");
        }

        sql.Append(" END)");
        // The GIN index holds live products only (migration 0008); saying so here lets the planner use it even behind
        // the OFFSET 0 fence below.
        if (!includeDeleted)
        {
            sql.Append(" AND deleted_at IS NULL");
        }

        // OFFSET 0 keeps the planner from merging this into the outer query, so the matches are
        // gathered through the GIN index first (see IProductSearch.Matching).
        sql.Append(few ? " OFFSET 0" : "");
        return db.Set<Product>().FromSql(FormattableStringFactory.Create(sql.ToString(), [.. arguments]));
    }

    private static string Parameter(List<object> arguments, string value)
    {
        arguments.Add(value);
        return "{" + (arguments.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + "}";
    }
}
