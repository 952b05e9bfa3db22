using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Platform;

public abstract class HealthTests(EmporiumApp app)
{
    [Fact]
    public async Task Ready_reports_the_database_check_as_healthy()
    {
        var body = await (await app.Anonymous().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
        body.Str("status").Should().Be("Healthy");
        body.GetProperty("checks").GetProperty("database").Str("status").Should().Be("Healthy");
        body.GetProperty("checks").GetProperty("storage").Str("status").Should().Be("Healthy");
    }

    [Fact]
    public async Task Live_answers_without_touching_dependencies()
    {
        var body = await (await app.Anonymous().GetAsync("/health/live")).ShouldBe(HttpStatusCode.OK);
        body.GetProperty("checks").EnumerateObject().Should().BeEmpty();
    }
}

public sealed class HealthTestsOnSqlite(SqliteApp app) : HealthTests(app), IClassFixture<SqliteApp>;

public sealed class HealthTestsOnPostgres(PostgresApp app) : HealthTests(app), IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Ready_checks_the_S3_store_and_turns_503_when_its_bucket_is_missing()
    {
        // The variables S3-compatible deployments use, rather than Storage:S3:*.
        await using var s3 = new PostgresApp();
        s3.With("Storage:Provider", "S3").With("S3_ENDPOINT", S3Server.Endpoint).With("S3_BUCKET_NAME", S3Server.Bucket)
            .With("S3_ACCESS_KEY", S3Server.AccessKey).With("S3_SECRET_KEY", S3Server.SecretKey).With("S3_REGION", "eu-west-1")
            .With("Storage:S3:Prefix", S3Server.NewPrefix());
        await s3.InitializeAsync();
        var ready = await (await s3.Anonymous().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
        ready.GetProperty("checks").GetProperty("storage").Str("status").Should().Be("Healthy");

        await using var missing = new PostgresApp();
        missing.UseS3().With("Storage:S3:Bucket", "no-such-bucket");
        await missing.InitializeAsync();
        var unready = await (await missing.Anonymous().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);
        unready.GetProperty("checks").GetProperty("storage").Str("status").Should().Be("Unhealthy");
        unready.GetProperty("checks").GetProperty("database").Str("status").Should().Be("Healthy");
        // What failed, with the store's address and error, is for staff; anonymous probes get the statuses.
        unready.GetProperty("checks").GetProperty("storage").TryGetProperty("description", out _).Should().BeFalse();
        unready.GetRawText().Should().NotContain("no-such-bucket").And.NotContain("127.0.0.1");
        var staff = (await missing.NewUserAsync(Roles.Staff)).Http;
        var detailed = await (await staff.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);
        detailed.GetProperty("checks").GetProperty("storage").Str("description").Should().Contain("file store");
    }

    [Fact]
    public async Task Ready_turns_503_when_the_database_goes_away_while_live_stays_200()
    {
        await using var doomed = new PostgresApp();
        await doomed.InitializeAsync();
        var client = doomed.Anonymous();
        await (await client.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);

        await PostgresServer.ExecuteAsync($"ALTER DATABASE \"{doomed.DatabaseName}\" ALLOW_CONNECTIONS false");
        await PostgresServer.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{doomed.DatabaseName}'");
        Npgsql.NpgsqlConnection.ClearAllPools();

        (await client.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
        var ready = await (await client.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Str("status").Should().Be("Unhealthy");
        ready.GetProperty("checks").GetProperty("database").Str("status").Should().Be("Unhealthy");
        await PostgresServer.DropDatabaseAsync(doomed.DatabaseName);
    }
}
