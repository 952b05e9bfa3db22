using Emporium.Features.Catalog;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// What SQLite needs from the model that PostgreSQL does not: SQLite has no decimal type (EF cannot compare or sort decimals
/// stored as text there, and REAL is not exact), so amounts are integer ten-thousandths (decision 0012); and it keeps
/// timestamps as text without a kind, so every DateTime read back is marked UTC (every one stored is), and responses carry
/// the trailing Z on both databases. Registered with UseSqlite, so the model cached for SQLite contexts has it.
/// </summary>
internal sealed class SqliteModelCustomizer(ModelCustomizerDependencies dependencies) : ModelCustomizer(dependencies)
{
    public override void Customize(ModelBuilder modelBuilder, DbContext context)
    {
        base.Customize(modelBuilder, context);
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(entity => entity.GetProperties()))
        {
            var type = Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
            if (type == typeof(decimal))
            {
                property.SetValueConverter(new StoredUnitsConverter());
            }
            else if (type == typeof(DateTime))
            {
                property.SetValueConverter(new UtcDateTimeConverter());
            }
        }
    }

    private sealed class StoredUnitsConverter() : ValueConverter<decimal, long>(
        value => Money.ToStoredUnits(value),
        value => Money.FromStoredUnits(value));

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        value => value,
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

public static class SqliteModelExtensions
{
    /// <summary>UseSqlite with the model's SQLite conventions (<see cref="SqliteModelCustomizer"/>): what every SQLite context needs.</summary>
    public static DbContextOptionsBuilder UseEmporiumSqlite(
        this DbContextOptionsBuilder options, string? connectionString, Action<Microsoft.EntityFrameworkCore.Infrastructure.SqliteDbContextOptionsBuilder>? sqlite = null) =>
        options.UseSqlite(connectionString, sqlite).ReplaceService<IModelCustomizer, SqliteModelCustomizer>();
}
