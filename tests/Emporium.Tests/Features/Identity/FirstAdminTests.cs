using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Identity;

/// <summary>The real binary on the embedded default, started the way a newcomer starts it: no admin settings.</summary>
public sealed partial class FirstAdminTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("emporium-first-admin-");

    [Fact]
    public async Task Without_admin_settings_a_generated_password_is_printed_once_and_works()
    {
        var (firstOutput, password) = await RunUntilAsync(AdminLine());
        password.Should().NotBeNullOrEmpty("the first start prints the generated credentials: {0}", firstOutput);

        var (secondOutput, again) = await RunUntilAsync(AdminLine(), loginWith: password);
        again.Should().BeNull("the password is printed only on the first start: {0}", secondOutput);
    }

    public void Dispose() => _data.Delete(recursive: true);

    /// <summary>Starts the service, waits until it is ready, optionally logs in, then stops it.</summary>
    private async Task<(string Output, string? Password)> RunUntilAsync(Regex credentials, string? loginWith = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Emporium.dll"), $"--urls=http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Emporium__DataDirectory"] = _data.FullName;
        foreach (var name in new[] { "EMPORIUM_ADMIN_EMAIL", "EMPORIUM_ADMIN_PASSWORD", "DATABASE_URL", "Database__Provider" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = TestTime.Deadline(60);
            while (true)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "the service should start: {0}", output);
                process.HasExited.Should().BeFalse("the service should keep running: {0}", output);
                try
                {
                    if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(200);
            }

            if (loginWith is not null)
            {
                var login = await http.PostAsJsonAsync("/api/auth/login", new { email = "admin@emporium.local", password = loginWith });
                login.StatusCode.Should().Be(HttpStatusCode.OK, "the printed password must work");
            }

            string text;
            lock (output)
            {
                text = output.ToString();
            }

            var match = credentials.Match(text);
            return (text, match.Success ? match.Groups["password"].Value : null);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Emporium admin account created: admin@emporium\.local / (?<password>\S+)")]
    private static partial Regex AdminLine();
}
