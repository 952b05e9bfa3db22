using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emporium.Tests.Platform;

/// <summary>Behaviour of the plumbing itself; the database does not matter here, so SQLite only.</summary>
public sealed class PlatformTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Unknown_route_is_a_404_problem_with_a_trace_id()
    {
        var problem = await (await app.Anonymous().GetAsync("/api/no-such-thing")).ShouldBeProblem(HttpStatusCode.NotFound);
        problem.Str("trace_id").Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Trailing_slash_reaches_the_same_endpoint()
    {
        await (await app.Anonymous().GetAsync("/health/ready/")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OpenAPI_document_and_both_readers_are_served()
    {
        var client = app.Anonymous();
        var document = await (await client.GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        document.Str("openapi").Should().StartWith("3.");
        document.GetProperty("info").Str("title").Should().Be("Emporium API");

        var swagger = await client.GetStringAsync("/api/docs/index.html");
        swagger.Should().Contain("swagger-ui");
        var redoc = await client.GetStringAsync("/api/redoc/index.html");
        redoc.Should().Contain("redoc");
    }

    [Theory]
    [InlineData("/api/docs", "swagger-ui")]
    [InlineData("/api/docs/", "swagger-ui")]
    [InlineData("/api/redoc", "redoc")]
    [InlineData("/api/redoc/", "redoc")]
    public async Task A_reader_typed_with_or_without_its_trailing_slash_redirects_to_its_page(string typed, string page)
    {
        var client = app.Anonymous();
        var response = await client.GetAsync(typed);

        // Resolved as a browser resolves it: against the address it typed.
        response.StatusCode.Should().Be(HttpStatusCode.MovedPermanently);
        var target = new Uri(response.RequestMessage!.RequestUri!, response.Headers.Location!);
        target.AbsolutePath.Should().Be($"{typed.TrimEnd('/')}/index.html");
        (await client.GetStringAsync(target)).Should().Contain(page);
    }

    [Fact]
    public async Task Each_request_logs_one_line_with_method_route_status_duration_and_trace_id()
    {
        var sink = new CapturingLoggerProvider();
        await using var logged = new LoggedApp(sink);
        var response = await logged.Anonymous().GetAsync("/health/live");
        response.StatusCode.Should().Be(HttpStatusCode.OK);

        var line = sink.Entries.Should().ContainSingle(e => e.Category == "Emporium.Requests").Subject;
        line.State["Method"].Should().Be("GET");
        line.State["Route"].Should().Be("/health/live");
        line.State["StatusCode"].Should().Be(200);
        line.State["DurationMs"].Should().BeOfType<double>().Which.Should().BeGreaterThan(0);
        line.State["TraceId"].Should().BeOfType<string>().Which.Should().NotBeEmpty();
    }

    [Fact]
    public async Task A_request_answered_by_the_exception_handler_still_logs_its_route_template()
    {
        var sink = new CapturingLoggerProvider();
        await using var logged = new LoggedApp(sink);
        var staff = await logged.NewUserAsync(Emporium.Platform.Security.Roles.Staff);
        var response = await staff.Http.PutAsync("/api/brands/shoes", new StringContent("{\"name\": ", System.Text.Encoding.UTF8, "application/json"));
        await response.ShouldBeProblem(HttpStatusCode.BadRequest);

        // Grouped by route, as dashboards do: the template, not each path, even when binding failed before the handler ran.
        var line = sink.Entries.Should().ContainSingle(e => e.Category == "Emporium.Requests").Subject;
        line.State["Route"].Should().Be("/api/brands/{ref}");
        line.State["StatusCode"].Should().Be(400);
    }

    private sealed class LoggedApp(CapturingLoggerProvider sink) : EmporiumApp
    {
        public override Emporium.Infrastructure.Persistence.DatabaseProvider Provider =>
            Emporium.Infrastructure.Persistence.DatabaseProvider.Sqlite;

        protected override string ConnectionString => $"Data Source={Path.Combine(DataDirectory, "emporium.db")}";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Logging:LogLevel:Emporium.Requests", "Information");
            builder.ConfigureLogging(logging => logging.AddProvider(sink));
        }
    }
}

/// <summary>Start-up behaviour under settings of its own; each test builds and disposes a host.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Worker_role_serves_health_but_no_API()
    {
        await using var worker = new SqliteApp();
        worker.With("Emporium:Role", "Worker");
        var client = worker.Anonymous();
        (await client.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync("/openapi/v1.json")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/auth/me")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("--Database:Provider=Postgres", "Database:ConnectionString")]
    [InlineData("--DATABASE_URL=mysql://nope", "DATABASE_URL")]
    [InlineData("--Emporium:Role=Sideways", "Role")]
    [InlineData("--Auth:SigningKey=too-short", "Auth:SigningKey")]
    [InlineData("--Auth:ClockSkew=00:05:00", "Auth:ClockSkew")]
    [InlineData("--Paging:MaxPageSize=0", "MaxPageSize")]
    [InlineData("--Paging:DefaultPageSize=200", "Paging:DefaultPageSize")]
    [InlineData("--RateLimiting:Auth:Window=00:00:00", "Window")]
    [InlineData("--DATABASE_URL=postgres://u:p@db/shop?sslmode=sideways", "sslmode=sideways")]
    [InlineData("--DATABASE_URL=postgres://u:p@db/shop?keepalives=1", "keepalives")]
    [InlineData("--Media:Download:MaxBytes=0", "Media:Download:MaxBytes")]
    [InlineData("--Media:Download:MaxRedirects=-1", "Media:Download:MaxRedirects")]
    [InlineData("--Logging:Format=yaml", "Logging:Format")]
    [InlineData("--Telemetry:Prometheus:Enabled=yes", "Telemetry:Prometheus:Enabled")]
    [InlineData("--Auth:RefreshTokenPurgeInterval=60.00:00:00", "Auth:RefreshTokenPurgeInterval")]
    [InlineData("--Email:Smtp:Timeout=-00:00:01", "Email:Smtp:Timeout")]
    [InlineData("--Webhooks:DisableAfter=10675199.02:48:05", "Webhooks:DisableAfter")]
    [InlineData("--Webhooks:LeaseDuration=00:00:11", "Webhooks:LeaseDuration")]
    [InlineData("--Auth:RefreshTokenLifetime=3650000.00:00:00", "Auth:RefreshTokenLifetime")]
    [InlineData("--Auth:RefreshReuseGrace=01:00:00", "Auth:RefreshReuseGrace")]
    [InlineData("--Auth:SessionLifetime=400.00:00:00", "Auth:SessionLifetime")]
    [InlineData("--Auth:SessionCheckInterval=01:00:00", "Auth:SessionCheckInterval")]
    [InlineData("--Jobs:RetryDelays:0=3000000", "Jobs:RetryDelays")]
    [InlineData("--Http:MaxJsonBodyBytes=104857600", "MaxJsonBodyBytes")]
    [InlineData("--Identity:Lockout:DefaultLockoutTimeSpan=10675199.02:48:05", "Identity:Lockout:DefaultLockoutTimeSpan")]
    public Task A_wrong_setting_stops_the_service_with_one_line_naming_it(string argument, string named) =>
        RealBinary.RefusesToStartAsync(named, argument);

    [Theory]
    [InlineData("")]
    [InlineData("not a key at all")]
    [InlineData("c2hvcnQ=")]
    public Task A_damaged_generated_signing_key_stops_the_service_with_one_line_naming_the_file(string content) =>
        RealBinary.RefusesToStartAsync("jwt-signing.key", data => File.WriteAllText(Path.Combine(data, "jwt-signing.key"), content));

    [Fact]
    public void The_built_service_runs_with_workstation_GC_and_without_dynamic_PGO_unless_the_environment_asks()
    {
        // What `dotnet Emporium.dll` starts with: the memory and import figures of docs/benchmarks.md depend on it
        // (decisions 0009 and 0011).
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Emporium.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        properties.GetProperty("System.GC.Server").GetBoolean().Should().BeFalse();
        properties.GetProperty("System.Runtime.TieredPGO").GetBoolean().Should().BeFalse();
    }
}

public sealed record LogEntry(string Category, LogLevel Level, IReadOnlyDictionary<string, object?> State);

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (category == "Emporium.Requests")
            {
                var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
                entries.Enqueue(new LogEntry(category, logLevel, values.ToDictionary(p => p.Key, p => p.Value)));
            }
        }
    }
}
