using Emporium.Features.Catalog.Products;
using Npgsql;

namespace Emporium.Infrastructure.Persistence.Reads;

/// <summary>
/// PostgreSQL: a product's whole representation in one statement and one round trip (decision 0018). The server builds
/// one JSON document (the row with brand and live categories, the live variants with their attribute values, the images in
/// order) in the shapes of <see cref="ProductDetailData"/>, and it is read back as such; the portable read needs three
/// round trips, and on a busy API process the round trips, not the queries, were most of a product read's cost.
/// </summary>
internal sealed class PostgresProductReads(NpgsqlDataSource dataSource, int commandTimeoutSeconds) : IProductReads
{
    private const string Utc = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

    private static string Timestamp(string column) => $"to_char({column} AT TIME ZONE 'UTC', {Utc})";

    private static readonly string Detail = $"""
        SELECT json_build_object(
            'row', json_build_object(
                'id', p.id, 'sku', p.sku, 'slug', p.slug, 'name', p.name, 'description', p.description, 'price', p.price,
                'currency', p.currency, 'is_active', p.is_active,
                'brand', CASE WHEN b.id IS NULL THEN NULL ELSE json_build_object('id', b.id, 'slug', b.slug, 'name', b.name, 'version', b.version) END,
                'categories', COALESCE((
                    SELECT json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name, 'version', c.version) ORDER BY c.name, c.id)
                    FROM product_categories pc JOIN categories c ON c.id = pc.category_id
                    WHERE pc.product_id = p.id AND c.deleted_at IS NULL), '[]'::json),
                'owner_id', p.owner_id, 'created_at', {Timestamp("p.created_at")}, 'updated_at', {Timestamp("p.updated_at")},
                'deleted_at', {Timestamp("p.deleted_at")}, 'version', p.version),
            'variants', COALESCE((
                SELECT json_agg(json_build_object(
                    'id', v.id, 'product_id', v.product_id, 'product_name', p.name, 'sku', v.sku, 'price_override', v.price,
                    'product_price', p.price, 'currency', p.currency, 'on_hand', v.on_hand, 'is_default', v.is_default,
                    'product_sellable', p.is_active AND p.deleted_at IS NULL, 'product_version', p.version,
                    'values', COALESCE((
                        SELECT json_agg(json_build_object('attribute_id', a.id, 'attribute_slug', a.slug, 'attribute_version', a.version, 'value_slug', av.slug))
                        FROM variant_values vv JOIN attributes a ON a.id = vv.attribute_id JOIN attribute_values av ON av.id = vv.value_id
                        WHERE vv.variant_id = v.id), '[]'::json),
                    'created_at', {Timestamp("v.created_at")}, 'updated_at', {Timestamp("v.updated_at")}, 'deleted_at', {Timestamp("v.deleted_at")},
                    'version', v.version) ORDER BY v.is_default DESC, v.id)
                FROM variants v WHERE v.product_id = p.id AND v.deleted_at IS NULL), '[]'::json),
            'images', COALESCE((
                SELECT json_agg(json_build_object(
                    'id', i.id, 'product_id', i.product_id, 'variant_id', i.variant_id, 'position', i.position, 'alt_text', i.alt_text,
                    'status', i.status, 'failure_reason', i.failure_reason, 'source_url', i.source_url, 'storage_prefix', i.storage_prefix,
                    'original_key', i.original_key, 'original_content_type', i.original_content_type, 'original_bytes', i.original_bytes,
                    'width', i.width, 'height', i.height, 'renditions', i.renditions, 'created_at', {Timestamp("i.created_at")},
                    'updated_at', {Timestamp("i.updated_at")}, 'processed_at', {Timestamp("i.processed_at")}, 'version', i.version)
                    ORDER BY i.position, i.id)
                FROM product_images i WHERE i.product_id = p.id), '[]'::json)
        )::text AS "Value"
        FROM products p LEFT JOIN brands b ON b.id = p.brand_id
        """;

    private static readonly string ById = Detail + " WHERE p.id = @id";

    private static readonly string BySlug = Detail + " WHERE p.slug = @slug";

    // The same with a positional parameter, for Npgsql's own commands: Npgsql sends such a statement as it is, where a
    // named one is parsed on every execution to be rewritten (its parser was the service's costliest method on this path).
    private static readonly string ByIdPositional = Detail + " WHERE p.id = $1";

    private static readonly string BySlugPositional = Detail + " WHERE p.slug = $1";

    /// <summary>
    /// Straight through Npgsql, without a DbContext: on a busy API process, making a DbContext and running a raw query
    /// through EF Core cost as much as the round trip (decision 0019). The statement is the same, and auto-prepared.
    /// </summary>
    public async Task<ProductDetailData?> FindCommittedAsync(IServiceProvider services, long? id, string? slug, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(id is null ? BySlugPositional : ByIdPositional);
        command.CommandTimeout = commandTimeoutSeconds;
        if (id is { } value)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = value });
        }
        else
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = slug ?? "" });
        }

        // Read as the UTF-8 the server sent, not decoded into a string only to be encoded again for the parser.
        await using var reader = await command.ExecuteReaderAsync(
            System.Data.CommandBehavior.SingleRow | System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? JsonSerializer.Deserialize<ProductDetailData>(reader.GetFieldValue<byte[]>(0), ProductDetailData.Json)
            : null;
    }

    public async Task<ProductDetailData?> FindAsync(EmporiumDbContext db, long? id, string? slug, CancellationToken cancellationToken)
    {
        var query = id is { } key
            ? db.Database.SqlQueryRaw<string>(ById, new NpgsqlParameter<long>("id", key))
            : db.Database.SqlQueryRaw<string>(BySlug, new NpgsqlParameter<string>("slug", slug ?? ""));
        // Not composed (no LIMIT around it): the statement's text stays the same, so the connection's prepared plan is reused.
        await foreach (var json in query.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            return JsonSerializer.Deserialize<ProductDetailData>(json, ProductDetailData.Json);
        }

        return null;
    }
}
