using Emporium.Features.Catalog.Products;
using Emporium.Infrastructure.Persistence.BulkUpsert;
using Emporium.Infrastructure.Persistence.Search;
using Emporium.Platform.Persistence;
using Emporium.Platform.Health;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Emporium.Infrastructure.Persistence;

public static class PersistenceExtensions
{
    public static IServiceCollection AddPersistence(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<DatabaseOptions>(DatabaseOptions.Section)
            .PostConfigure<IOptions<EmporiumOptions>>((database, emporium) =>
            {
                var url = configuration["DATABASE_URL"];
                if (string.IsNullOrWhiteSpace(database.ConnectionString) && !string.IsNullOrWhiteSpace(url))
                {
                    database.ConnectionString = DatabaseOptions.FromDatabaseUrl(url);
                    if (configuration[$"{DatabaseOptions.Section}:Provider"] is null)
                    {
                        database.Provider = DatabaseProvider.Postgres;
                    }
                }

                if (database.Provider == DatabaseProvider.Sqlite && string.IsNullOrWhiteSpace(database.ConnectionString))
                {
                    Directory.CreateDirectory(emporium.Value.DataDirectory);
                    database.ConnectionString = $"Data Source={Path.Combine(emporium.Value.DataDirectory, "emporium.db")}";
                }
            });

        // Options built once (decision 0018): a singleton, instead of building options, interceptors and warnings and having EF
        // look up its internal services for every request and job step. Contexts themselves stay per scope, not pooled: a
        // pooled context carries its connection's state to its next user, and once (under a full test run) one came back
        // with its connection still open.
        services.AddDbContext<EmporiumDbContext>((provider, options) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            switch (database.Provider)
            {
                case DatabaseProvider.Postgres:
                    options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>(), npgsql => npgsql.CommandTimeout(database.CommandTimeoutSeconds));
                    break;
                default:
                    options.UseEmporiumSqlite(database.ConnectionString, sqlite => sqlite.CommandTimeout(database.CommandTimeoutSeconds));
                    options.AddInterceptors(provider.GetRequiredService<SqliteConnectionSetup>());
                    break;
            }

            // Registered by other adapters, e.g. the jobs outbox's after-commit signal.
            options.AddInterceptors(provider.GetServices<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>());
            options.ConfigureWarnings(warnings => warnings
                // Lists count "up to the limit" with Take over an unordered query (ListPager), where order cannot matter;
                // every query that returns rows orders them, so the warning only ever spoke of the count.
                .Ignore(CoreEventId.RowLimitingOperationWithoutOrderByWarning)
                // A refused write that the caller handles (a unique key taken by a concurrent request: 409, or a retry with the
                // next slug) is not an error of the service; one that is not handled reaches the exception handler, which
                // logs it as the 500 it becomes.
                .Log((CoreEventId.SaveChangesFailed, LogLevel.Debug), (RelationalEventId.CommandError, LogLevel.Debug)));
        }, contextLifetime: ServiceLifetime.Scoped, optionsLifetime: ServiceLifetime.Singleton);

        services.AddSingleton(provider =>
            new SqliteConnectionSetup(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.SqliteWalCheckpointPages));
        services.AddScoped<IProductSearch>(provider =>
        {
            var db = provider.GetRequiredService<EmporiumDbContext>();
            return provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
                ? new PostgresProductSearch(db)
                : new SqliteProductSearch(db);
        });
        // One connection pool per process on PostgreSQL, shared by EF Core and the reads that go around it (PostgresProductReads).
        services.AddSingleton(provider => NpgsqlDataSource.Create(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.EffectiveConnectionString()));
        services.AddSingleton<IProductReads>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value is { Provider: DatabaseProvider.Postgres } database
                ? new Reads.PostgresProductReads(provider.GetRequiredService<NpgsqlDataSource>(), database.CommandTimeoutSeconds)
                : new EfProductReads());
        services.AddScoped<IWriteLocks>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
                ? new PostgresWriteLocks(provider.GetRequiredService<EmporiumDbContext>())
                : new SqliteWriteLocks(provider.GetRequiredService<EmporiumDbContext>()));
        services.AddScoped<Features.Import.ICommittedProductIds>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
                ? new PostgresCommittedProductIds(provider.GetRequiredService<EmporiumDbContext>())
                : new SqliteCommittedProductIds(provider.GetRequiredService<EmporiumDbContext>()));
        services.AddScoped<IRowEstimator>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
                ? new PostgresRowEstimator(provider.GetRequiredService<EmporiumDbContext>())
                : new NoRowEstimator());

        services.AddSingleton<DbErrors>();
        services.AddSingleton<Platform.Problems.IUnavailableDependencies>(provider => provider.GetRequiredService<DbErrors>());
        services.AddSingleton<Platform.Problems.ITransientConflicts>(provider => provider.GetRequiredService<DbErrors>());
        services.AddSingleton(provider =>
            new DeploymentProfile(Embedded: provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Sqlite));
        services.AddBulkUpsert();
        services.AddStartupTask<SqliteThreadPoolFloor>();
        services.AddStartupTask<SchemaMigrator>();
        services.AddHealthChecks().AddDbContextCheck<EmporiumDbContext>("database", tags: [HealthEndpoints.Ready]);
        // Npgsql's connection and command metrics and its command spans, when they are exported (Platform/Telemetry).
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter("Npgsql"));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource("Npgsql"));
        return services;
    }
}
