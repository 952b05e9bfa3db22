using System.Net;
using System.Text.Json;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>POST /api/webhooks/{id}/test against a real receiver on loopback, checked with the receiver's own verifier.</summary>
public sealed class WebhookPingTests(WebhookSqliteApp app) : IClassFixture<WebhookSqliteApp>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private static string UniquePath() => $"/hook-{Guid.NewGuid():N}";

    private List<ReceivedWebhook> At(string path) => _receiver.Received.Where(r => r.Path == path).ToList();

    [Fact]
    public async Task A_ping_reaches_the_receiver_signed_with_the_subscription_secret_and_reports_its_answer()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var created = await staff.SubscribeAsync(_receiver.Url(path).ToString());
        _receiver.Respond = async (request, context) =>
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            await context.Response.WriteAsync("thanks");
        };

        var result = await (await staff.PostAsync($"/api/webhooks/{created.Id()}/test", null)).ShouldBe(HttpStatusCode.OK);

        var received = At(path).Should().ContainSingle().Subject;
        received.IsSignedWith(created.Str("secret")).Should().BeTrue();
        received.Signature!.Split(' ').Should().ContainSingle();
        received.Id.Should().Be(result.Str("webhook_id")).And.StartWith("evt_");
        using var body = JsonDocument.Parse(received.Body);
        body.RootElement.Str("id").Should().Be(received.Id);
        body.RootElement.Str("type").Should().Be("ping");
        body.RootElement.GetProperty("timestamp").GetDateTime().Should().BeCloseTo(DateTime.UtcNow, TimeSpan.FromMinutes(1));
        body.RootElement.GetProperty("data").GetProperty("webhook_id").GetInt64().Should().Be(created.Id());
        received.Headers["content-type"].Should().StartWith("application/json");
        result.GetProperty("succeeded").GetBoolean().Should().BeTrue();
        result.GetProperty("status_code").GetInt32().Should().Be(202);
        result.Str("response_body").Should().Be("thanks");
        result.GetProperty("duration_ms").GetInt64().Should().BeGreaterThanOrEqualTo(0);
        result.GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);
        result.GetProperty("failure").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Every_ping_has_a_fresh_webhook_id()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();

        await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);
        await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        At(path).Select(r => r.Id).Should().OnlyHaveUniqueItems().And.HaveCount(2);
    }

    [Theory]
    [InlineData("2130706433")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("0177.0.0.1")]
    public async Task A_numeric_spelling_of_an_address_reaches_the_address_that_was_checked(string host)
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync($"http://{host}:{_receiver.BaseUri.Port}{path}")).Id();

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeTrue("the receiver answered 200 before it hung up");
        At(path).Should().ContainSingle();
    }

    [Fact]
    public async Task A_500_is_reported_with_the_receivers_body()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();
        _receiver.Respond = async (request, context) =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync(new string('x', 10_000));
        };

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.GetProperty("status_code").GetInt32().Should().Be(500);
        result.Str("failure").Should().Be("status");
        result.Str("error").Should().Be("HTTP 500");
        result.Str("response_body").Should().HaveLength(4096, "only the first 4 KB are kept");
    }

    [Fact]
    public async Task Pings_beyond_the_per_user_limit_answer_429_with_Retry_After_and_send_nothing()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();

        for (var i = 0; i < 10; i++)
        {
            await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);
        }

        var refused = await staff.PostAsync($"/api/webhooks/{id}/test", null);
        refused.Headers.RetryAfter.Should().NotBeNull();
        await refused.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        At(path).Should().HaveCount(10, "the refused ping is not sent");
        var colleague = await app.StaffAsync();
        await (await colleague.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK); // the limit is per user
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_response_body_cut_short_or_stalled_past_the_timeout_keeps_the_status_the_receiver_answered(bool stalls)
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();
        _receiver.Respond = async (request, context) =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentLength = 1000;
            await context.Response.WriteAsync("only the start");
            await context.Response.Body.FlushAsync();
            // Long enough for the sender to read the status and the start of the body; then hang up, or stall past
            // Webhooks:Timeout.
            await Task.Delay(stalls ? TimeSpan.FromSeconds(10) : TimeSpan.FromMilliseconds(300), context.RequestAborted)
                .ContinueWith(_ => { }, TaskScheduler.Default);
            context.Abort();
        };

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeTrue("the receiver answered 200 before its body stopped");
        result.GetProperty("status_code").GetInt32().Should().Be(200);
        result.Str("response_body").Should().Be("only the start");
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_counts_as_a_failure()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var target = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();
        _receiver.Respond = (request, context) =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = _receiver.Url(target).ToString();
            return Task.CompletedTask;
        };

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.GetProperty("status_code").GetInt32().Should().Be(302);
        result.Str("error").Should().Contain("redirects are not followed");
        At(path).Should().ContainSingle();
        At(target).Should().BeEmpty();
    }

    [Fact]
    public async Task A_receiver_slower_than_Webhooks_Timeout_is_reported_as_a_timeout()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var id = (await staff.SubscribeAsync(_receiver.Url(path).ToString())).Id();
        _receiver.Respond = async (request, context) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        };

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.GetProperty("status_code").ValueKind.Should().Be(JsonValueKind.Null);
        result.Str("failure").Should().Be("timeout");
        result.Str("error").Should().StartWith("timeout");
    }

    [Fact]
    public async Task A_refused_connection_is_reported_not_raised()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync($"http://127.0.0.1:{WebhookTestKit.ClosedPort()}/hook")).Id();

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.Str("failure").Should().Be("connection");
        result.Str("error").Should().Be("connection refused");
    }

    [Fact]
    public async Task During_a_rotation_overlap_both_secrets_sign_and_after_it_only_the_new_one()
    {
        var staff = await app.StaffAsync();
        var path = UniquePath();
        var created = await staff.SubscribeAsync(_receiver.Url(path).ToString());
        var id = created.Id();
        var oldSecret = created.Str("secret");

        var rotated = await (await staff.PostJson($"/api/webhooks/{id}/rotate_secret", new { overlap_seconds = 2 })).ShouldBe(HttpStatusCode.OK);
        var newSecret = rotated.Str("secret");
        await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);
        var expires = rotated.GetProperty("previous_secret_expires_at").GetDateTime();
        await Task.Delay(expires - DateTime.UtcNow + TimeSpan.FromMilliseconds(300));
        await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        var (during, after) = (At(path)[0], At(path)[1]);
        during.Signature!.Split(' ').Should().HaveCount(2);
        during.IsSignedWith(newSecret).Should().BeTrue();
        during.IsSignedWith(oldSecret).Should().BeTrue();
        after.Signature!.Split(' ').Should().ContainSingle();
        after.IsSignedWith(newSecret).Should().BeTrue();
        after.IsSignedWith(oldSecret).Should().BeFalse();
    }
}

/// <summary>A Webhooks:Timeout longer than the outbound handler's 10 s connect timeout.</summary>
public sealed class WebhookLongTimeoutApp : SqliteApp
{
    public WebhookLongTimeoutApp()
    {
        WebhookTestKit.AllowLoopback(this);
        With("Webhooks:Timeout", "00:00:30");
    }
}

public sealed class WebhookConnectTimeoutTests(WebhookLongTimeoutApp app) : IClassFixture<WebhookLongTimeoutApp>
{
    [Fact]
    public async Task A_receiver_that_never_completes_the_TLS_handshake_is_a_timeout_not_a_500()
    {
        // The handler's connect timeout (DNS, TCP and TLS) ends first, with a cancellation the sender did not ask for: the
        // test ping answered 500, and deliveries logged an error for each attempt.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await listener.AcceptTcpClientAsync(stop.Token)); // and never answers the ClientHello
            }
        });
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/hook")).Id();

        var result = await (await staff.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBe(HttpStatusCode.OK);

        result.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        result.Str("failure").Should().Be("timeout");
        result.Str("error").Should().Contain("connect timeout");
        await stop.CancelAsync();
        await accepting.ContinueWith(_ => { });
        held.ForEach(client => client.Dispose());
    }
}
