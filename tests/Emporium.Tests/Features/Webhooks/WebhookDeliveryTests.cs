using System.Net;
using System.Text;
using System.Text.Json;
using Emporium.Features.Events;
using Emporium.Features.Webhooks;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>Delivery to a real loopback receiver: signing, retries, Retry-After, 410, auto-disable, the log, retry and recover.</summary>
public abstract class WebhookDeliveryTests(EmporiumApp app)
{
    [Fact]
    public async Task A_delivery_is_signed_by_the_standard_webhooks_rule_and_carries_the_event_envelope()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        var eventId = (await app.WriteEventsAsync()).Single();
        var request = (await receiver.WaitForAsync(r => r.Count >= 1)).Single();

        request.Id.Should().Be(eventId, "webhook-id is the event id");
        request.IsSignedWith(subscription.Secret).Should().BeTrue("the independent verifier accepts the signature");
        request.IsSignedWith(WebhookSignature.NewSecret()).Should().BeFalse();
        request.Headers["content-type"].Should().StartWith("application/json");
        var events = await (await staff.GetAsync("/api/events?page_size=100")).ShouldBe(HttpStatusCode.OK);
        var listed = events.GetProperty("results").EnumerateArray().Single(e => e.Str("id") == eventId);
        JsonDocument.Parse(request.Body).RootElement.GetRawText().Should().Be(listed.GetRawText(), "the body is the envelope GET /api/events shows");

        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED")).Single();
        delivery.Str("event_id").Should().Be(eventId);
        delivery.Str("event_type").Should().Be(EventTypes.ProductUpdated);
        var attempt = delivery.GetProperty("attempts").EnumerateArray().Single();
        attempt.Str("id").Should().Be(request.Header(WebhookSender.AttemptIdHeader));
        attempt.GetProperty("status_code").GetInt32().Should().Be(200);
        attempt.GetProperty("failure").ValueKind.Should().Be(JsonValueKind.Null);
        attempt.GetProperty("duration_ms").GetInt32().Should().BeGreaterThanOrEqualTo(0);
    }

    [Fact]
    public async Task During_a_secret_rotation_both_the_old_and_the_new_secret_verify()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await app.SubscribeAsync(receiver.Url());
        var previous = WebhookSignature.NewSecret();
        await app.WithDbAsync(db => db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.PreviousSecret, previous)
            .SetProperty(s => s.PreviousSecretExpiresAt, DateTime.UtcNow.AddHours(1))));

        await app.WriteEventsAsync();
        var request = (await receiver.WaitForAsync(r => r.Count >= 1)).Single();

        request.Signature!.Split(' ').Should().HaveCount(2);
        request.IsSignedWith(subscription.Secret).Should().BeTrue();
        request.IsSignedWith(previous).Should().BeTrue();
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_with_the_same_webhook_id_and_body_and_a_new_attempt_id_until_it_succeeds()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var calls = 0;
        receiver.Respond = async (_, context) =>
        {
            var failing = Interlocked.Increment(ref calls) <= 2;
            context.Response.StatusCode = failing ? 500 : 200;
            await context.Response.WriteAsync(failing ? "database on fire" : "thanks");
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var requests = await receiver.WaitForAsync(r => r.Count >= 3);
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED")).Single();

        requests.Should().HaveCount(3);
        requests.Select(r => r.Id).Distinct().Should().ContainSingle();
        requests.Select(r => r.Body).Distinct().Should().ContainSingle("every retry carries the same bytes");
        requests.Should().OnlyContain(r => r.IsSignedWith(subscription.Secret));
        requests.Select(r => r.Header(WebhookSender.AttemptIdHeader)).Should().OnlyHaveUniqueItems();
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        attempts.Select(a => a.GetProperty("status_code").GetInt32()).Should().Equal(500, 500, 200);
        attempts[0].Str("response_body").Should().Be("database on fire");
        attempts[0].Str("error").Should().Be("HTTP 500");
        attempts.Select(a => a.Str("id")).Should().Equal(requests.Select(r => r.Header(WebhookSender.AttemptIdHeader)));
        (await app.SubscriptionRowAsync(subscription.Id)).FailingSince.Should().BeNull("a success clears the failing streak");
    }

    [Fact]
    public async Task A_response_body_holding_NUL_bytes_is_recorded_and_the_delivery_succeeds_once()
    {
        // A UTF-16 or binary answer: PostgreSQL's jsonb refuses \u0000, and the outcome's batch failed to record, so the
        // delivery was sent again at every lease, with every other outcome of its batch.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = async (_, context) =>
        {
            context.Response.StatusCode = 200;
            await context.Response.Body.WriteAsync(Encoding.Unicode.GetBytes("OK"));
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED")).Single();

        delivery.GetProperty("attempts").EnumerateArray().Single().Str("response_body").Should().Be("O\uFFFDK\uFFFD");
        receiver.Received.Should().ContainSingle();
    }

    [Fact]
    public async Task A_malformed_answer_holding_NUL_bytes_is_recorded_as_a_failed_attempt()
    {
        // HttpClient quotes the bad header line, NUL and all, in its error: PostgreSQL's jsonb refused the outcome's whole
        // batch, so the delivery (and every other of its batch) stayed SENDING and was sent again at every lease.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                _ = await stream.ReadAsync(new byte[65536], stop.Token); // the request, or enough of it: any answer will do
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nX\0Y\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), stop.Token);
            }
        });
        var subscription = await app.SubscribeAsync(new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/hook"));
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();

        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        attempts.Should().HaveCount(4).And.OnlyContain(a => a.Str("failure") == "connection");
        attempts[0].Str("error").Should().Contain("\uFFFD").And.NotContain("\0");
        await stop.CancelAsync();
        await answering.ContinueWith(_ => { });
    }

    [Fact]
    public async Task A_redirect_is_a_failed_attempt_that_is_not_followed_and_the_delivery_fails_after_the_schedule()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (request, context) =>
        {
            context.Response.StatusCode = request.Path == "/hook" ? 302 : 200;
            context.Response.Headers.Location = receiver.Url("/elsewhere").ToString();
            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();

        receiver.Received.Should().HaveCount(4, "one attempt plus three retries on the test schedule").And.OnlyContain(r => r.Path == "/hook");
        delivery.GetProperty("attempt_count").GetInt32().Should().Be(4);
        delivery.Str("last_error").Should().StartWith("gave up after 4 attempts");
        delivery.GetProperty("attempts").EnumerateArray().Should().OnlyContain(a => a.Str("failure") == "status" && a.GetProperty("status_code").GetInt32() == 302);
        (await app.SubscriptionRowAsync(subscription.Id)).FailingSince.Should().NotBeNull();
    }

    [Fact]
    public async Task A_receiver_that_answers_after_the_timeout_is_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var calls = 0;
        receiver.Respond = async (_, context) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                // Longer than Webhooks:Timeout, however long that is: until the sender gives up.
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
            }

            context.Response.StatusCode = 200;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED")).Single();

        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        attempts.Should().HaveCount(2);
        attempts[0].Str("failure").Should().Be("timeout");
        attempts[0].GetProperty("status_code").ValueKind.Should().Be(JsonValueKind.Null);
        attempts[1].GetProperty("status_code").GetInt32().Should().Be(200);
    }

    [Fact]
    public async Task Retry_After_on_429_is_honoured_instead_of_the_schedule()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var calls = 0;
        receiver.Respond = (_, context) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "2";
            }
            else
            {
                context.Response.StatusCode = 204;
            }

            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var requests = await receiver.WaitForAsync(r => r.Count >= 2);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED");

        (requests[1].ReceivedAt - requests[0].ReceivedAt).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9),
            "the receiver asked for 2 s; the schedule alone would retry after 0.2 s");
    }

    [Fact]
    public async Task A_Retry_After_too_large_to_parse_waits_Webhooks_MaxRetryAfter_not_the_schedule()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, context) =>
        {
            context.Response.StatusCode = 503;
            context.Response.Headers.RetryAfter = "99999999999";
            return Task.CompletedTask;
        };
        var wait = await app.FirstRetryWaitAsync(receiver);

        var longest = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhooksOptions>>().Value.MaxRetryAfter;
        wait.Should().BeCloseTo(longest, TimeSpan.FromSeconds(5), "the receiver asked for more than the longest wait");
        receiver.Received.Should().ContainSingle();
    }

    [Fact]
    public async Task A_410_Gone_disables_the_subscription_and_fails_its_waiting_deliveries_unsent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, context) =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync(20);
        var deliveries = await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 20 && d.All(x => x.Status() == "FAILED"));

        var row = await app.SubscriptionRowAsync(subscription.Id);
        row.IsActive.Should().BeFalse();
        row.DisabledReason.Should().Be("receiver answered 410 Gone");
        var sent = receiver.Received.Count;
        var perSubscription = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhooksOptions>>().Value.MaxConcurrencyPerSubscription;
        sent.Should().BeLessThanOrEqualTo(perSubscription, "at most the per-subscription concurrency was in flight when the 410 came");
        deliveries.Where(d => d.GetProperty("attempt_count").GetInt32() == 0).Should().NotBeEmpty()
            .And.OnlyContain(d => d.Str("last_error").Contains("the subscription is disabled (receiver answered 410 Gone)"));
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(sent, "nothing more is sent to a disabled subscription");
    }

    [Fact]
    public async Task A_subscription_failing_for_longer_than_DisableAfter_is_disabled_at_its_next_failure_and_says_why()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, context) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        // Failing since six days: longer than the default Webhooks:DisableAfter of five.
        await app.WithDbAsync(db => db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(s => s.FailingSince, DateTime.UtcNow.AddDays(-6))));
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();

        var row = await app.SubscriptionRowAsync(subscription.Id);
        row.IsActive.Should().BeFalse();
        row.DisabledReason.Should().Contain("Webhooks:DisableAfter");
        delivery.GetProperty("attempt_count").GetInt32().Should().Be(1);
        receiver.Received.Should().ContainSingle();
    }

    [Fact]
    public async Task Retry_sends_a_delivery_again_with_the_same_webhook_id_and_a_new_attempt_id_and_refuses_one_in_flight()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var answer = 500;
        var gate = new TaskCompletionSource();
        receiver.Respond = async (_, context) =>
        {
            if (answer == 0)
            {
                await gate.Task;
                answer = 200;
            }

            context.Response.StatusCode = answer;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        await app.WriteEventsAsync();
        var failed = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();
        var id = failed.GetProperty("id").GetInt64();

        answer = 0; // the next request hangs until the gate opens
        var accepted = await (await staff.PostAsync($"/api/webhooks/{subscription.Id}/deliveries/{id}/retry", null)).ShouldBe(HttpStatusCode.Accepted);
        accepted.Status().Should().BeOneOf(["PENDING", "SENDING"], "queued, and perhaps already claimed");
        await receiver.WaitForAsync(r => r.Count == 5);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d[0].Status() == "SENDING");
        await (await staff.PostAsync($"/api/webhooks/{subscription.Id}/deliveries/{id}/retry", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        gate.SetResult();

        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d[0].Status() == "SUCCEEDED")).Single();
        delivery.GetProperty("attempt_count").GetInt32().Should().Be(5);
        receiver.Received.Select(r => r.Id).Distinct().Should().ContainSingle();
        receiver.Received.Select(r => r.Header(WebhookSender.AttemptIdHeader)).Should().OnlyHaveUniqueItems().And.HaveCount(5);
        var single = await (await staff.GetAsync($"/api/webhooks/{subscription.Id}/deliveries/{id}")).ShouldBe(HttpStatusCode.OK);
        single.GetProperty("attempts").GetArrayLength().Should().Be(5);
        single.GetProperty("attempts")[4].GetProperty("status_code").GetInt32().Should().Be(200);
    }

    [Fact]
    public async Task Recover_requeues_every_failed_delivery_since_a_time()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var up = false;
        receiver.Respond = (_, context) =>
        {
            context.Response.StatusCode = up ? 200 : 502;
            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var before = DateTime.UtcNow.AddSeconds(-1);
        var eventIds = await app.WriteEventsAsync(3);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 3 && d.All(x => x.Status() == "FAILED"));

        var url = $"/api/webhooks/{subscription.Id}/recover";
        (await (await staff.PostAsync(url, null)).ShouldBeProblem(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("since", out _).Should().BeTrue();
        await (await staff.PostAsync(url + "?since=last-tuesday", null)).ShouldBeProblem(HttpStatusCode.BadRequest);
        (await (await staff.PostAsync(url + "?since=" + Uri.EscapeDataString("01/02/2026"), null)).ShouldBeProblem(HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("since")[0].GetString().Should().Contain("ISO 8601", "a culture's spelling is ambiguous: not read as the 2nd of January");
        var none = await (await staff.PostAsync(url + "?since=" + Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(1).ToString("O")), null)).ShouldBe(HttpStatusCode.Accepted);
        none.GetProperty("requeued").GetInt32().Should().Be(0);

        up = true;
        var recovered = await (await staff.PostAsync(url + "?since=" + Uri.EscapeDataString(before.ToString("O")), null)).ShouldBe(HttpStatusCode.Accepted);

        recovered.GetProperty("requeued").GetInt32().Should().Be(3);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 3 && d.All(x => x.Status() == "SUCCEEDED"));
        receiver.Received.Where(r => r.Id is not null).GroupBy(r => r.Id).Should().HaveCount(3).And.OnlyContain(g => g.Count() == 5);
        receiver.Received.Select(r => r.Id).Distinct().Should().BeEquivalentTo(eventIds);
    }

    [Fact]
    public async Task A_slow_receiver_does_not_hold_up_deliveries_to_another()
    {
        await using var slow = await WebhookReceiver.StartAsync();
        await using var fast = await WebhookReceiver.StartAsync();
        var release = new TaskCompletionSource();
        slow.Respond = async (_, context) =>
        {
            await Task.WhenAny(release.Task, Task.Delay(Timeout.Infinite, context.RequestAborted));
            context.Response.StatusCode = 200;
        };
        await app.SubscribeAsync(slow.Url());
        await app.SubscribeAsync(fast.Url(), alone: false);

        var eventIds = await app.WriteEventsAsync(30);
        var fastGot = await fast.WaitForAsync(r => r.Count >= 30);
        var slowAnswered = release.Task.IsCompleted;
        release.SetResult();

        slowAnswered.Should().BeFalse();
        fastGot.Select(r => r.Id).Should().BeEquivalentTo(eventIds, "every event reached the fast receiver while the slow one had answered none");
        slow.Received.Count.Should().BeLessThanOrEqualTo(30);
    }

    [Fact]
    public async Task Every_committed_event_arrives_and_a_rolled_back_one_sends_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await app.SubscribeAsync(receiver.Url(), eventTypes: $"{EventTypes.ProductCreated} {EventTypes.BulkDeleteCompleted}");
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        string rolledBack;
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            rolledBack = scope.ServiceProvider.GetRequiredService<IEventOutbox>().Add(EventTypes.ProductCreated, new { sku = "never" }).EventId;
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        var committed = new List<string>();
        var writers = Enumerable.Range(0, 5).Select(_ => app.WriteEventsAsync(10, EventTypes.ProductCreated)).ToList();
        foreach (var writer in writers)
        {
            committed.AddRange(await writer);
        }

        var ignored = await app.WriteEventsAsync(3, EventTypes.ProductDeleted);
        var bulk = await app.WriteEventsAsync(1, EventTypes.BulkDeleteCompleted);
        committed.AddRange(bulk);

        var received = await receiver.WaitForAsync(r => r.Count >= committed.Count);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == committed.Count && d.All(x => x.Status() == "SUCCEEDED"));
        await Task.Delay(300);
        receiver.Received.Select(r => r.Id).Should().BeEquivalentTo(committed, "each committed event of a subscribed type exactly once; order is not promised");
        received.Select(r => r.Id).Should().NotContain(rolledBack).And.NotContain(ignored);
    }

    [Fact]
    public async Task The_delivery_log_filters_by_status_and_event_type_and_answers_404_for_an_unknown_subscription()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (request, context) =>
        {
            context.Response.StatusCode = request.Body.Contains("\"product.deleted\"", StringComparison.Ordinal) ? 400 : 200;
            return Task.CompletedTask;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        await app.WriteEventsAsync(2, EventTypes.ProductCreated);
        await app.WriteEventsAsync(1, EventTypes.ProductDeleted);
        await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 3 && d.All(x => x.Status() is "SUCCEEDED" or "FAILED"));

        (await staff.DeliveriesAsync(subscription.Id, "&status=failed")).EnumerateArray().Should().ContainSingle()
            .Which.Str("event_type").Should().Be(EventTypes.ProductDeleted);
        (await staff.DeliveriesAsync(subscription.Id, "&event_type=product.created")).EnumerateArray().Should().HaveCount(2)
            .And.OnlyContain(d => d.Status() == "SUCCEEDED");
        var all = (await staff.DeliveriesAsync(subscription.Id)).EnumerateArray().Select(d => d.GetProperty("id").GetInt64()).ToList();
        all.Should().BeInDescendingOrder("newest first");

        await (await staff.GetAsync($"/api/webhooks/{subscription.Id}/deliveries?status=LOST")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.GetAsync($"/api/webhooks/{subscription.Id}/deliveries?status=1")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.GetAsync($"/api/webhooks/{subscription.Id}/deliveries?event_type=nope")).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.GetAsync("/api/webhooks/987654321/deliveries")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.GetAsync($"/api/webhooks/987654321/deliveries/{all[0]}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.GetAsync($"/api/webhooks/{subscription.Id}/deliveries/987654321")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync($"/api/webhooks/987654321/deliveries/{all[0]}/retry", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync($"/api/webhooks/{subscription.Id}/deliveries/987654321/retry", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync("/api/webhooks/987654321/recover?since=2025-01-01T00:00:00Z", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        (await app.Anonymous().GetAsync($"/api/webhooks/{subscription.Id}/deliveries")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var customer = await app.NewUserAsync(Roles.Customer);
        (await customer.Http.GetAsync($"/api/webhooks/{subscription.Id}/deliveries")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }
}

public sealed class WebhookDeliveryTestsOnSqlite(WebhooksSqliteApp app) : WebhookDeliveryTests(app), IClassFixture<WebhooksSqliteApp>;

public sealed class WebhookDeliveryTestsOnPostgres(WebhooksPostgresApp app) : WebhookDeliveryTests(app), IClassFixture<WebhooksPostgresApp>;

/// <summary>With private networks not allowed (the default), a subscription aimed at loopback is refused at connect time.</summary>
public sealed class WebhookSsrfDeliveryTests(WebhookSsrfDeliveryTests.App app) : IClassFixture<WebhookSsrfDeliveryTests.App>
{
    public sealed class App : SqliteApp
    {
        public App()
        {
            WebhookSettings.Apply(this);
            With("Webhooks:AllowPrivateNetworks", "false");
        }
    }

    [Fact]
    public async Task A_loopback_receiver_gets_no_request_and_the_attempt_says_blocked_address()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // Written around the save-time check, as a DNS answer that changed after saving would be.
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();

        receiver.Received.Should().BeEmpty();
        delivery.GetProperty("attempts").EnumerateArray().Should().HaveCount(4)
            .And.OnlyContain(a => a.Str("failure") == "blocked_address" && a.Str("error").StartsWith("blocked address"));
    }
}

/// <summary>Webhooks:AllowHttp turned off after http subscriptions were saved: nothing goes out in clear text, and they stay editable.</summary>
public sealed class WebhookHttpTurnedOffTests(WebhookHttpTurnedOffTests.App app) : IClassFixture<WebhookHttpTurnedOffTests.App>
{
    public sealed class App : SqliteApp
    {
        public App()
        {
            WebhookSettings.Apply(this);
            With("Webhooks:AllowHttp", "false");
        }
    }

    [Fact]
    public async Task An_http_subscription_saved_before_gets_nothing_sent_and_can_still_be_switched_off()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // Written around the save-time check, as a subscription saved while http was allowed.
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;

        await app.WriteEventsAsync();
        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "FAILED")).Single();
        var ping = await (await staff.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ShouldBe(HttpStatusCode.OK);

        receiver.Received.Should().BeEmpty("neither the deliveries nor the ping may go out over http");
        delivery.GetProperty("attempts").EnumerateArray().Should().HaveCount(4).And.OnlyContain(a => a.Str("failure") == "blocked_scheme");
        ping.GetProperty("succeeded").GetBoolean().Should().BeFalse();
        ping.Str("failure").Should().Be("blocked_scheme");
        ping.Str("error").Should().Contain("Webhooks:AllowHttp");

        var switchedOff = await (await staff.PatchJson($"/api/webhooks/{subscription.Id}", new { is_active = false })).ShouldBe(HttpStatusCode.OK);
        switchedOff.GetProperty("is_active").GetBoolean().Should().BeFalse();
        var problem = await (await staff.PatchJson($"/api/webhooks/{subscription.Id}", new { url = receiver.Url("/elsewhere").ToString() }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain("https", "a new http URL is still refused");
    }
}

/// <summary>A first retry ten minutes away: a receiver's shorter Retry-After does not bring it forward.</summary>
public sealed class WebhookLongScheduleTests(WebhookLongScheduleTests.App app) : IClassFixture<WebhookLongScheduleTests.App>
{
    public sealed class App : SqliteApp
    {
        public App()
        {
            WebhookSettings.Apply(this);
            With("Webhooks:RetrySchedule:0", "00:10:00");
        }
    }

    [Fact]
    public async Task A_Retry_After_shorter_than_the_schedule_waits_the_schedule()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, context) =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "1";
            return Task.CompletedTask;
        };
        var wait = await app.FirstRetryWaitAsync(receiver);

        wait.Should().BeGreaterThan(TimeSpan.FromMinutes(7.9), "the schedule's 10 minutes (±20 %) outlast the receiver's 1 s");
        await Task.Delay(1500);
        receiver.Received.Should().ContainSingle();
    }
}

/// <summary>A worker stopping while a receiver's answer is still arriving: the status it already answered counts.</summary>
public sealed class WebhookShutdownTests
{
    [Fact]
    public async Task A_2xx_whose_body_is_still_arriving_when_the_worker_stops_is_recorded_as_succeeded_not_sent_again()
    {
        await using var app = new WebhooksSqliteApp();
        await using var receiver = await WebhookReceiver.StartAsync();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async (_, context) =>
        {
            context.Response.StatusCode = 200;
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            answered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };
        var subscription = await app.SubscribeAsync(receiver.Url());

        await app.WriteEventsAsync();
        await answered.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(200);
        app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();

        // Read from the file, not through the app: once it has stopped, its services are disposed.
        await using var file = new Microsoft.Data.Sqlite.SqliteConnection(app.Database + ";Pooling=false");
        await file.OpenAsync();
        async Task<string> ReadAsync(string sql)
        {
            await using var command = file.CreateCommand();
            command.CommandText = sql.Replace("@subscription", subscription.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }

        var deadline = TestTime.Deadline(20);
        string status;
        while ((status = await ReadAsync("SELECT status FROM webhook_deliveries WHERE subscription_id = @subscription")) == nameof(WebhookDeliveryStatus.SENDING))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the stopping worker records its attempt");
            await Task.Delay(100);
        }

        status.Should().Be(nameof(WebhookDeliveryStatus.SUCCEEDED), "the receiver answered 200 before the worker stopped: sending it again would repeat it");
        (await ReadAsync("SELECT group_concat(a.status_code) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = @subscription"))
            .Should().Be("200");
    }
}
