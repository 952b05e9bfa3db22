using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Identity;

/// <summary>Changing a password, an admin setting one, and signing out everywhere: the ways back from a stolen session.</summary>
public abstract class PasswordTests(EmporiumApp app)
{
    private const string NewPassword = "another long passphrase";

    [Fact]
    public async Task Changing_the_password_ends_every_other_session_and_answers_a_pair_for_this_one()
    {
        var email = AuthApi.NewEmail("changer");
        await app.RegisterAsync(email);
        var here = await app.LoginAsync(email);
        var stolen = await app.LoginAsync(email);

        var renewed = await (await app.WithToken(here.Str("access_token"))
            .PostJson("/api/auth/password", new { current_password = AuthApi.Password, new_password = NewPassword })).ShouldBe(HttpStatusCode.OK);

        await (await app.RefreshAsync(stolen.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.WithToken(stolen.Str("access_token")).GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.WithToken(renewed.Str("access_token")).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        await (await app.RefreshAsync(here.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(renewed.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await app.LoginAsync(email, NewPassword);
    }

    [Fact]
    public async Task A_wrong_current_password_or_a_weak_new_one_changes_nothing()
    {
        var email = AuthApi.NewEmail("changer");
        await app.RegisterAsync(email);
        var tokens = await app.LoginAsync(email);
        var client = app.WithToken(tokens.Str("access_token"));

        var wrong = await (await client.PostJson("/api/auth/password", new { current_password = "not the password", new_password = NewPassword }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        wrong.GetProperty("errors").TryGetProperty("current_password", out _).Should().BeTrue();
        var weak = await (await client.PostJson("/api/auth/password", new { current_password = AuthApi.Password, new_password = "short" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        weak.GetProperty("errors").TryGetProperty("new_password", out _).Should().BeTrue();
        var same = await (await client.PostJson("/api/auth/password", new { current_password = AuthApi.Password, new_password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        same.GetProperty("errors").TryGetProperty("new_password", out _).Should().BeTrue();
        await (await app.Anonymous().PostJson("/api/auth/password", new { current_password = AuthApi.Password, new_password = NewPassword }))
            .ShouldBe(HttpStatusCode.Unauthorized);

        await app.LoginAsync(email);
        await (await app.RefreshAsync(tokens.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Guessing_the_current_password_with_a_stolen_access_token_locks_the_account()
    {
        var email = AuthApi.NewEmail("guessed");
        await app.RegisterAsync(email);
        var client = app.WithToken((await app.LoginAsync(email)).Str("access_token"));

        for (var guess = 0; guess < 5; guess++)
        {
            await (await client.PostJson("/api/auth/password", new { current_password = $"guess number {guess}", new_password = NewPassword }))
                .ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        // Locked after Identity:Lockout:MaxFailedAccessAttempts (5): now even the right password changes nothing.
        await (await client.PostJson("/api/auth/password", new { current_password = AuthApi.Password, new_password = NewPassword }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_all_revokes_every_session_of_the_user_and_no_one_elses()
    {
        var email = AuthApi.NewEmail("everywhere");
        await app.RegisterAsync(email);
        var phone = await app.LoginAsync(email);
        var laptop = await app.LoginAsync(email);
        var someoneElse = AuthApi.NewEmail("bystander");
        await app.RegisterAsync(someoneElse);
        var bystander = await app.LoginAsync(someoneElse);

        await (await app.WithToken(laptop.Str("access_token")).PostAsync("/api/auth/logout-all", null)).ShouldBe(HttpStatusCode.NoContent);

        await (await app.RefreshAsync(phone.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(laptop.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(bystander.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        await (await app.WithToken(phone.Str("access_token")).GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.WithToken(laptop.Str("access_token")).GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.WithToken(bystander.Str("access_token")).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().PostAsync("/api/auth/logout-all", null)).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_admin_sets_a_lost_password_and_the_old_sessions_end()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var email = AuthApi.NewEmail("forgetful");
        var id = (await app.RegisterAsync(email)).GetProperty("id").GetInt64();
        var old = await app.LoginAsync(email);
        for (var miss = 0; miss < 3; miss++)
        {
            await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = "cannot remember it" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        await (await admin.Http.PutJson($"/api/users/{id}/password", new { password = NewPassword })).ShouldBe(HttpStatusCode.NoContent);

        await (await app.RefreshAsync(old.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        // The three misses before the reset were cleared: two more do not lock the account.
        for (var miss = 0; miss < 2; miss++)
        {
            await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = "still cannot" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        await app.LoginAsync(email, NewPassword);
    }

    [Fact]
    public async Task Setting_a_password_is_for_admins_with_a_valid_one_for_a_user_who_exists()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var staff = await app.NewUserAsync(Roles.Staff);
        var customer = await app.NewUserAsync(Roles.Customer);

        await (await staff.Http.PutJson($"/api/users/{customer.UserId}/password", new { password = NewPassword })).ShouldBe(HttpStatusCode.Forbidden);
        await (await admin.Http.PutJson("/api/users/987654321/password", new { password = NewPassword })).ShouldBeProblem(HttpStatusCode.NotFound);
        var weak = await (await admin.Http.PutJson($"/api/users/{customer.UserId}/password", new { password = "short" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        weak.GetProperty("errors").TryGetProperty("password", out _).Should().BeTrue();
    }
}

public sealed class PasswordTestsOnSqlite(SqliteApp app) : PasswordTests(app), IClassFixture<SqliteApp>;

public sealed class PasswordTestsOnPostgres(PostgresApp app) : PasswordTests(app), IClassFixture<PostgresApp>;
