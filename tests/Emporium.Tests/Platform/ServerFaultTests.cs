using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Emporium.Tests.Features.Catalog.Caching;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Infrastructure;
using Npgsql;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Platform;

/// <summary>
/// Servers of a test's own, started by scripts/lib/services.sh in a folder of their own (stop_services undoes it), to
/// restart under running services without disturbing other tests.
/// </summary>
internal sealed class OwnServers : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emporium-servers-").FullName;

    public int PostgresPort { get; private set; }

    public string PostgresConnectionString(string database) => $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database={database}";

    public async Task StartPostgresAsync() =>
        PostgresPort = int.Parse((await BashAsync("start_postgres >&2; echo \"$EMPORIUM_PG_PORT\"")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An immediate stop (as a crash) and a start on the same port; returns once it accepts connections again.</summary>
    public Task RestartPostgresAsync() => BashAsync("""
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
        _as_service_user postgres "$bin/pg_ctl" -D "$EMPORIUM_STACK_DIR/postgres/data" -l "$EMPORIUM_STACK_DIR/postgres/server.log" -m immediate -w -t 60 restart >&2
        """);

    public async ValueTask DisposeAsync() => await BashAsync("stop_services");

    private async Task<string> BashAsync(string script)
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"set -euo pipefail; source scripts/lib/services.sh; {script}");
        start.Environment["EMPORIUM_STACK_DIR"] = _dir;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(120));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, "{0}: {1}", script, await stderr);
        return await stdout;
    }
}

/// <summary>The servers under a running service fail and come back (issue 17): PostgreSQL during an import, Redis under read load.</summary>
public sealed class ServerFaultTests
{
    private static Dictionary<string, string?> Settings(string connectionString, DirectoryInfo data) => new()
    {
        ["Emporium__DataDirectory"] = data.FullName,
        ["Database__Provider"] = "Postgres",
        ["Database__ConnectionString"] = connectionString,
        ["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail,
        ["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword,
        ["Jobs__LeaseDuration"] = "00:00:06",
        ["Jobs__PollInterval"] = "00:00:00.200",
        ["Jobs__RetryDelays__0"] = "00:00:01",
        ["Import__BatchSize"] = "1000",
        ["Import__CommitInterval"] = "00:00:00",
        ["Logging__Json"] = "false",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    private static async Task SignInAsync(ServiceProcess service)
    {
        var login = await (await service.Http.PostAsJsonAsync("/api/auth/login", new { email = EmporiumApp.AdminEmail, password = EmporiumApp.AdminPassword }))
            .ShouldBe(HttpStatusCode.OK);
        service.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.Str("access_token"));
    }

    [Fact]
    public async Task PostgreSQL_restarted_during_an_import_makes_the_service_unready_until_it_is_back_and_the_import_ends_with_the_whole_file()
    {
        await using var postgres = new OwnServers();
        await postgres.StartPostgresAsync();
        await using (var connection = new NpgsqlConnection(postgres.PostgresConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand("CREATE DATABASE emporium", connection).ExecuteNonQueryAsync();
        }

        var data = Directory.CreateTempSubdirectory("emporium-fault-");
        try
        {
            await using var service = await ServiceProcess.StartAsync(["--role", "all"], Settings(postgres.PostgresConnectionString("emporium"), data));
            await SignInAsync(service);
            const int rows = 60_000;
            var prefix = $"PGR-{Guid.NewGuid():N}"[..12].ToUpperInvariant();
            var csv = new StringBuilder("sku,name\r\n");
            for (var i = 0; i < rows; i++)
            {
                csv.Append($"{prefix}-{i},Restarted {i}\r\n");
            }

            var accepted = await (await service.Http.PostAsync("/api/products/upload", Uploads.Raw(csv.ToString()))).ShouldBe(HttpStatusCode.Accepted);
            var job = accepted.GetProperty("job_id").GetInt64();
            var deadline = TestTime.Deadline(60);
            while (true)
            {
                var state = await (await service.Http.GetAsync($"/api/jobs/{job}")).ShouldBe(HttpStatusCode.OK);
                if (state.Str("status") == "PROCESSING" && state.GetProperty("progress").ValueKind == System.Text.Json.JsonValueKind.Object
                    && state.GetProperty("progress").GetProperty("processed").GetInt64() > 0)
                {
                    break;
                }

                state.Str("status").Should().BeOneOf(["PENDING", "PROCESSING"], "the import should still run when PostgreSQL restarts");
                DateTime.UtcNow.Should().BeBefore(deadline, "the import should start");
                await Task.Delay(50);
            }

            // Readiness, watched through the restart.
            using var watching = new CancellationTokenSource();
            using var probe = new HttpClient { BaseAddress = service.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            var seen = new List<HttpStatusCode>();
            var watcher = Task.Run(async () =>
            {
                while (!watching.IsCancellationRequested)
                {
                    try
                    {
                        var status = (await probe.GetAsync("/health/ready")).StatusCode;
                        lock (seen)
                        {
                            seen.Add(status);
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }

                    await Task.Delay(25);
                }
            });
            await postgres.RestartPostgresAsync();
            deadline = TestTime.Deadline(30);
            while (true)
            {
                lock (seen)
                {
                    if (seen.Contains(HttpStatusCode.ServiceUnavailable) && seen[^1] == HttpStatusCode.OK)
                    {
                        break;
                    }
                }

                DateTime.UtcNow.Should().BeBefore(deadline, "/health/ready should answer 503 while PostgreSQL is away and 200 once it is back");
                await Task.Delay(50);
            }

            await watching.CancelAsync();
            await watcher;

            // The import completes (an attempt failed with the restart, the next resumed from its checkpoint), or ends with a
            // clear error, and running it again gives the whole file.
            var finished = await Uploads.WaitAsync(service.Http, job);
            if (finished.Str("status") != "COMPLETED")
            {
                finished.Str("last_error").Should().NotBeNullOrWhiteSpace();
                await (await service.Http.PostAsync($"/api/jobs/{job}/retry", null)).ShouldBe(HttpStatusCode.OK);
                finished = await Uploads.WaitAsync(service.Http, job);
            }

            finished.Str("status").Should().Be("COMPLETED", "{0}", finished);
            await using var check = new NpgsqlConnection(postgres.PostgresConnectionString("emporium"));
            await check.OpenAsync();
            var command = new NpgsqlCommand("SELECT count(*), count(DISTINCT sku), bool_and(name = 'Restarted ' || substr(sku, @from)) FROM products WHERE sku LIKE @prefix", check);
            command.Parameters.AddWithValue("from", prefix.Length + 2);
            command.Parameters.AddWithValue("prefix", prefix + "-%");
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            (reader.GetInt64(0), reader.GetInt64(1), reader.GetBoolean(2)).Should().Be((rows, rows, true), "every row of the file, once, as written");
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Processes_started_together_on_a_fresh_database_all_become_ready_with_one_admin()
    {
        var database = PostgresServer.NewDatabaseName();
        await PostgresServer.CreateDatabaseAsync(database);
        var data = Directory.CreateTempSubdirectory("emporium-fault-");
        try
        {
            // As compose starts its API replicas: at the same moment, each migrating (under the lock) and seeding the roles
            // and the first admin.
            var settings = Settings(PostgresServer.ConnectionStringFor(database), data);
            var starting = Enumerable.Range(0, 3).Select(_ => ServiceProcess.StartAsync(["--role", "api"], settings)).ToList();
            try
            {
                var started = await Task.WhenAll(starting);
                foreach (var service in started)
                {
                    await SignInAsync(service);
                    await (await service.Http.GetAsync("/api/users?role=admin")).ShouldBe(HttpStatusCode.OK);
                }

                var admins = await (await started[0].Http.GetAsync("/api/users?role=admin")).ShouldBe(HttpStatusCode.OK);
                admins.GetProperty("results").EnumerateArray().Count(user => user.Str("email") == EmporiumApp.AdminEmail).Should().Be(1);
            }
            finally
            {
                // Every process that did start is stopped, whichever failed.
                foreach (var start in starting)
                {
                    try
                    {
                        await (await start).DisposeAsync();
                    }
                    catch (Exception exception) when (exception is not OutOfMemoryException)
                    {
                        // Its start failed, and the assertion above says why.
                    }
                }
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Redis_stopped_for_ten_seconds_under_read_load_fails_no_request_and_serves_nothing_stale()
    {
        await using var redis = await OwnRedis.StartAsync();
        var database = PostgresServer.NewDatabaseName();
        await PostgresServer.CreateDatabaseAsync(database);
        var data = Directory.CreateTempSubdirectory("emporium-fault-");
        try
        {
            var settings = Settings(PostgresServer.ConnectionStringFor(database), data);
            settings["Cache__Provider"] = "Redis";
            settings["Cache__Redis"] = redis.Address;
            await using var service = await ServiceProcess.StartAsync(["--role", "api"], settings);
            await SignInAsync(service);
            var url = $"/api/products/{(await service.Http.CreateProductAsync(Tag(), "Under load")).Id()}";

            using var reading = new CancellationTokenSource();
            var failures = new List<string>();
            var reads = 0;
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                using var client = new HttpClient { BaseAddress = service.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
                while (!reading.IsCancellationRequested)
                {
                    try
                    {
                        var response = await client.GetAsync(url);
                        Interlocked.Increment(ref reads);
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            var body = await response.Content.ReadAsStringAsync();
                            lock (failures)
                            {
                                failures.Add($"{(int)response.StatusCode}: {body}");
                            }
                        }
                    }
                    catch (HttpRequestException exception)
                    {
                        lock (failures)
                        {
                            failures.Add(exception.Message);
                        }
                    }
                }
            })).ToList();

            await Task.Delay(1000);
            await redis.StopAsync();
            await Task.Delay(5000);
            await (await service.Http.PatchJson(url, new { name = "Changed while Redis was away" })).ShouldBe(HttpStatusCode.OK);
            (await service.Http.ReadAsync(url)).Str("name").Should().Be("Changed while Redis was away");
            await Task.Delay(5000);
            await redis.StartAgainAsync();
            await Task.Delay(3000);
            await reading.CancelAsync();
            await Task.WhenAll(readers);

            failures.Should().BeEmpty("Redis away never fails a read ({0} reads)", reads);
            reads.Should().BeGreaterThan(100);
            (await service.Http.ReadAsync(url)).Str("name").Should().Be("Changed while Redis was away", "nothing from before the change is served after Redis is back");
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database);
            data.Delete(recursive: true);
        }
    }
}
