using System.Runtime.CompilerServices;
using Emporium.Features.Catalog.Products;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Infrastructure.Persistence.Search;

/// <summary>The generated products.search_vector column and its GIN index (migration 0002).</summary>
internal sealed class PostgresProductSearch(EmporiumDbContext db) : IProductSearch
{
    public IQueryable<long> MatchingIds(string terms)
    {
        var words = SearchTerms.Parse(terms);
        if (words.Count == 0)
        {
            return db.Database.SqlQuery<long>($"""SELECT id AS "Value" FROM products WHERE false""");
        }

        // Each word matches either as an English stem prefix (name, description) or as a plain prefix
        // (the SKU is indexed with the 'simple' configuration, and an English stem such as "happi" is not
        // always a prefix of the word as typed). Stop words yield an empty English query, which && ignores.
        var sql = new System.Text.StringBuilder("""SELECT id AS "Value" FROM products WHERE search_vector @@ (""");
        var arguments = new object[words.Count];
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0)
            {
                sql.Append(" && ");
            }

            sql.Append("(to_tsquery('english', {").Append(i).Append("}) || to_tsquery('simple', {").Append(i).Append("}))");
            arguments[i] = words[i] + ":*";
        }

        sql.Append(')');
        return db.Database.SqlQuery<long>(FormattableStringFactory.Create(sql.ToString(), arguments));
    }
}
