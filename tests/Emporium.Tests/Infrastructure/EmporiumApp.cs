using System.Net.Http.Headers;
using Emporium.Features.Identity;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Emporium.Tests.Infrastructure;

/// <summary>
/// The real service in memory, on a database of its own. Provider-sensitive test classes are abstract
/// and run twice: once with <see cref="SqliteApp"/>, once with <see cref="PostgresApp"/>.
/// </summary>
public abstract class EmporiumApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "admin@emporium.test";
    public const string AdminPassword = "correct horse battery staple";

    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The settings given with <see cref="With"/>, e.g. to start a service process with the same ones.</summary>
    protected IReadOnlyDictionary<string, string?> Settings => _settings;

    protected EmporiumApp()
    {
        DataDirectory = Directory.CreateTempSubdirectory("emporium-test-").FullName;
    }

    public abstract DatabaseProvider Provider { get; }

    public string DataDirectory { get; }

    protected abstract string ConnectionString { get; }

    /// <summary>Extra configuration for one test class (call before the first client is created).</summary>
    public EmporiumApp With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await DropDatabaseAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", Provider.ToString());
        builder.UseSetting("Database:ConnectionString", ConnectionString);
        builder.UseSetting("Emporium:DataDirectory", DataDirectory);
        builder.UseSetting("EMPORIUM_ADMIN_EMAIL", AdminEmail);
        builder.UseSetting("EMPORIUM_ADMIN_PASSWORD", AdminPassword);
        builder.UseSetting("Logging:Json", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Warning");
        builder.UseSetting("RateLimiting:Auth:PermitLimit", "100000");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddTransient<IStartupFilter, PeerFromHeader>());
    }

    /// <summary>The client address a request carries in this header, as a real peer's would be (TestServer has none).</summary>
    public const string PeerHeader = "X-Test-Peer";

    /// <summary>A client without credentials that connects from <paramref name="address"/>.</summary>
    public HttpClient AnonymousFrom(string address)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Add(PeerHeader, address);
        return client;
    }

    private sealed class PeerFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Headers[PeerHeader].FirstOrDefault() is { } peer)
                {
                    context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(peer);
                }

                return following(context);
            });
            next(app);
        };
    }

    /// <summary>A client without credentials; on a Kestrel-hosted app it calls ClientOptions.BaseAddress.</summary>
    public HttpClient Anonymous() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });

    /// <summary>A client carrying a real access token for a new user with <paramref name="role"/>.</summary>
    public async Task<UserClient> NewUserAsync(string role)
    {
        using var scope = Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var email = $"{role}-{Guid.NewGuid():N}@emporium.test";
        var user = new User { UserName = email, Email = email, EmailConfirmed = true, CreatedAt = DateTime.UtcNow };
        var created = await users.CreateAsync(user);
        created.Succeeded.Should().BeTrue(string.Join(" ", created.Errors.Select(e => e.Description)));
        await users.AddToRoleAsync(user, role);
        var token = scope.ServiceProvider.GetRequiredService<TokenService>().CreateAccessToken(user, [role]);
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new UserClient(client, user.Id, email);
    }

    /// <summary>Runs <paramref name="work"/> against the app's database, for arranging or checking rows directly.</summary>
    public async Task<T> WithDbAsync<T>(Func<EmporiumDbContext, Task<T>> work)
    {
        using var scope = Services.CreateScope();
        return await work(scope.ServiceProvider.GetRequiredService<EmporiumDbContext>());
    }
}

public sealed record UserClient(HttpClient Http, long UserId, string Email);

public class SqliteApp : EmporiumApp
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override string ConnectionString => $"Data Source={Path.Combine(DataDirectory, "emporium.db")}";
}

public class PostgresApp : EmporiumApp
{
    public string DatabaseName { get; } = PostgresServer.NewDatabaseName();

    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override string ConnectionString => PostgresServer.ConnectionStringFor(DatabaseName);

    public override Task InitializeAsync() => PostgresServer.CreateDatabaseAsync(DatabaseName);

    protected override Task DropDatabaseAsync() => PostgresServer.DropDatabaseAsync(DatabaseName);
}

/// <summary>The PostgreSQL server that scripts/test starts (EMPORIUM_TEST_POSTGRES). Never silently skipped.</summary>
public static class PostgresServer
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("EMPORIUM_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "EMPORIUM_TEST_POSTGRES is not set: run the suite with scripts/test, which starts PostgreSQL for it.");

    public static string NewDatabaseName() => $"emporium_test_{Guid.NewGuid():N}";

    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    public static Task CreateDatabaseAsync(string database) => ExecuteAsync($"CREATE DATABASE \"{database}\"");

    public static async Task DropDatabaseAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
    }

    /// <summary>Runs <paramref name="sql"/> on the server's default database, or on <paramref name="database"/>.</summary>
    public static async Task ExecuteAsync(string sql, string? database = null)
    {
        await using var connection = new NpgsqlConnection(database is null ? ConnectionString : ConnectionStringFor(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
