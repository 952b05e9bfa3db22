using System.Net;
using Emporium.Features.Identity;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Identity;

/// <summary>Apps whose worker purges expired refresh tokens every 200 ms.</summary>
public sealed class FastPurgePostgresApp : PostgresApp
{
    public FastPurgePostgresApp() => With("Auth:RefreshTokenPurgeInterval", "00:00:00.200");
}

public sealed class FastPurgeSqliteApp : SqliteApp
{
    public FastPurgeSqliteApp() => With("Auth:RefreshTokenPurgeInterval", "00:00:00.200");
}

public abstract class RefreshTokenPurgeTests(EmporiumApp app)
{
    [Fact]
    public async Task Tokens_expired_for_over_a_day_are_deleted_while_recent_and_live_ones_stay_usable()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var live = await app.LoginAsync(email);
        var userId = await app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());
        var now = DateTime.UtcNow;
        var (oldId, recentId) = await app.WithDbAsync(async db =>
        {
            RefreshToken Token(DateTime expiresAt) => new()
            {
                UserId = userId,
                TokenHash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
                FamilyId = Guid.NewGuid(),
                CreatedAt = expiresAt.AddDays(-14),
                ExpiresAt = expiresAt,
            };
            var old = Token(now.AddDays(-2));
            var recent = Token(now.AddHours(-1));
            db.AddRange(old, recent);
            await db.SaveChangesAsync();
            return (old.Id, recent.Id);
        });

        var deadline = TestTime.Deadline(15);
        while (await app.WithDbAsync(db => db.Set<RefreshToken>().AnyAsync(t => t.Id == oldId)))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the purge runs every 200 ms");
            await Task.Delay(100);
        }

        (await app.WithDbAsync(db => db.Set<RefreshToken>().AnyAsync(t => t.Id == recentId))).Should().BeTrue("the grace is a day");
        await (await app.RefreshAsync(live.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Failed_sign_ins_that_no_longer_count_are_deleted_and_a_running_lockout_stays()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var userId = await app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());
        var now = DateTime.UtcNow;
        var (endedId, runningId) = await app.WithDbAsync(async db =>
        {
            var ended = new SignInFailure { UserId = userId, Client = "203.0.113.30", Failures = 0, LastFailedAt = now.AddHours(-1), LockedUntil = now.AddMinutes(-45) };
            var running = new SignInFailure { UserId = userId, Client = "203.0.113.31", Failures = 0, LastFailedAt = now.AddHours(-1), LockedUntil = now.AddHours(1) };
            db.AddRange(ended, running);
            await db.SaveChangesAsync();
            return (ended.Id, running.Id);
        });

        var deadline = TestTime.Deadline(15);
        while (await app.WithDbAsync(db => db.Set<SignInFailure>().AnyAsync(f => f.Id == endedId)))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the purge runs every 200 ms");
            await Task.Delay(100);
        }

        (await app.WithDbAsync(db => db.Set<SignInFailure>().AnyAsync(f => f.Id == runningId))).Should().BeTrue("its lock has an hour to run");
        await (await app.AnonymousFrom("203.0.113.31").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}

public sealed class RefreshTokenPurgeTestsOnSqlite(FastPurgeSqliteApp app) : RefreshTokenPurgeTests(app), IClassFixture<FastPurgeSqliteApp>;

public sealed class RefreshTokenPurgeTestsOnPostgres(FastPurgePostgresApp app) : RefreshTokenPurgeTests(app), IClassFixture<FastPurgePostgresApp>;
