using System.Diagnostics;

namespace Emporium.Tests.Infrastructure;

/// <summary>The built Emporium.dll run as a real process, as an operator would start it.</summary>
public static class RealBinary
{
    /// <summary>
    /// Starts the service with <paramref name="arguments"/>, expects it to refuse (exit code 2), and returns
    /// its single stderr line, asserting that there is exactly one and that it names the bad setting.
    /// </summary>
    public static Task<string> RefusesToStartAsync(string named, params string[] arguments) =>
        RefusesToStartAsync(named, _ => { }, arguments);

    /// <summary>As above, with the data directory prepared by <paramref name="prepare"/> first.</summary>
    public static async Task<string> RefusesToStartAsync(string named, Action<string> prepare, params string[] arguments)
    {
        var data = Directory.CreateTempSubdirectory("emporium-settings-");
        prepare(data.FullName);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Emporium.dll"));
        foreach (var argument in arguments.Append($"--Emporium:DataDirectory={data.FullName}").Append("--urls=http://127.0.0.1:0"))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DATABASE_URL");
        start.Environment.Remove("RABBITMQ_URL");
        foreach (var variable in new[] { "S3_BUCKET_NAME", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_REGION" })
        {
            start.Environment.Remove(variable);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(60));
        await process.WaitForExitAsync(timeout.Token);
        data.Delete(recursive: true);

        process.ExitCode.Should().Be(2, "stdout: {0}", await stdout);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Should().ContainSingle().Which.Should().StartWith("Emporium cannot start: invalid setting:")
            .And.Contain(named).And.Subject;
    }
}
