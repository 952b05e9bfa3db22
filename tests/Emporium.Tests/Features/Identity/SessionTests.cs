using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Identity;

/// <summary>
/// An app that reads each user's security stamp again every 200 ms, as another process would see a change, and locks an
/// account for unknown addresses after 8 failures from all addresses together.
/// </summary>
public sealed class QuickSessionCheckApp : SqliteApp
{
    public QuickSessionCheckApp()
    {
        With("Auth:SessionCheckInterval", "00:00:00.200");
        With("Auth:AccountLockoutThreshold", "8");
    }
}

/// <summary>
/// A lock, a role change, a new password and a sign-out everywhere end the access tokens already issued, not only the
/// refresh tokens: they lived on for up to Auth:AccessTokenLifetime (15 minutes) with the old roles.
/// </summary>
public sealed class SessionTests(QuickSessionCheckApp app) : IClassFixture<QuickSessionCheckApp>
{
    [Fact]
    public async Task A_demoted_users_access_token_stops_working_and_the_refresh_carries_the_new_roles()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var email = AuthApi.NewEmail("demoted");
        await app.RegisterAsync(email);
        var id = await app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());
        await (await admin.Http.PutJson($"/api/users/{id}/roles", new { roles = new[] { "staff" } })).ShouldBe(HttpStatusCode.OK);
        var pair = await app.LoginAsync(email);
        var staff = app.WithToken(pair.Str("access_token"));
        await (await staff.GetAsync("/api/jobs")).ShouldBe(HttpStatusCode.OK);

        await (await admin.Http.PutJson($"/api/users/{id}/roles", new { roles = new[] { "customer" } })).ShouldBe(HttpStatusCode.OK);

        var refused = await staff.GetAsync("/api/jobs");
        await refused.ShouldBeProblem(HttpStatusCode.Unauthorized);
        refused.Headers.WwwAuthenticate.ToString().Should().Contain("invalid_token", "the client is told to refresh");
        var renewed = await (await app.RefreshAsync(pair.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        await (await app.WithToken(renewed.Str("access_token")).GetAsync("/api/jobs")).ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_locked_users_access_token_stops_working_at_once()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var user = await app.NewUserAsync(Roles.Customer);
        await (await user.Http.GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);

        await (await admin.Http.PostAsync($"/api/users/{user.UserId}/lock", null)).ShouldBe(HttpStatusCode.OK);

        await (await user.Http.GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await user.Http.GetAsync("/api/cart")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_change_made_by_another_process_reaches_this_one_within_the_check_interval()
    {
        var user = await app.NewUserAsync(Roles.Customer);
        await (await user.Http.GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);

        // As another API process's lock would leave it: a new stamp in the database, nothing forgotten here.
        await app.WithDbAsync(db => db.Users.Where(u => u.Id == user.UserId)
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.SecurityStamp, Guid.NewGuid().ToString("N"))));

        var deadline = TestTime.Deadline(10);
        while ((await user.Http.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.OK)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the stamp is read again every 200 ms");
            await Task.Delay(100);
        }

        await (await user.Http.GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Guessing_from_many_addresses_locks_the_account_except_from_the_owners_known_address()
    {
        // Each address alone stays under its own limit (5): only the account's count across them stops the guessing.
        var email = AuthApi.NewEmail("guessed");
        await app.RegisterAsync(email);
        await (await app.AnonymousFrom("198.51.100.40").PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBe(HttpStatusCode.OK);
        for (var guesser = 1; guesser <= 4; guesser++)
        {
            for (var guess = 0; guess < 2; guess++)
            {
                await (await app.AnonymousFrom($"203.0.113.{100 + guesser}").PostJson("/api/auth/login", new { email, password = $"guess {guesser}.{guess}" }))
                    .ShouldBeProblem(HttpStatusCode.Unauthorized);
            }
        }

        await (await app.AnonymousFrom("203.0.113.120").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized); // a new address, even with the right password
        await (await app.AnonymousFrom("198.51.100.40").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBe(HttpStatusCode.OK); // where the owner signed in before
    }
}
