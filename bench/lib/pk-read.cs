#:sdk Microsoft.NET.Sdk.Web
#:package Npgsql
#:property PublishAot=false
// The database floor for bench/read-path.sh: a minimal ASP.NET Core program answering GET /products/{id} with one
// raw Npgsql primary-key read of everything the service's product read shows (the product with its brand, categories,
// variants and images), the JSON built by PostgreSQL and passed through untouched: one round trip, auto-prepared, nothing
// of the service's framework (no EF Core, no auth, no middleware, no serializer).
//   dotnet run --file bench/lib/pk-read.cs -c Release -- CONNECTION_STRING URL
using Npgsql;

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls(args[1]);
var app = builder.Build();
var source = new NpgsqlDataSourceBuilder(args[0] + ";Max Auto Prepare=20;No Reset On Close=true").Build();
// The same data the service's product read shows, built by the server as one JSON document and passed through untouched.
const string Utc = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";
var sql = $$"""
    SELECT json_build_object(
        'id', p.id, 'sku', p.sku, 'slug', p.slug, 'name', p.name, 'description', p.description, 'price', p.price, 'currency', p.currency,
        'is_active', p.is_active,
        'brand', CASE WHEN b.id IS NULL THEN NULL ELSE json_build_object('id', b.id, 'slug', b.slug, 'name', b.name) END,
        'categories', COALESCE((SELECT json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name) ORDER BY c.name, c.id)
            FROM product_categories pc JOIN categories c ON c.id = pc.category_id WHERE pc.product_id = p.id AND c.deleted_at IS NULL), '[]'::json),
        'owner_id', p.owner_id, 'created_at', to_char(p.created_at AT TIME ZONE 'UTC', {{Utc}}), 'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', {{Utc}}),
        'deleted_at', to_char(p.deleted_at AT TIME ZONE 'UTC', {{Utc}}),
        'variants', COALESCE((SELECT json_agg(json_build_object('id', v.id, 'product_id', v.product_id, 'sku', v.sku,
                'price', COALESCE(v.price, p.price), 'price_override', v.price, 'currency', p.currency,
                'attributes', COALESCE((SELECT json_object_agg(a.slug, av.slug) FROM variant_values vv JOIN attributes a ON a.id = vv.attribute_id
                    JOIN attribute_values av ON av.id = vv.value_id WHERE vv.variant_id = v.id), '{}'::json),
                'on_hand', v.on_hand, 'available', v.on_hand > 0 AND p.is_active AND p.deleted_at IS NULL, 'is_default', v.is_default,
                'created_at', to_char(v.created_at AT TIME ZONE 'UTC', {{Utc}}), 'updated_at', to_char(v.updated_at AT TIME ZONE 'UTC', {{Utc}}),
                'deleted_at', to_char(v.deleted_at AT TIME ZONE 'UTC', {{Utc}})) ORDER BY v.is_default DESC, v.id)
            FROM variants v WHERE v.product_id = p.id AND v.deleted_at IS NULL), '[]'::json),
        'images', COALESCE((SELECT json_agg(json_build_object('id', i.id, 'position', i.position, 'alt_text', i.alt_text, 'status', lower(i.status),
                'renditions', i.renditions) ORDER BY i.position, i.id)
            FROM product_images i WHERE i.product_id = p.id), '[]'::json)
    )::text
    FROM products p LEFT JOIN brands b ON b.id = p.brand_id WHERE p.id = $1 AND p.is_active AND p.deleted_at IS NULL
    """;
app.MapGet("/products/{id:long}", async (long id, HttpContext http, CancellationToken cancellationToken) =>
{
    await using var command = source.CreateCommand(sql);
    command.Parameters.AddWithValue(id);
    if (await command.ExecuteScalarAsync(cancellationToken) is not string json)
    {
        return Results.NotFound();
    }

    return Results.Text(json, "application/json");
});
app.Run();
