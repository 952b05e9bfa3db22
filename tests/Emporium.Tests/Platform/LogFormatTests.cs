using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Emporium.Platform.Logging;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Emporium.Tests.Platform;

/// <summary>Console logs: JSON lines for machines, one readable line per entry for a person at a terminal.</summary>
public sealed partial class LogFormatTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("emporium-logs-");

    public void Dispose() => _data.Delete(recursive: true);

    [Theory]
    [InlineData(null, null, true, LogFormat.Json)]
    [InlineData(null, null, false, LogFormat.Text)]
    [InlineData("Json", null, false, LogFormat.Json)]
    [InlineData("Text", null, true, LogFormat.Text)]
    [InlineData(null, "false", true, LogFormat.Text)]
    [InlineData(null, "true", false, LogFormat.Json)]
    [InlineData("Text", "true", true, LogFormat.Text)]
    public void The_format_follows_the_settings_and_else_whether_a_terminal_is_watching(string? format, string? json, bool redirected, LogFormat expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Format"] = format, ["Logging:Json"] = json })
            .Build();

        RequestLogging.ChooseFormat(configuration, redirected).Should().Be(expected);
    }

    [Fact]
    public async Task At_a_terminal_the_service_writes_one_readable_line_per_entry_and_to_a_pipe_json_lines()
    {
        var terminal = await FirstLinesAsync(underTerminal: true);
        terminal.Should().Contain(line => ReadableLine().IsMatch(line), "a person at a terminal reads 'HH:mm:ss info: Category[id] message': {0}", string.Join("\n", terminal));
        terminal.Should().NotContain(line => line.StartsWith('{'));

        var piped = await FirstLinesAsync(underTerminal: false);
        piped.Should().NotBeEmpty();
        piped.Should().OnlyContain(line => IsJsonObject(line), "redirected output is for machines: {0}", string.Join("\n", piped));
    }

    /// <summary>
    /// Starts the built service on the embedded default, with its output on a pseudo-terminal (util-linux's script, as a
    /// person's shell gives it) or on a pipe, and returns its lines until it listens (ANSI colours stripped).
    /// </summary>
    private async Task<List<string>> FirstLinesAsync(bool underTerminal)
    {
        var data = Directory.CreateDirectory(Path.Combine(_data.FullName, Guid.NewGuid().ToString("N"))).FullName;
        var service = $"dotnet {Path.Combine(AppContext.BaseDirectory, "Emporium.dll")} --urls http://127.0.0.1:0";
        var start = underTerminal
            ? new ProcessStartInfo("script") { ArgumentList = { "-qfec", service, "/dev/null" } }
            : new ProcessStartInfo("sh") { ArgumentList = { "-c", service } };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.Environment["Emporium__DataDirectory"] = data;
        start.Environment["Logging__LogLevel__Default"] = "Information";
        // Given, so the generated one is not printed (a plain line, by design, whatever the log format).
        start.Environment["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail;
        start.Environment["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword;
        foreach (var name in new[] { "Logging__Json", "Logging__Format", "DATABASE_URL", "Database__Provider" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetResult();
                return;
            }

            var line = AnsiCodes().Replace(e.Data, "").Trim('\r', ' ');
            lock (lines)
            {
                if (line.Length > 0)
                {
                    lines.Add(line);
                }
            }

            if (line.Contains("Now listening on", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(TestTime.Of(60));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        lock (lines)
        {
            return [.. lines];
        }
    }

    private static bool IsJsonObject(string line)
    {
        try
        {
            return JsonDocument.Parse(line).RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d (trce|dbug|info|warn|fail|crit): \S+\[\d+\] .+")]
    private static partial Regex ReadableLine();

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z=>]|\x1B[=>]")]
    private static partial Regex AnsiCodes();
}
