using System.Net;
using Emporium.Features.Webhooks;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>SSRF protection with production settings (Webhooks:AllowPrivateNetworks=false), at save time and at connect time.</summary>
public sealed class WebhookSsrfTests(StrictWebhookApp app) : IClassFixture<StrictWebhookApp>
{
    [Theory]
    [InlineData("http://127.0.0.1/hook", "loopback")]
    [InlineData("http://2130706433/hook", "loopback")]
    [InlineData("http://0x7f.0.0.1/hook", "loopback")]
    [InlineData("http://0177.0.0.1/hook", "loopback")]
    [InlineData("http://127.1:8080/hook", "loopback")]
    [InlineData("http://localhost:8080/hook", "loopback")]
    [InlineData("http://[::1]/hook", "loopback")]
    [InlineData("http://[::ffff:127.0.0.1]/hook", "loopback")]
    [InlineData("http://[64:ff9b::7f00:1]/hook", "loopback")]
    [InlineData("http://[fd00::1]/hook", "unique-local")]
    [InlineData("http://[fe80::1]/hook", "link-local")]
    [InlineData("https://10.1.2.3/hook", "private")]
    [InlineData("https://172.20.0.5/hook", "private")]
    [InlineData("https://192.168.0.10/hook", "private")]
    [InlineData("https://100.64.1.1/hook", "carrier-grade NAT")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "cloud metadata endpoint")]
    [InlineData("http://0.0.0.0/hook", "unspecified")]
    [InlineData("http://224.0.0.1/hook", "multicast")]
    public async Task Saving_a_url_whose_host_is_a_blocked_address_in_any_spelling_is_a_400(string url, string kind)
    {
        var staff = await app.StaffAsync();

        var problem = await (await staff.PostJson("/api/webhooks", new { url, event_types = new[] { "*" } })).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().StartWith("blocked address").And.Contain(kind);
    }

    [Fact]
    public async Task A_public_address_is_accepted()
    {
        var created = await (await app.StaffAsync()).SubscribeAsync("https://93.184.215.14/hook");

        created.Str("url").Should().Be("https://93.184.215.14/hook");
    }

    [Fact]
    public async Task Changing_the_url_to_a_blocked_address_is_a_400()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync("https://93.184.215.14/hook")).Id();

        var problem = await (await staff.PatchJson($"/api/webhooks/{id}", new { url = "http://[::ffff:10.0.0.1]/" })).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain("blocked address");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("2130706433")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("[::ffff:127.0.0.1]")]
    [InlineData("localhost")]
    public async Task A_subscription_saved_while_private_networks_were_allowed_reaches_nothing_at_connect_time(string host)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var now = DateTime.UtcNow;
        var subscription = new WebhookSubscription
        {
            Url = $"http://{host}:{receiver.BaseUri.Port}/hook",
            Secret = WebhookSignature.NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await app.WithDbAsync(async db =>
        {
            db.Add(subscription);
            return await db.SaveChangesAsync();
        });

        var result = await (await (await app.StaffAsync()).PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.Str("failure").Should().Be("blocked_address");
        result.Str("error").Should().StartWith("blocked address").And.Contain("loopback");
        receiver.Received.Should().BeEmpty();
    }

    [Fact]
    public async Task Http_is_refused_when_Webhooks_AllowHttp_is_off()
    {
        using var strict = new HttpsOnlyWebhookApp();
        var staff = await strict.StaffAsync();

        var problem = await (await staff.PostJson("/api/webhooks", new { url = "http://93.184.215.14/hook", event_types = new[] { "*" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain("https");
    }

    private sealed class HttpsOnlyWebhookApp : SqliteApp;
}
