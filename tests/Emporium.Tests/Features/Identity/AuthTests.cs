using System.Buffers.Binary;
using System.Net;
using Emporium.Features.Identity;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Identity;

public abstract class AuthTests(EmporiumApp app)
{
    [Fact]
    public async Task Register_login_and_me_round_trip_as_a_customer()
    {
        var email = AuthApi.NewEmail();

        var created = await app.RegisterAsync(email);
        created.Str("email").Should().Be(email);
        created.Strings("roles").Should().Equal(Roles.Customer);
        created.GetProperty("created_at").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        var tokens = await app.LoginAsync(email);
        tokens.Str("token_type").Should().Be("Bearer");
        tokens.GetProperty("expires_in").GetInt32().Should().Be(15 * 60);
        tokens.Str("refresh_token").Should().NotBeNullOrEmpty();
        AuthApi.RolesIn(tokens.Str("access_token")).Should().Equal(Roles.Customer);

        var me = await (await app.WithToken(tokens.Str("access_token")).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        me.GetProperty("id").GetInt64().Should().Be(created.GetProperty("id").GetInt64());
        me.Str("email").Should().Be(email);
        me.Strings("roles").Should().Equal(Roles.Customer);
    }

    [Fact]
    public async Task Login_accepts_the_email_in_another_case()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);

        await app.LoginAsync(email.ToUpperInvariant());
    }

    [Fact]
    public async Task Register_returns_409_when_the_email_exists_in_another_case()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);

        var response = await app.Anonymous().PostJson("/api/auth/register", new { email = email.ToUpperInvariant(), password = AuthApi.Password });

        await response.ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Register_returns_400_with_the_password_policy_message_for_a_short_password()
    {
        var response = await app.Anonymous().PostJson("/api/auth/register", new { email = AuthApi.NewEmail(), password = "short" });

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").Strings("password").Should().ContainSingle()
            .Which.Should().Contain("at least 10 characters");
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("Someone <someone@example.com>")]
    [InlineData("")]
    public async Task Register_returns_400_for_an_invalid_email(string email)
    {
        var response = await app.Anonymous().PostJson("/api/auth/register", new { email, password = AuthApi.Password });

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Register_accepts_an_email_with_characters_outside_the_default_user_name_set()
    {
        var email = $"o'brien+{Guid.NewGuid():N}@example.com";

        var created = await app.RegisterAsync(email);

        created.Str("email").Should().Be(email);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_email_get_the_same_generic_401()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);

        var wrongPassword = await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = "not the password at all" }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized);
        var unknownEmail = await (await app.Anonymous().PostJson("/api/auth/login", new { email = AuthApi.NewEmail(), password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized);

        wrongPassword.Str("detail").Should().Be(unknownEmail.Str("detail"));
    }

    [Fact]
    public async Task Login_returns_400_when_fields_are_missing()
    {
        var problem = await (await app.Anonymous().PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
        problem.GetProperty("errors").TryGetProperty("password", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Five_failed_logins_lock_that_address_out_of_the_account_reading_as_for_an_unknown_email_while_its_owner_signs_in_elsewhere()
    {
        // Identity's lockout was per account: anyone who knew an address could keep its owner out, five guesses at a time.
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var guesser = app.AnonymousFrom("203.0.113.10");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await (await guesser.PostJson("/api/auth/login", new { email, password = $"wrong password {attempt}" }))
                .ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        var locked = await guesser.PostJson("/api/auth/login", new { email, password = AuthApi.Password });
        var unknown = await guesser.PostJson("/api/auth/login", new { email = AuthApi.NewEmail(), password = AuthApi.Password });

        var lockedProblem = await locked.ShouldBeProblem(HttpStatusCode.Unauthorized); // the right password from the guessing address is refused
        var unknownProblem = await unknown.ShouldBeProblem(HttpStatusCode.Unauthorized);
        lockedProblem.Str("detail").Should().Be(unknownProblem.Str("detail"));
        lockedProblem.Str("title").Should().Be(unknownProblem.Str("title"));
        locked.Headers.Select(h => h.Key).Order().Should().Equal(unknown.Headers.Select(h => h.Key).Order(), "no header (Retry-After) gives the lock away");
        await (await app.AnonymousFrom("198.51.100.20").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBe(HttpStatusCode.OK); // the owner, from another address, is not locked out by a stranger's guesses
        var user = await app.WithDbAsync(db => db.Users.SingleAsync(u => u.Email == email));
        user.LockoutEnd.Should().BeNull("the account itself is not locked");
    }

    [Fact]
    public async Task Wrong_passwords_sent_at_once_each_count_towards_the_lockout()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var guesser = app.AnonymousFrom("203.0.113.11");

        var answers = await Task.WhenAll(Enumerable.Range(1, 5).Select(attempt =>
            guesser.PostJson("/api/auth/login", new { email, password = $"wrong password {attempt}" })));

        answers.Should().OnlyContain(a => a.StatusCode == HttpStatusCode.Unauthorized);
        await (await guesser.PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized); // five failures at once are five failures, which lock the address out
    }

    [Fact]
    public async Task Addresses_of_one_IPv6_network_share_a_lockout()
    {
        // An IPv6 client holds a /64 and picks any address in it: counting addresses would give it billions of fresh tries.
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await (await app.AnonymousFrom($"2001:db8:7:1::{attempt:x}").PostJson("/api/auth/login", new { email, password = "wrong password!" }))
                .ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        await (await app.AnonymousFrom("2001:db8:7:1::ffff").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.AnonymousFrom("2001:db8:7:2::1").PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBe(HttpStatusCode.OK); // another network is another client
    }

    [Fact]
    public async Task An_admins_unlock_ends_the_lockout_of_every_address()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var owner = app.AnonymousFrom("203.0.113.12");
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await (await owner.PostJson("/api/auth/login", new { email, password = "forgot it again" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        await (await owner.PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        var id = await app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());
        var admin = await app.NewUserAsync(Roles.Admin);
        await (await admin.Http.PostAsync($"/api/users/{id}/unlock", null)).ShouldBe(HttpStatusCode.OK);

        await (await owner.PostJson("/api/auth/login", new { email, password = AuthApi.Password })).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_successful_login_resets_the_failure_count()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        for (var round = 0; round < 2; round++)
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = "wrong password!" }))
                    .ShouldBeProblem(HttpStatusCode.Unauthorized);
            }

            await app.LoginAsync(email);
        }
    }

    [Fact]
    public async Task Stored_password_hash_uses_pbkdf2_with_210000_iterations()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);

        var hash = await app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.PasswordHash).SingleAsync());

        // Identity v3 format: 0x01, PRF (uint32 BE), iteration count (uint32 BE), salt length, salt, subkey.
        var bytes = Convert.FromBase64String(hash!);
        bytes[0].Should().Be(0x01);
        BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1, 4)).Should().Be(2, "PRF 2 is HMAC-SHA512");
        BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5, 4)).Should().Be(210_000);
    }

    [Fact]
    public async Task The_configured_admin_can_log_in_and_has_the_admin_role()
    {
        var tokens = await app.LoginAsync(EmporiumApp.AdminEmail, EmporiumApp.AdminPassword);

        AuthApi.RolesIn(tokens.Str("access_token")).Should().Contain(Roles.Admin);
        var me = await (await app.WithToken(tokens.Str("access_token")).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        me.Strings("roles").Should().Contain(Roles.Admin);
    }

    /// <summary>
    /// An expired or otherwise invalid bearer token on a public route is refused with 401 and invalid_token (RFC 6750), so a
    /// staff client refreshes instead of being served the anonymous answer (a list without the inactive products).
    /// </summary>
    [Fact]
    public async Task An_invalid_token_on_a_public_route_is_a_401_telling_the_client_to_refresh_not_an_anonymous_answer()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var tokens = await app.LoginAsync(email);
        var spoiled = tokens.Str("access_token")[..^4] + "AAAA";
        var stale = app.WithToken(spoiled);

        var refused = await stale.GetAsync("/api/products");
        var problem = await refused.ShouldBeProblem(HttpStatusCode.Unauthorized);
        refused.Headers.WwwAuthenticate.ToString().Should().Contain("invalid_token");
        problem.GetProperty("status").GetInt32().Should().Be(401);
        await (await app.Anonymous().GetAsync("/api/products")).ShouldBe(HttpStatusCode.OK);
        await (await app.WithToken(tokens.Str("access_token")).GetAsync("/api/products")).ShouldBe(HttpStatusCode.OK);

        // Refreshing works whatever stale token the client still sends along.
        var refresh = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh") { Content = System.Net.Http.Json.JsonContent.Create(new { refresh_token = tokens.Str("refresh_token") }) };
        await (await stale.SendAsync(refresh)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_rotates_the_token_so_the_old_one_stops_working_and_the_new_one_works()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var first = await app.LoginAsync(email);

        var second = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        second.Str("refresh_token").Should().NotBe(first.Str("refresh_token"));
        await (await app.WithToken(second.Str("access_token")).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        await (await app.RefreshAsync(second.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_refresh_whose_answer_was_lost_can_be_sent_again_and_the_pair_it_lost_stops_working()
    {
        // The rotation committed, but a proxy's 502 or a dropped connection lost the answer: the client still holds the old
        // token. Within Auth:RefreshReuseGrace, with the lost successor never used, that is not a theft.
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var first = await app.LoginAsync(email);
        var lost = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        var again = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        again.Str("refresh_token").Should().NotBe(lost.Str("refresh_token"));
        await (await app.RefreshAsync(again.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        // The lost one turning up later is a theft after all: the whole login is signed out.
        await (await app.RefreshAsync(lost.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(again.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_rotated_token_presented_again_after_the_grace_is_a_theft()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var first = await app.LoginAsync(email);
        var second = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        var hash = RefreshTokenStore.Hash(first.Str("refresh_token"));
        await app.WithDbAsync(db => db.Set<RefreshToken>().Where(t => t.TokenHash == hash)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, DateTime.UtcNow.AddMinutes(-1))));

        await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(second.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_login_ends_after_the_session_lifetime_however_often_its_token_is_rotated()
    {
        // Each rotation gave a fresh 14 days: a stolen token its owner never presented again kept the session for ever.
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var nearTheEnd = await app.LoginAsync(email);
        var pastTheEnd = await app.LoginAsync(email);
        async Task SignedInAgo(System.Text.Json.JsonElement pair, TimeSpan ago)
        {
            var hash = RefreshTokenStore.Hash(pair.Str("refresh_token"));
            var at = DateTime.UtcNow - ago;
            await app.WithDbAsync(db => db.Set<RefreshToken>().Where(t => t.TokenHash == hash)
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.SignedInAt, at)));
        }

        await SignedInAgo(nearTheEnd, TimeSpan.FromDays(90) - TimeSpan.FromHours(1));
        await SignedInAgo(pastTheEnd, TimeSpan.FromDays(90) + TimeSpan.FromMinutes(1));

        var rotated = await (await app.RefreshAsync(nearTheEnd.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        var rotatedHash = RefreshTokenStore.Hash(rotated.Str("refresh_token"));
        var expires = await app.WithDbAsync(db => db.Set<RefreshToken>().Where(t => t.TokenHash == rotatedHash).Select(t => t.ExpiresAt).SingleAsync());
        expires.Should().BeBefore(DateTime.UtcNow.AddMinutes(61), "the rotated token lives to the login's end, an hour away, not 14 more days");
        var ended = await (await app.RefreshAsync(pastTheEnd.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        ended.Str("detail").Should().Contain("expired");
    }

    [Fact]
    public async Task Reusing_a_rotated_token_revokes_the_whole_family_including_the_newest_token()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var first = await app.LoginAsync(email);
        var second = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        var third = await (await app.RefreshAsync(second.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        var reuse = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        reuse.Str("detail").Should().Contain("already used");

        await (await app.RefreshAsync(third.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Reuse_revokes_only_that_login_and_not_the_users_other_sessions()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var phone = await app.LoginAsync(email);
        var laptop = await app.LoginAsync(email);
        var rotated = await (await app.RefreshAsync(phone.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        await (await app.RefreshAsync(rotated.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        await (await app.RefreshAsync(phone.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);

        await (await app.RefreshAsync(laptop.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_returns_401_for_an_unknown_token()
    {
        await (await app.RefreshAsync("not-a-token-we-issued")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_returns_401_for_an_expired_token()
    {
        var email = AuthApi.NewEmail();
        var user = await app.RegisterAsync(email);
        var value = $"expired-{Guid.NewGuid():N}";
        await app.WithDbAsync(async db =>
        {
            db.Add(new RefreshToken
            {
                UserId = user.GetProperty("id").GetInt64(),
                TokenHash = RefreshTokenStore.Hash(value),
                FamilyId = Guid.NewGuid(),
                CreatedAt = DateTime.UtcNow.AddDays(-30),
                ExpiresAt = DateTime.UtcNow.AddMinutes(-1),
            });
            return await db.SaveChangesAsync();
        });

        await (await app.RefreshAsync(value)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_returns_400_without_a_token()
    {
        var problem = await (await app.Anonymous().PostJson("/api/auth/refresh", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("refresh_token", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Logout_revokes_the_refresh_token_and_its_family()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var first = await app.LoginAsync(email);
        var second = await (await app.RefreshAsync(first.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);

        await (await app.Anonymous().PostJson("/api/auth/logout", new { refresh_token = second.Str("refresh_token") }))
            .ShouldBe(HttpStatusCode.NoContent);

        await (await app.RefreshAsync(second.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_is_idempotent_for_revoked_and_unknown_tokens()
    {
        var email = AuthApi.NewEmail();
        await app.RegisterAsync(email);
        var tokens = await app.LoginAsync(email);
        var logout = new { refresh_token = tokens.Str("refresh_token") };

        await (await app.Anonymous().PostJson("/api/auth/logout", logout)).ShouldBe(HttpStatusCode.NoContent);
        await (await app.Anonymous().PostJson("/api/auth/logout", logout)).ShouldBe(HttpStatusCode.NoContent);
        await (await app.Anonymous().PostJson("/api/auth/logout", new { refresh_token = "never-issued" })).ShouldBe(HttpStatusCode.NoContent);
    }
}

public sealed class AuthTestsOnSqlite(SqliteApp app) : AuthTests(app), IClassFixture<SqliteApp>;

public sealed class AuthTestsOnPostgres(PostgresApp app) : AuthTests(app), IClassFixture<PostgresApp>;
