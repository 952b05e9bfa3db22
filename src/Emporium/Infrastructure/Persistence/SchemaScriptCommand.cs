namespace Emporium.Infrastructure.Persistence;

public static class SchemaScriptCommand
{
    /// <summary>
    /// `emporium --schema-script true [--Database:Provider Postgres]` prints the DDL that EF derives from the
    /// model. It is the starting point for a new hand-written migration (there is no `dotnet ef` here), and the
    /// schema test compares a migrated database against it.
    /// </summary>
    public static bool TryRunSchemaScript(this WebApplication app)
    {
        if (!app.Configuration.GetValue("schema-script", false))
        {
            return false;
        }

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        Console.WriteLine(db.Database.GenerateCreateScript());
        return true;
    }
}
