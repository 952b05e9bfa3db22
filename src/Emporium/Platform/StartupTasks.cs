namespace Emporium.Platform;

/// <summary>
/// Work that must finish before the process serves requests (schema migration, the first admin account,
/// the demo catalog). Tasks run once per start, in registration order, each in its own scope.
/// </summary>
public interface IStartupTask
{
    Task RunAsync(CancellationToken cancellationToken);
}

public static class StartupTaskExtensions
{
    public static IServiceCollection AddStartupTask<T>(this IServiceCollection services)
        where T : class, IStartupTask =>
        services.AddScoped<IStartupTask, T>();

    public static async Task PrepareAsync(this WebApplication app, string[] args)
    {
        _ = args;
        using var scope = app.Services.CreateScope();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        foreach (var task in scope.ServiceProvider.GetServices<IStartupTask>())
        {
            await task.RunAsync(lifetime.ApplicationStopping);
        }
    }
}
