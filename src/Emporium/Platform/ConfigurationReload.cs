namespace Emporium.Platform;

/// <summary>
/// appsettings.json is reloaded when it changes, found by polling it (every four seconds) rather than by the default
/// file system watcher. The default watches the whole content root, every folder below it, through inotify, and the
/// content root is the folder the service starts in: run from its own folder with the default Emporium:DataDirectory
/// ("data"), every write to the SQLite file, its write-ahead log and the file store woke the watcher, which cost a
/// 500,000-row import about a fifth more CPU (docs/benchmarks.md). An explicit DOTNET_USE_POLLING_FILE_WATCHER wins.
/// </summary>
public static class ConfigurationReload
{
    /// <summary>The switch <c>PhysicalFileProvider</c> reads when it is made, so this runs before the host is built.</summary>
    public const string PollingVariable = "DOTNET_USE_POLLING_FILE_WATCHER";

    public static void PollInsteadOfWatching()
    {
        if (Environment.GetEnvironmentVariable(PollingVariable) is null)
        {
            Environment.SetEnvironmentVariable(PollingVariable, "true");
        }
    }
}
