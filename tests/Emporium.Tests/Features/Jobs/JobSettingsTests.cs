using System.Diagnostics;

namespace Emporium.Tests.Features.Jobs;

public sealed class JobSettingsTests
{
    [Theory]
    [InlineData("--Jobs:LeaseDuration=00:00:00.100", "Jobs:LeaseDuration")]
    [InlineData("--Jobs:Concurrency=0", "Concurrency")]
    [InlineData("--Jobs:PollInterval=00:00:00", "Jobs:PollInterval")]
    [InlineData("--Jobs:RetryDelays:0=-00:00:01", "Jobs:RetryDelays")]
    public async Task A_wrong_jobs_setting_stops_the_service_with_one_line_naming_it(string argument, string named)
    {
        var data = Directory.CreateTempSubdirectory("emporium-job-settings-");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Emporium.dll"), argument, $"--Emporium:DataDirectory={data.FullName}", "--urls=http://127.0.0.1:0" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment.Remove("DATABASE_URL");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        data.Delete(recursive: true);

        process.ExitCode.Should().Be(2, "stdout: {0}", await stdout);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle().Which.Should().StartWith("Emporium cannot start: invalid setting:").And.Contain(named);
    }
}
