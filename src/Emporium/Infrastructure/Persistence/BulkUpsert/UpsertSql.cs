using Emporium.Features.Import;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>The DO UPDATE part both providers share: only the columns the file has, and only when one differs.</summary>
internal static class UpsertSql
{
    public static IReadOnlyList<string> UpdatedColumns(ImportColumns columns)
    {
        var names = new List<string> { "sku", "name" };
        if (columns.Description)
        {
            names.Add("description");
        }

        if (columns.Price)
        {
            names.Add("price");
        }

        if (columns.Currency)
        {
            names.Add("currency");
        }

        if (columns.Active)
        {
            names.Add("is_active");
        }

        if (columns.Brand)
        {
            names.Add("brand_id");
        }

        return names;
    }

    /// <summary>
    /// SET ... WHERE ...: a matching soft-deleted product is restored; a row equal in every supplied column is left
    /// alone (no new version, no updated_at), so it returns nothing and counts as unchanged.
    /// </summary>
    /// <param name="owner">The parameter holding the seller's id when the scope reaches only its own products, else null.</param>
    public static string DoUpdate(ImportColumns columns, string distinct, string? owner)
    {
        var updated = UpdatedColumns(columns);
        var set = string.Join(", ", updated.Select(c => $"{c} = excluded.{c}"));
        var changed = string.Join(" OR ", updated.Select(c => $"products.{c} {distinct} excluded.{c}"));
        var reachable = owner is null ? "" : $" AND products.owner_id = {owner}";
        return $"""
            ON CONFLICT (sku_key) DO UPDATE SET {set}, deleted_at = NULL, updated_at = excluded.updated_at, version = products.version + 1
            WHERE (products.deleted_at IS NOT NULL OR {changed}){reachable}
            """;
    }
}
