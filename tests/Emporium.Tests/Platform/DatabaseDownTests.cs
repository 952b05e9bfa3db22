using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Npgsql;

namespace Emporium.Tests.Platform;

/// <summary>An app whose PostgreSQL connections pass through a forwarder the test can stop: the database host goes away.</summary>
public sealed class ForwardedPostgresApp : PostgresApp
{
    private readonly string _connectionString;

    public ForwardedPostgresApp()
    {
        var direct = new NpgsqlConnectionStringBuilder(PostgresServer.ConnectionStringFor(DatabaseName));
        var address = Dns.GetHostAddresses(direct.Host!).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        Forwarder = new TcpForwarder(new IPEndPoint(address, direct.Port));
        Forwarder.Start();
        direct.Host = "127.0.0.1";
        direct.Port = Forwarder.Port;
        // A refused connection should fail the request at once, not after the default 15 s.
        direct.Timeout = 3;
        _connectionString = direct.ConnectionString;
    }

    public TcpForwarder Forwarder { get; }

    protected override string ConnectionString => _connectionString;
}

public sealed class DatabaseDownTests
{
    [Fact]
    public async Task While_PostgreSQL_is_unreachable_reads_and_writes_answer_503_with_retry_after_and_then_recover()
    {
        await using var app = new ForwardedPostgresApp();
        await app.InitializeAsync();
        try
        {
            var staff = await app.NewUserAsync(Roles.Staff);
            var product = await staff.Http.CreateProductAsync(ProductTestKit.Tag());
            var url = $"/api/products/{product.Id()}";

            app.Forwarder.Stop();
            NpgsqlConnection.ClearAllPools();

            var read = await app.Anonymous().GetAsync(url);
            var problem = await read.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
            problem.Str("title").Should().Be("The service is temporarily unavailable.");
            read.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
            var write = await staff.Http.PostJson("/api/products", new { sku = $"DOWN-{ProductTestKit.Tag()}", name = "Down", price = 1m });
            await write.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
            write.Headers.RetryAfter.Should().NotBeNull();

            app.Forwarder.Start();
            await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            app.Forwarder.Start();
        }
    }
}
