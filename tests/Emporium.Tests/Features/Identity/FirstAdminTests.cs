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

    [Fact]
    public async Task An_account_that_holds_the_admin_address_when_no_admin_is_left_takes_the_printed_password()
    {
        // With no admin left (demoted by hand in the database, say), the next start made the account holding the address an
        // admin and printed a new password that did not work for it: its old password, whoever had set it, still did.
        var (_, first) = await RunUntilAsync(AdminLine());
        first.Should().NotBeNullOrEmpty();
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data.FullName, "emporium.db")};Pooling=false"))
        {
            db.Open();
            using var demote = db.CreateCommand();
            demote.CommandText = "DELETE FROM user_roles";
            demote.ExecuteNonQuery().Should().BeGreaterThan(0);
            // Locked by an admin, too: the lock would refuse the printed password, and make the account count as an admin at
            // every later start, so that none would ever be made again.
            using var lockOut = db.CreateCommand();
            lockOut.CommandText = "UPDATE users SET lockout_enabled = 1, lockout_end = '9999-12-31 23:59:59.9999999+00:00'";
            lockOut.ExecuteNonQuery().Should().BeGreaterThan(0);
        }

        var (output, second) = await RunUntilAsync(AdminLine(), loginWithAfter: true);

        second.Should().NotBeNullOrEmpty("no admin is left, so one is made again and its password printed: {0}", output);
        second.Should().NotBe(first);
    }

    public void Dispose() => _data.Delete(recursive: true);

    /// <summary>Starts the service, waits until it is ready, optionally logs in, then stops it.</summary>
    private async Task<(string Output, string? Password)> RunUntilAsync(Regex credentials, string? loginWith = null, bool loginWithAfter = false)
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
        if (loginWithAfter && match.Success)
        {
            var login = await service.Http.PostAsJsonAsync("/api/auth/login", new { email = "admin@emporium.local", password = match.Groups["password"].Value });
            login.StatusCode.Should().Be(HttpStatusCode.OK, "the password printed on this start must work");
        }

        return (text, match.Success ? match.Groups["password"].Value : null);
    }

    [GeneratedRegex(@"Emporium admin account created: admin@emporium\.local / (?<password>\S+)")]
    private static partial Regex AdminLine();
}
