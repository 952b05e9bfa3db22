using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Identity;

/// <summary>
/// Two admins who demote or lock each other at the same moment: each saw the other still an admin, and the store was left
/// with none who could sign in. A class of its own, for a database whose admins these tests alone make.
/// </summary>
public abstract class LastAdminTests(EmporiumApp app)
{
    private const int Rounds = 10;

    [Fact]
    public async Task Two_admins_removing_each_other_at_once_leave_one_admin()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var (a, b) = await TwoLastAdminsAsync();
            using var start = new SemaphoreSlim(0);
            var first = Task.Run(async () =>
            {
                await start.WaitAsync();
                return await a.Http.PutJson($"/api/users/{b.UserId}/roles", new { roles = new[] { "staff" } });
            });
            var second = Task.Run(async () =>
            {
                await start.WaitAsync();
                return await b.Http.PostAsync($"/api/users/{a.UserId}/lock", null);
            });
            start.Release(2);
            var answers = new[] { (await first).StatusCode, (await second).StatusCode };

            answers.Count(s => s == HttpStatusCode.OK).Should().Be(1, $"round {round}: {string.Join(", ", answers)}");
            // The loser is refused: 409 (the other is the last admin), 403 (it was demoted or locked first, read on
            // /api/users) or 401 (its access token ended with that, SessionStamps).
            answers.Should().Contain(s => s == HttpStatusCode.Conflict || s == HttpStatusCode.Forbidden || s == HttpStatusCode.Unauthorized);
            (await AdminsWhoCanSignInAsync()).Should().ContainSingle($"round {round}").Which.Should().BeOneOf(a.UserId, b.UserId);
        }
    }

    [Fact]
    public async Task An_admin_locked_out_for_a_while_by_failed_sign_ins_still_counts_and_may_lock_the_other()
    {
        // Anyone who knows an admin's email can lock it out for 15 minutes; that must not let the other admin account (taken
        // over, say) keep itself from being locked.
        var (a, b) = await TwoLastAdminsAsync();
        var until = DateTimeOffset.UtcNow.AddMinutes(15);
        await app.WithDbAsync(db => db.Users.Where(u => u.Id == a.UserId).ExecuteUpdateAsync(set => set.SetProperty(u => u.LockoutEnd, until)));

        await (await a.Http.PostAsync($"/api/users/{b.UserId}/lock", null)).ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>Two new admins, every other admin locked by them: the only two who can sign in.</summary>
    private async Task<(UserClient A, UserClient B)> TwoLastAdminsAsync()
    {
        var a = await app.NewUserAsync(Roles.Admin);
        var b = await app.NewUserAsync(Roles.Admin);
        foreach (var other in await AdminsWhoCanSignInAsync())
        {
            if (other != a.UserId && other != b.UserId)
            {
                await (await a.Http.PostAsync($"/api/users/{other}/lock", null)).ShouldBe(HttpStatusCode.OK);
            }
        }

        return (a, b);
    }

    private Task<List<long>> AdminsWhoCanSignInAsync() =>
        app.WithDbAsync(async db =>
        {
            var admin = Roles.Admin.ToUpperInvariant();
            var admins = await db.Users.AsNoTracking()
                .Where(u => db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == admin)))
                .Select(u => new { u.Id, u.LockoutEnd })
                .ToListAsync();
            return admins.Where(u => u.LockoutEnd != DateTimeOffset.MaxValue).Select(u => u.Id).Order().ToList();
        });
}

public sealed class LastAdminTestsOnSqlite(SqliteApp app) : LastAdminTests(app), IClassFixture<SqliteApp>;

public sealed class LastAdminTestsOnPostgres(PostgresApp app) : LastAdminTests(app), IClassFixture<PostgresApp>;
