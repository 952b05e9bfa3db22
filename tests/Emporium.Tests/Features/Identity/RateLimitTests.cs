using System.Net;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

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

        // A client that does not ask for JSON is refused the same way (no writer accepted it: the refusal became a 500).
        using var plain = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = System.Net.Http.Json.JsonContent.Create(new { }) };
        plain.Headers.Accept.ParseAdd("text/plain");
        var refused = await client.SendAsync(plain);
        await refused.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter.Should().NotBeNull();
    }
}

/// <summary>
/// Behind the proxy of deploy/compose.yaml: requests arrive from the proxy's address with the client's in X-Forwarded-For.
/// TestServer has no peer address, so each request is given the one its X-Test-Peer header names (EmporiumApp.PeerHeader).
/// </summary>
public sealed class ProxiedAuthRateLimitApp : EmporiumApp
{
    public const string Proxy = "10.1.2.3";

    public ProxiedAuthRateLimitApp()
    {
        With("RateLimiting:Auth:PermitLimit", LowAuthRateLimitApp.PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        With("Http:TrustedProxies", "10.1.0.0/16");
    }

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override string ConnectionString => $"Data Source={Path.Combine(DataDirectory, "emporium.db")}";
}

public sealed class ProxiedRateLimitTests(ProxiedAuthRateLimitApp app) : IClassFixture<ProxiedAuthRateLimitApp>
{
    [Fact]
    public async Task Clients_behind_a_trusted_proxy_each_get_their_own_limit_and_others_cannot_claim_an_address()
    {
        HttpClient Client(string peer, string? forwardedFor)
        {
            var client = app.Anonymous();
            client.DefaultRequestHeaders.Add("X-Test-Peer", peer);
            if (forwardedFor is not null)
            {
                client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
            }

            return client;
        }

        var first = Client(ProxiedAuthRateLimitApp.Proxy, "203.0.113.1");
        for (var i = 0; i < LowAuthRateLimitApp.PermitLimit; i++)
        {
            await (await first.PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        await (await first.PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.TooManyRequests);
        await (await Client(ProxiedAuthRateLimitApp.Proxy, "203.0.113.2").PostJson("/api/auth/login", new { }))
            .ShouldBeProblem(HttpStatusCode.BadRequest); // another client behind the same proxy has a window of its own

        // A direct client is not a trusted proxy: its X-Forwarded-For is ignored, so it cannot pass for a fresh address.
        var direct = Client("198.51.100.7", "203.0.113.3");
        for (var i = 0; i < LowAuthRateLimitApp.PermitLimit; i++)
        {
            await (await direct.PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        await (await Client("198.51.100.7", "203.0.113.4").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task A_client_past_the_limit_can_still_ask_who_it_is_and_sign_out()
    {
        var user = await app.NewUserAsync(Emporium.Platform.Security.Roles.Customer);
        user.Http.DefaultRequestHeaders.Add("X-Test-Peer", "198.51.100.50");
        for (var i = 0; i <= LowAuthRateLimitApp.PermitLimit; i++)
        {
            await user.Http.PostJson("/api/auth/login", new { });
        }

        await (await user.Http.PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.TooManyRequests);
        await (await user.Http.GetAsync("/api/auth/me")).ShouldBe(HttpStatusCode.OK);
        await (await user.Http.PostJson("/api/auth/logout", new { refresh_token = "one the user held" })).ShouldBe(HttpStatusCode.NoContent);
        await (await user.Http.PostAsync("/api/auth/logout-all", null)).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Behind_a_CDN_and_a_proxy_each_client_has_its_own_limit_and_cannot_claim_another_address()
    {
        // The CDN (10.1.9.9) appends the client's address to what the client sent, nginx (the peer) appends the CDN's.
        HttpClient Through(string forwardedFor)
        {
            var client = app.Anonymous();
            client.DefaultRequestHeaders.Add("X-Test-Peer", ProxiedAuthRateLimitApp.Proxy);
            client.DefaultRequestHeaders.Add("X-Forwarded-For", $"{forwardedFor}, 10.1.9.9");
            return client;
        }

        for (var i = 0; i < LowAuthRateLimitApp.PermitLimit; i++)
        {
            await (await Through($"192.0.2.{i + 1}, 203.0.113.20").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        await (await Through("192.0.2.99, 203.0.113.20").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.TooManyRequests);
        await (await Through("203.0.113.21").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_IPv6_client_cannot_get_fresh_windows_by_changing_addresses_within_its_64()
    {
        HttpClient From(string peer)
        {
            var client = app.Anonymous();
            client.DefaultRequestHeaders.Add("X-Test-Peer", peer);
            return client;
        }

        for (var i = 0; i < LowAuthRateLimitApp.PermitLimit; i++)
        {
            await (await From($"2001:db8:1:2::{i + 1:x}").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest);
        }

        await (await From("2001:db8:1:2:ffff::9").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.TooManyRequests);
        await (await From("2001:db8:1:3::1").PostJson("/api/auth/login", new { })).ShouldBeProblem(HttpStatusCode.BadRequest); // another /64
    }
}
