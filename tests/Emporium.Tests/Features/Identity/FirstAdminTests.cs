using System.Net;
using System.Net.Http.Json;
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
        await using var service = await ServiceProcess.StartAsync([], new Dictionary<string, string?>
        {
            ["Emporium__DataDirectory"] = _data.FullName,
            ["EMPORIUM_ADMIN_EMAIL"] = null,
            ["EMPORIUM_ADMIN_PASSWORD"] = null,
            ["Database__Provider"] = null,
        });
        if (loginWith is not null)
        {
            var login = await service.Http.PostAsJsonAsync("/api/auth/login", new { email = "admin@emporium.local", password = loginWith });
            login.StatusCode.Should().Be(HttpStatusCode.OK, "the printed password must work");
        }

        var text = service.Output;
        var match = credentials.Match(text);
        return (text, match.Success ? match.Groups["password"].Value : null);
    }

    [GeneratedRegex(@"Emporium admin account created: admin@emporium\.local / (?<password>\S+)")]
    private static partial Regex AdminLine();
}
