using System.Net;
using Emporium.Features.Identity;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Emporium.Tests.Features.Identity;

/// <summary>Access-token validation; nothing here depends on the database provider.</summary>
public sealed class TokenTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task An_expired_access_token_is_rejected()
    {
        var user = await app.NewUserAsync(Roles.Customer);
        // Issued an hour ago: 15 minutes of lifetime plus 30 s of skew ended long before now.
        var issuedAnHourAgo = IssuerAt(DateTimeOffset.UtcNow.AddHours(-1));
        var issuedNow = IssuerAt(DateTimeOffset.UtcNow);
        var account = await app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));

        var expired = await app.WithToken(issuedAnHourAgo.CreateAccessToken(account, [Roles.Customer])).GetAsync("/api/auth/me");
        var fresh = await app.WithToken(issuedNow.CreateAccessToken(account, [Roles.Customer])).GetAsync("/api/auth/me");

        await expired.ShouldBeProblem(HttpStatusCode.Unauthorized);
        await fresh.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_issued_after_another_process_changed_the_stamp_is_accepted_at_once()
    {
        // This process remembered the old stamp (for Auth:SessionCheckInterval, 15 s here): the newer token (a new password's pair, from another process) was refused
        // until the memory expired, and the admin UI signed its user out.
        var user = await app.NewUserAsync(Roles.Customer);
        await (await user.Http.GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        await app.WithDbAsync(db => db.Users.Where(u => u.Id == user.UserId)
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.SecurityStamp, Guid.NewGuid().ToString("N"))));
        var account = await app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));
        var newer = app.Services.GetRequiredService<TokenService>().CreateAccessToken(account, [Roles.Customer]);

        await (await app.WithToken(newer).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_rejected()
    {
        var user = await app.NewUserAsync(Roles.Customer);
        var foreignKeys = new SigningKeyProvider(
            Options.Create(new JwtOptions { SigningKey = new string('k', 48) }),
            app.Services.GetRequiredService<IOptions<Emporium.Platform.EmporiumOptions>>());
        var forger = new TokenService(app.Services.GetRequiredService<IOptions<JwtOptions>>(), foreignKeys, TimeProvider.System);

        var token = forger.CreateAccessToken(new User { Id = user.UserId, Email = user.Email }, [Roles.Admin]);

        await (await app.WithToken(token).GetAsync("/api/auth/me")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_without_a_token_is_a_401_problem()
    {
        var response = await app.Anonymous().GetAsync("/api/auth/me");

        await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_openapi_document_marks_me_and_user_management_as_needing_the_bearer_scheme()
    {
        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        var paths = document.GetProperty("paths");

        foreach (var (path, method) in new[] { ("/api/auth/me", "get"), ("/api/users", "get"), ("/api/users/{id}", "get"), ("/api/users/{id}/roles", "put") })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            operation.GetProperty("security")[0].TryGetProperty("bearer", out _).Should().BeTrue($"{method} {path} needs a token");
            operation.GetProperty("summary").GetString().Should().NotBeNullOrEmpty();
        }

        var login = paths.GetProperty("/api/auth/login").GetProperty("post").GetProperty("security");
        login.EnumerateArray().Should().ContainSingle().Which.EnumerateObject().Should().BeEmpty("signing in takes no token");
    }

    [Fact]
    public async Task A_token_from_before_stamps_of_an_admin_demoted_since_is_refused_user_management()
    {
        // Such a token carries no stamp to check, so only the account itself, read on /api/users, stops it.
        var demoted = await app.NewUserAsync(Roles.Admin);
        var admin = await app.NewUserAsync(Roles.Admin);
        await (await admin.Http.PutJson($"/api/users/{demoted.UserId}/roles", new { roles = new[] { "staff" } })).ShouldBe(HttpStatusCode.OK);
        var jwt = app.Services.GetRequiredService<IOptions<JwtOptions>>().Value;
        var legacy = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            Subject = new System.Security.Claims.ClaimsIdentity(
                [new("sub", demoted.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("email", demoted.Email), new("role", Roles.Admin)]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                app.Services.GetRequiredService<SigningKeyProvider>().Key, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });

        await (await app.WithToken(legacy).GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK); // no stamp: left to expire
        await (await app.WithToken(legacy).GetAsync("/api/users")).ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    private TokenService IssuerAt(DateTimeOffset now) => new(
        app.Services.GetRequiredService<IOptions<JwtOptions>>(),
        app.Services.GetRequiredService<SigningKeyProvider>(),
        new FixedClock(now));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
