namespace Emporium.Features.Catalog.Categories;

public static class CategoryTree
{
    /// <summary>
    /// Most levels of the tree, the top level being 1. GET /api/categories/tree nests two JSON levels per category: 30 keep
    /// it within the 64 that common JSON readers (System.Text.Json, Json.NET) accept by default, and a chain of about 2,000
    /// made the service's own answer fail.
    /// </summary>
    public const int MaxDepth = 30;

    /// <summary>The level of a category: 1 at the top (counted up through its ancestors, at most to one past <see cref="MaxDepth"/>).</summary>
    public static Task<int> LevelAsync(EmporiumDbContext db, long id, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<int>($"""
            WITH RECURSIVE up(id, parent_id, level) AS (
                SELECT id, parent_id, 1 FROM categories WHERE id = {id}
                UNION ALL
                SELECT c.id, c.parent_id, u.level + 1 FROM categories c JOIN up u ON c.id = u.parent_id WHERE u.level <= {MaxDepth})
            SELECT max(level) AS "Value" FROM up
            """).SingleAsync(cancellationToken);

    /// <summary>How many levels of live descendants a category has below it: 0 for a leaf.</summary>
    public static Task<int> HeightAsync(EmporiumDbContext db, long id, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<int>($"""
            WITH RECURSIVE down(id, height) AS (
                SELECT id, 0 FROM categories WHERE id = {id}
                UNION ALL
                SELECT c.id, d.height + 1 FROM categories c JOIN down d ON c.parent_id = d.id WHERE c.deleted_at IS NULL AND d.height <= {MaxDepth})
            SELECT max(height) AS "Value" FROM down
            """).SingleAsync(cancellationToken);

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
