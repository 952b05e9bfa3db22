using Emporium.Features.Import;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

public static class BulkUpsertExtensions
{
    public static IServiceCollection AddBulkUpsert(this IServiceCollection services) =>
        services.AddScoped<IProductBulkUpsert>(provider =>
        {
            var db = provider.GetRequiredService<EmporiumDbContext>();
            var options = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            return options.Provider == DatabaseProvider.Postgres
                ? new PostgresProductBulkUpsert(db)
                : new SqliteProductBulkUpsert(db, options.SqliteImportCacheMegabytes);
        });
}
