namespace Emporium.Features.Catalog.Categories;

public static class CategoryTree
{
    /// <summary>
    /// The ids of a category and all its live descendants, as a query that composes into others
    /// (e.g. products.Where(p => p.Categories.Any(c => ids.Contains(c.Id)))). UNION (not UNION ALL)
    /// makes the recursion stop even if a cycle ever slipped into the data.
    /// </summary>
    public static IQueryable<long> SubtreeIds(EmporiumDbContext db, long rootId) =>
        db.Database.SqlQuery<long>($"""
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM categories WHERE id = {rootId} AND deleted_at IS NULL
                UNION
                SELECT c.id FROM categories c JOIN subtree s ON c.parent_id = s.id WHERE c.deleted_at IS NULL)
            SELECT id AS "Value" FROM subtree
            """);
}
