using System.Net;
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
    }

    [Fact]
    public async Task Live_answers_without_touching_dependencies()
    {
        var body = await (await app.Anonymous().GetAsync("/health/live")).ShouldBe(HttpStatusCode.OK);
        body.GetProperty("checks").EnumerateObject().Should().BeEmpty();
    }
}

public sealed class HealthTestsOnSqlite(SqliteApp app) : HealthTests(app), IClassFixture<SqliteApp>;

public sealed class HealthTestsOnPostgres(PostgresApp app) : HealthTests(app), IClassFixture<PostgresApp>;
