using System.Collections.Concurrent;
using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Emporium.Tests.Platform;

/// <summary>Records what the app logs at Warning and above.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                capture.Entries.Enqueue((logLevel, category, formatter(state, exception)));
            }
        }
    }
}

public sealed class CapturedSqliteApp : SqliteApp
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
    }
}

public sealed class CapturedPostgresApp : PostgresApp
{
    public LogCapture Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
    }
}

/// <summary>
/// A client's mistake or a handled race is not an error of the service (issue 12: a handled unique-key conflict was logged at
/// Error, and every list request logged an EF warning).
/// </summary>
public abstract class QuietLogTests(EmporiumApp app, LogCapture logs)
{
    [Fact]
    public async Task Handled_conflicts_and_lists_log_no_warning_or_error()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = ProductTestKit.Tag();
        await staff.Http.CreateProductAsync(new { sku = $"Q-{tag}", name = $"Quiet {tag}", price = 1 });
        logs.Entries.Clear();

        await (await staff.Http.PostJson("/api/products", new { sku = $"q-{tag}", name = "Same SKU", price = 1 })).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.Http.PostJson("/api/brands", new { name = $"Taken {tag}", slug = $"taken-{tag}" })).ShouldBe(HttpStatusCode.Created);
        await (await staff.Http.PostJson("/api/brands", new { name = $"Taken again {tag}", slug = $"taken-{tag}" })).ShouldBeProblem(HttpStatusCode.Conflict);
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => staff.Http.PostJson("/api/categories", new { name = $"Raced {tag}" })));
        await (await app.Anonymous().GetAsync($"/api/products?name={tag}")).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().GetAsync("/api/brands")).ShouldBe(HttpStatusCode.OK);

        logs.Entries.Should().BeEmpty("nothing went wrong in the service: {0}", string.Join("\n", logs.Entries));
    }
}

public sealed class QuietLogTestsOnSqlite(CapturedSqliteApp app) : QuietLogTests(app, app.Logs), IClassFixture<CapturedSqliteApp>;

public sealed class QuietLogTestsOnPostgres(CapturedPostgresApp app) : QuietLogTests(app, app.Logs), IClassFixture<CapturedPostgresApp>;
