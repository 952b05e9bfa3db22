using System.Net;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Identity;

/// <summary>A SQLite app that allows only three auth requests per window, so the limit is quick to reach.</summary>
public sealed class LowAuthRateLimitApp : EmporiumApp
{
    public const int PermitLimit = 3;

    public LowAuthRateLimitApp() => With("RateLimiting:Auth:PermitLimit", PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override string ConnectionString => $"Data Source={Path.Combine(DataDirectory, "emporium.db")}";
}

public sealed class RateLimitTests(LowAuthRateLimitApp app) : IClassFixture<LowAuthRateLimitApp>
{
    [Fact]
    public async Task Auth_requests_beyond_the_limit_get_429_with_retry_after()
    {
        var client = app.Anonymous();
        for (var i = 0; i < LowAuthRateLimitApp.PermitLimit; i++)
        {
            // An empty body is refused before any password hashing, so the loop stays fast.
            await (await client.PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        var limited = await client.PostJson("/api/auth/register", new { });

        await limited.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter.Should().NotBeNull();
        limited.Headers.RetryAfter!.Delta.Should().BeGreaterThan(TimeSpan.Zero);
    }
}
