using System.ComponentModel.DataAnnotations;

namespace Emporium.Platform;

/// <summary>
/// How a process stops (section Host): on SIGTERM it stops taking requests and claiming work, then waits up to
/// <see cref="ShutdownTimeout"/> for what it holds: requests in flight finish, jobs and webhook deliveries are released
/// (a job's attempt is given back), and then it exits 0. Set the orchestrator's grace period a little longer.
/// </summary>
public sealed class ShutdownSettings
{
    public const string Section = "Host";

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public static void AddTo(IServiceCollection services)
    {
        services.AddSettings<ShutdownSettings>(Section);
        services.AddOptions<HostOptions>().Configure<IOptions<ShutdownSettings>>((host, settings) => host.ShutdownTimeout = settings.Value.ShutdownTimeout);
    }
}
