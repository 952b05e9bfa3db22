using Emporium.Platform;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Platform;

/// <summary>
/// The service run from its own folder with the default data directory (./data): a changed appsettings.json still takes
/// effect without a restart, and the folder tree (the database and the file store below it) is not watched.
/// </summary>
public sealed class ConfigurationReloadTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("emporium-reload-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_changed_appsettings_takes_effect_without_watching_the_data_folder()
    {
        var settings = Path.Combine(_folder.FullName, "appsettings.json");
        await File.WriteAllTextAsync(settings, RequestLogLevel("Warning"));
        await using var service = await ServiceProcess.StartAsync([], new Dictionary<string, string?>
        {
            ["Emporium__DataDirectory"] = null,
            [ConfigurationReload.PollingVariable] = null,
            ["Logging__Json"] = "false",
            ["Logging__LogLevel__Default"] = null,
        }, _folder.FullName);

        File.Exists(Path.Combine(_folder.FullName, "data", "emporium.db")).Should().BeTrue("the default data directory is ./data");
        InotifyWatches(service.ProcessId).Should().Be(0, "a watch on the content root covers every folder below it, the data folder too");

        (await service.Http.GetAsync("/health/live")).EnsureSuccessStatusCode();
        service.Output.Should().NotContain("/health/live", "requests are logged at Information, below the Warning set");

        await File.WriteAllTextAsync(settings, RequestLogLevel("Information"));
        var deadline = TestTime.Deadline(30);
        while (!service.Output.Contains("/health/live", StringComparison.Ordinal))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the changed level should be picked up within seconds: {0}", service.Output);
            await Task.Delay(500);
            (await service.Http.GetAsync("/health/live")).EnsureSuccessStatusCode();
        }
    }

    private static string RequestLogLevel(string level) =>
        $$"""{ "Logging": { "LogLevel": { "Default": "Warning", "Emporium.Requests": "{{level}}" } } }""";

    /// <summary>The inotify watches the process holds, from /proc (each watch is one "inotify wd:" line of an inotify fd).</summary>
    private static int InotifyWatches(int processId) =>
        Directory.GetFiles($"/proc/{processId}/fd")
            .Where(fd => new FileInfo(fd).LinkTarget is { } target && target.Contains("inotify", StringComparison.Ordinal))
            .Sum(fd => File.ReadLines($"/proc/{processId}/fdinfo/{Path.GetFileName(fd)}").Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal)));
}
