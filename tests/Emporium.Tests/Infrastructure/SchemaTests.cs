using System.Data.Common;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Emporium.Tests.Infrastructure;

/// <summary>The hand-written migrations build exactly the schema the EF model expects, on both databases.</summary>
public abstract class SchemaTests : IAsyncLifetime
{
    private readonly List<Func<Task>> _cleanup = [];

    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task Fresh_database_migrates_and_matches_the_EF_model()
    {
        await using var migrated = await NewContextAsync();
        var applied = await Migrator(migrated).MigrateAsync(CancellationToken.None);
        applied.Should().Equal(SchemaMigrator.Scripts(Provider).Select(script => script.Version));

        await using var fromModel = await NewContextAsync();
        await fromModel.Database.ExecuteSqlRawAsync(fromModel.Database.GenerateCreateScript());

        var expected = await DescribeAsync(fromModel);
        var actual = await DescribeAsync(migrated);
        expected.Except(actual).Should().BeEmpty("the migrations must create everything the model maps");
        actual.Except(expected).Where(row => !IsSearchObject(row)).Should()
            .BeEmpty("the migrations must not create anything the model does not know, apart from search indexes");
    }

    [Fact]
    public async Task Migrating_again_applies_nothing()
    {
        await using var db = await NewContextAsync();
        await Migrator(db).MigrateAsync(CancellationToken.None);
        (await Migrator(db).MigrateAsync(CancellationToken.None)).Should().BeEmpty();
    }

    [Fact]
    public async Task Processes_starting_together_apply_each_migration_once()
    {
        var connectionString = await NewDatabaseAsync();
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var db = Context(connectionString);
            return await Migrator(db).MigrateAsync(CancellationToken.None);
        }));

        runs.SelectMany(applied => applied).Should().OnlyHaveUniqueItems()
            .And.HaveCount(SchemaMigrator.Scripts(Provider).Count);
    }

    [Fact]
    public async Task Prices_stored_before_exact_money_migrate_to_the_same_exact_amounts()
    {
        await using var db = await NewContextAsync();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        // The schema as it was before 0009, with prices written as that version wrote them (REAL on SQLite).
        await MigrateBeforeAsync(connection, "0009");

        decimal[] prices = [19.99m, 0.1m, 0.3m, 1234567.8901m, 0m, 99_999_999.99m];
        for (var i = 0; i < prices.Length; i++)
        {
            var price = Provider == DatabaseProvider.Sqlite
                ? ((double)prices[i]).ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : prices[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ExecuteAsync(connection,
                "INSERT INTO products (sku, sku_key, slug, name, price, currency, is_active, created_at, updated_at, version) " +
                $"VALUES ('M{i}', 'M{i}', 'm-{i}', 'Money {i}', {price}, 'USD', {(Provider == DatabaseProvider.Sqlite ? "1" : "true")}, " +
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);");
        }

        await db.Database.CloseConnectionAsync();
        (await Migrator(db).MigrateAsync(CancellationToken.None)).Should().Contain("0009_exact_money");

        var stored = await db.Set<Emporium.Features.Catalog.Product>().OrderBy(p => p.Sku).Select(p => p.Price).ToListAsync();
        stored.Should().Equal(prices);
        // Ten times 0.1 in SQL is exactly 1 once amounts are exact (it was 0.9999999999999999 with REAL).
        var tenths = await db.Set<Emporium.Features.Catalog.Product>().CountAsync(p => p.Price == 0.1m);
        tenths.Should().Be(1);
        if (Provider == DatabaseProvider.Sqlite)
        {
            await db.Database.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT typeof(price) FROM products";
            (await command.ExecuteScalarAsync()).Should().Be("integer");
            command.CommandText = "SELECT sum(price) FROM (SELECT price FROM products WHERE sku = 'M1' UNION ALL SELECT price FROM products WHERE sku = 'M1' UNION ALL SELECT price FROM products WHERE sku = 'M1')";
            (await command.ExecuteScalarAsync()).Should().Be(3000L, "0.1 three times is 0.3 exactly, in ten-thousandths");
            await db.Database.CloseConnectionAsync();
        }
    }

    [Fact]
    public async Task Names_and_descriptions_stored_before_the_one_text_rule_are_brought_to_it_as_a_new_version()
    {
        await using var db = await NewContextAsync();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await MigrateBeforeAsync(connection, "0011");
        var yes = Provider == DatabaseProvider.Sqlite ? "1" : "true";
        foreach (var (sku, name, description) in new[] { ("T1", "  Padded\t", "''"), ("T2", "Clean", "'Kept  '"), ("T3", "Tail\r\n", "NULL") })
        {
            var literal = Provider == DatabaseProvider.Sqlite
                ? "'" + name.Replace("\t", "' || char(9) || '").Replace("\r", "' || char(13) || '").Replace("\n", "' || char(10) || '") + "'"
                : "E'" + name.Replace("\t", "\\t").Replace("\r", "\\r").Replace("\n", "\\n") + "'";
            await ExecuteAsync(connection,
                "INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version) " +
                $"VALUES ('{sku}', '{sku}', '{sku.ToLowerInvariant()}', {literal}, {description}, 1, 'USD', {yes}, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);");
        }

        await db.Database.CloseConnectionAsync();
        await Migrator(db).MigrateAsync(CancellationToken.None);

        var rows = await db.Set<Emporium.Features.Catalog.Product>().OrderBy(p => p.Sku)
            .Select(p => new { p.Name, p.Description, p.Version }).ToListAsync();
        rows.Select(r => (r.Name, r.Description, r.Version)).Should().Equal(("Padded", null, 2), ("Clean", "Kept  ", 1), ("Tail", null, 2));
    }

    [Fact]
    public async Task Products_stored_before_variants_get_a_default_variant_and_the_database_keeps_it_in_step()
    {
        await using var db = await NewContextAsync();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await MigrateBeforeAsync(connection, "0013");
        var yes = Provider == DatabaseProvider.Sqlite ? "1" : "true";
        foreach (var (sku, deleted) in new[] { ("Old-1", "NULL"), ("Old-2", "'2026-02-01 00:00:00'") })
        {
            await ExecuteAsync(connection,
                "INSERT INTO products (sku, sku_key, slug, name, price, currency, is_active, created_at, updated_at, deleted_at, version) " +
                $"VALUES ('{sku}', '{sku.ToUpperInvariant()}', '{sku.ToLowerInvariant()}', 'Old', 1, 'USD', {yes}, '2026-01-01 00:00:00', '2026-01-01 00:00:00', {deleted}, 1);");
        }

        await db.Database.CloseConnectionAsync();
        await Migrator(db).MigrateAsync(CancellationToken.None);

        // Written as any other writer would (the import writes raw SQL too): the triggers, not the API, keep the invariant.
        await db.Database.OpenConnectionAsync();
        await ExecuteAsync(connection,
            "INSERT INTO products (sku, sku_key, slug, name, price, currency, is_active, created_at, updated_at, version) " +
            $"VALUES ('New-3', 'NEW-3', 'new-3', 'New', 1, 'USD', {yes}, '2026-03-01 00:00:00', '2026-03-01 00:00:00', 1)");
        await ExecuteAsync(connection, "UPDATE products SET sku = 'OLD-1a', sku_key = 'OLD-1A' WHERE sku_key = 'OLD-1'");
        await db.Database.CloseConnectionAsync();

        var variants = await db.Set<Emporium.Features.Catalog.Variants.Variant>().OrderBy(v => v.ProductId)
            .Select(v => new { v.Product!.SkuKey, v.Sku, v.IsDefault, v.OnHand, v.Price, v.Signature, v.DeletedAt }).ToListAsync();
        variants.Select(v => (v.SkuKey, v.Sku, v.IsDefault, v.OnHand, v.Price, v.Signature, v.DeletedAt)).Should().Equal(
            ("OLD-1A", "OLD-1a", true, 0, (decimal?)null, "", (DateTime?)null),
            ("OLD-2", "Old-2", true, 0, null, "", null),
            ("NEW-3", "New-3", true, 0, null, "", null));
    }

    [Fact]
    public async Task Images_left_linked_to_deleted_variants_or_with_gaps_in_their_positions_are_repaired()
    {
        await using var db = await NewContextAsync();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await MigrateBeforeAsync(connection, "0018");
        var yes = Provider == DatabaseProvider.Sqlite ? "1" : "true";
        // 0011 wrote times as SQLite's strftime('%f') does; the service writes them without trailing zeros.
        var written = Provider == DatabaseProvider.Sqlite ? "'2026-01-01 10:00:00.120'" : "'2026-01-01 10:00:00.12'";
        await ExecuteAsync(connection,
            "INSERT INTO products (sku, sku_key, slug, name, price, currency, is_active, created_at, updated_at, version) " +
            $"VALUES ('Pic', 'PIC', 'pic', 'Pictured', 1, 'USD', {yes}, '2026-01-01 00:00:00', {written}, 1);");
        await ExecuteAsync(connection,
            "INSERT INTO variants (product_id, sku, sku_key, price, on_hand, is_default, signature, created_at, updated_at, deleted_at, version) " +
            $"SELECT id, 'Pic-Red', 'PIC-RED', NULL, 0, {(Provider == DatabaseProvider.Sqlite ? "0" : "false")}, 'red', '2026-01-01 00:00:00', " +
            "'2026-01-01 00:00:00', '2026-02-01 00:00:00', 1 FROM products WHERE sku_key = 'PIC';");
        foreach (var (position, deletedVariant) in new[] { (0, false), (2, true), (5, false) })
        {
            var variant = deletedVariant ? "(SELECT id FROM variants WHERE sku_key = 'PIC-RED')" : "NULL";
            await ExecuteAsync(connection,
                "INSERT INTO product_images (product_id, variant_id, position, status, storage_prefix, created_at, updated_at, version) " +
                $"SELECT id, {variant}, {position}, 'ready', 'images/1/p{position}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1 FROM products WHERE sku_key = 'PIC';");
        }

        await db.Database.CloseConnectionAsync();
        (await Migrator(db).MigrateAsync(CancellationToken.None)).Should().Contain("0018_image_links_and_positions");

        var images = await db.Set<Emporium.Features.Catalog.Images.ProductImage>().OrderBy(i => i.Position)
            .Select(i => new { i.StoragePrefix, i.Position, i.VariantId, i.Version }).ToListAsync();
        images.Select(i => (i.StoragePrefix, i.Position, i.VariantId, i.Version)).Should().Equal(
            ("images/1/p0", 0, (long?)null, 1),
            ("images/1/p2", 1, null, 3),
            ("images/1/p5", 2, null, 2));
        var product = await db.Set<Emporium.Features.Catalog.Product>().SingleAsync(p => p.SkuKey == "PIC");
        product.UpdatedAt.Should().Be(new DateTime(2026, 1, 1, 10, 0, 0, 120, DateTimeKind.Utc));
        (await db.Set<Emporium.Features.Catalog.Product>().CountAsync(p => p.UpdatedAt >= product.UpdatedAt))
            .Should().Be(1, "a cursor's bound written by the service compares equal to the stored time");
        (await db.Set<Emporium.Features.Catalog.Product>().CountAsync(p => p.UpdatedAt > product.UpdatedAt)).Should().Be(0);
    }

    /// <summary>Applies the migrations before <paramref name="version"/> and records them, as a database of that time was left.</summary>
    private async Task MigrateBeforeAsync(DbConnection connection, string version)
    {
        await ExecuteAsync(connection, "CREATE TABLE schema_migrations (version VARCHAR(200) NOT NULL PRIMARY KEY, applied_at VARCHAR(40) NOT NULL);");
        foreach (var (applied, sql) in SchemaMigrator.Scripts(Provider).TakeWhile(script => string.CompareOrdinal(script.Version, version) < 0))
        {
            await ExecuteAsync(connection, sql);
            await ExecuteAsync(connection, $"INSERT INTO schema_migrations (version, applied_at) VALUES ('{applied}', 'then');");
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var cleanup in _cleanup)
        {
            await cleanup();
        }
    }

    private SchemaMigrator Migrator(EmporiumDbContext db) => new(
        db,
        Options.Create(new DatabaseOptions { Provider = Provider }),
        NullLogger<SchemaMigrator>.Instance);

    private async Task<EmporiumDbContext> NewContextAsync() => Context(await NewDatabaseAsync());

    private async Task<string> NewDatabaseAsync()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            var directory = Directory.CreateTempSubdirectory("emporium-schema-");
            _cleanup.Add(() =>
            {
                SqliteConnection.ClearAllPools();
                directory.Delete(recursive: true);
                return Task.CompletedTask;
            });
            return $"Data Source={Path.Combine(directory.FullName, "schema.db")};Default Timeout=60";
        }

        var name = PostgresServer.NewDatabaseName();
        await PostgresServer.CreateDatabaseAsync(name);
        _cleanup.Add(() => PostgresServer.DropDatabaseAsync(name));
        return PostgresServer.ConnectionStringFor(name);
    }

    private EmporiumDbContext Context(string connectionString)
    {
        var options = new DbContextOptionsBuilder<EmporiumDbContext>();
        _ = Provider == DatabaseProvider.Sqlite ? options.UseEmporiumSqlite(connectionString) : options.UseNpgsql(connectionString);
        return new EmporiumDbContext(options.Options);
    }

    private static bool IsSearchObject(string row) =>
        row.Contains("products_fts", StringComparison.Ordinal) ||
        row.Contains("search_vector", StringComparison.Ordinal) ||
        row.Contains("_trgm", StringComparison.Ordinal) ||
        row.Contains("schema_migrations", StringComparison.Ordinal);

    /// <summary>Columns, indexes and constraints as comparable text rows.</summary>
    private async Task<HashSet<string>> DescribeAsync(EmporiumDbContext db)
    {
        var queries = Provider == DatabaseProvider.Sqlite
            ? new[]
            {
                """
                SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p."notnull" || ' pk=' || p.pk
                FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'
                """,
                """
                SELECT 'index ' || m.name || '.' || il.name || ' unique=' || il."unique" || ' (' ||
                       (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) || ')'
                FROM sqlite_master m JOIN pragma_index_list(m.name) il WHERE m.type = 'table'
                """,
                """
                SELECT 'fk ' || m.name || '.' || f."from" || ' -> ' || f."table" || '.' || f."to" || ' ' || f.on_delete
                FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'
                """,
            }
            : new[]
            {
                """
                SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
                       coalesce(character_maximum_length::text, '') || ' ' || coalesce(numeric_precision::text, '') || ',' ||
                       coalesce(numeric_scale::text, '') || ' nullable=' || is_nullable || ' generated=' || is_generated
                FROM information_schema.columns WHERE table_schema = 'public'
                """,
                "SELECT 'index ' || tablename || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
                """
                SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                """,
            };

        var rows = new HashSet<string>(StringComparer.Ordinal);
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        foreach (var sql in queries)
        {
            await using DbCommand command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }

        await db.Database.CloseConnectionAsync();
        return rows;
    }
}

public sealed class SchemaTestsOnSqlite : SchemaTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class SchemaTestsOnPostgres : SchemaTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
