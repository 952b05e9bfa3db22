using System.Net;
using System.Text.Json;
using Emporium.Features.Webhooks;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>/api/webhooks CRUD over HTTP, on both databases.</summary>
public abstract class WebhookSubscriptionTests(EmporiumApp app)
{
    private static string Url(string path = "hook") => $"http://127.0.0.1:9/{path}-{Guid.NewGuid():N}";

    [Fact]
    public async Task Create_answers_201_with_a_whsec_secret_that_no_read_shows_again()
    {
        var staff = await app.StaffAsync();
        var url = Url();

        var response = await staff.PostJson("/api/webhooks", new { url, event_types = new[] { "product.created", "product.updated" }, description = "ERP sync" });

        var created = await response.ShouldBe(HttpStatusCode.Created);
        var secret = created.Str("secret");
        secret.Should().StartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Should().HaveCount(32);
        created.Str("url").Should().Be(url);
        created.GetProperty("event_types").EnumerateArray().Select(t => t.GetString()).Should().Equal("product.created", "product.updated");
        created.GetProperty("is_active").GetBoolean().Should().BeTrue();
        response.Headers.Location!.ToString().Should().Be($"/api/webhooks/{created.Id()}");
        response.Headers.ETag!.Tag.Should().Be($"\"{created.Id()}-1\"");

        var one = await staff.GetAsync($"/api/webhooks/{created.Id()}");
        var oneBody = await one.Content.ReadAsStringAsync();
        var list = await (await staff.GetAsync("/api/webhooks?page_size=100")).Content.ReadAsStringAsync();
        one.StatusCode.Should().Be(HttpStatusCode.OK);
        oneBody.Should().Contain(url).And.NotContain(secret).And.NotContain("\"secret\"");
        list.Should().Contain(url).And.NotContain(secret).And.NotContain("secret\"");
        var shown = JsonDocument.Parse(oneBody).RootElement;
        shown.Str("description").Should().Be("ERP sync");
        shown.GetProperty("disabled_reason").ValueKind.Should().Be(JsonValueKind.Null);
        shown.GetProperty("failing_since").ValueKind.Should().Be(JsonValueKind.Null);
        shown.GetProperty("previous_secret_expires_at").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Every_staff_member_sees_and_manages_every_subscription()
    {
        var created = await (await app.StaffAsync()).SubscribeAsync(Url());
        var colleague = await app.StaffAsync();
        var admin = (await app.NewUserAsync(Roles.Admin)).Http;

        var list = await (await colleague.GetAsync("/api/webhooks?page_size=100")).ShouldBe(HttpStatusCode.OK);
        list.GetProperty("results").EnumerateArray().Select(s => s.Id()).Should().Contain(created.Id());
        await (await admin.PatchJson($"/api/webhooks/{created.Id()}", new { description = "admin was here" })).ShouldBe(HttpStatusCode.OK);
        await (await colleague.DeleteAsync($"/api/webhooks/{created.Id()}")).ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task List_is_paged_and_filters_by_is_active()
    {
        var staff = await app.StaffAsync();
        var active = await staff.SubscribeAsync(Url());
        var inactive = await staff.SubscribeAsync(Url());
        await (await staff.PatchJson($"/api/webhooks/{inactive.Id()}", new { is_active = false })).ShouldBe(HttpStatusCode.OK);

        var onlyInactive = await (await staff.GetAsync("/api/webhooks?is_active=false&page_size=100")).ShouldBe(HttpStatusCode.OK);
        var page = await (await staff.GetAsync("/api/webhooks?page_size=1")).ShouldBe(HttpStatusCode.OK);

        var ids = onlyInactive.GetProperty("results").EnumerateArray().Select(s => s.Id()).ToList();
        ids.Should().Contain(inactive.Id()).And.NotContain(active.Id());
        page.GetProperty("results").GetArrayLength().Should().Be(1);
        page.GetProperty("count").GetInt64().Should().BeGreaterThanOrEqualTo(2);
        page.Str("next").Should().Contain("page=2");
    }

    [Fact]
    public async Task Put_replaces_every_field_and_honours_If_Match()
    {
        var staff = await app.StaffAsync();
        var created = await staff.SubscribeAsync(Url(), description: "old");
        var id = created.Id();
        var newUrl = Url("new");

        var stale = await staff.SendAsync(HttpMethod.Put, $"/api/webhooks/{id}", new { url = newUrl, event_types = new[] { "*" } }, ifMatch: $"\"{id}-99\"");
        await stale.ShouldBeProblem(HttpStatusCode.PreconditionFailed);
        (await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.OK)).Str("url").Should()
            .Be(created.Str("url"), "the refused PUT changed nothing");

        var response = await staff.SendAsync(HttpMethod.Put, $"/api/webhooks/{id}",
            new { url = newUrl, event_types = new[] { "import.completed", "import.failed", "import.completed" } }, ifMatch: $"\"{id}-1\"");

        var replaced = await response.ShouldBe(HttpStatusCode.OK);
        replaced.Str("url").Should().Be(newUrl);
        replaced.GetProperty("event_types").EnumerateArray().Select(t => t.GetString()).Should().Equal("import.completed", "import.failed");
        replaced.GetProperty("description").ValueKind.Should().Be(JsonValueKind.Null);
        response.Headers.ETag!.Tag.Should().Be($"\"{id}-2\"");
        await (await staff.SendAsync(HttpMethod.Delete, $"/api/webhooks/{id}", ifMatch: $"\"{id}-1\"")).ShouldBeProblem(HttpStatusCode.PreconditionFailed);

        var current = await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.OK);
        current.Str("url").Should().Be(newUrl, "the refused DELETE deleted nothing");
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_given()
    {
        var staff = await app.StaffAsync();
        var url = Url();
        var created = await staff.SubscribeAsync(url, ["product.deleted"], "keep me");

        var patched = await (await staff.PatchJson($"/api/webhooks/{created.Id()}", new { event_types = new[] { "*" } })).ShouldBe(HttpStatusCode.OK);
        var cleared = await (await staff.PatchJson($"/api/webhooks/{created.Id()}", new Dictionary<string, object?> { ["description"] = null }))
            .ShouldBe(HttpStatusCode.OK);

        patched.Str("url").Should().Be(url);
        patched.Str("description").Should().Be("keep me");
        patched.GetProperty("event_types").EnumerateArray().Select(t => t.GetString()).Should().Equal("*");
        cleared.GetProperty("description").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Switching_a_disabled_subscription_on_again_clears_why_it_was_disabled()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync(Url())).Id();
        var since = DateTime.UtcNow.AddDays(-5);
        await app.WithDbAsync(db => db.Set<WebhookSubscription>().Where(s => s.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.IsActive, false)
            .SetProperty(s => s.DisabledReason, "The receiver answered 410 Gone.")
            .SetProperty(s => s.FailingSince, since)));

        var disabled = await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.OK);
        var enabled = await (await staff.PatchJson($"/api/webhooks/{id}", new { is_active = true })).ShouldBe(HttpStatusCode.OK);

        disabled.GetProperty("is_active").GetBoolean().Should().BeFalse();
        disabled.Str("disabled_reason").Should().Contain("410");
        disabled.GetProperty("failing_since").GetDateTime().Should().BeCloseTo(since, TimeSpan.FromSeconds(1));
        enabled.GetProperty("is_active").GetBoolean().Should().BeTrue();
        enabled.GetProperty("disabled_reason").ValueKind.Should().Be(JsonValueKind.Null);
        enabled.GetProperty("failing_since").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Delete_removes_the_subscription()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync(Url())).Id();

        await (await staff.DeleteAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.NoContent);

        await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        (await app.WithDbAsync(db => db.Set<WebhookSubscription>().AnyAsync(s => s.Id == id))).Should().BeFalse();
    }

    [Fact]
    public async Task Rotation_returns_a_new_secret_once_and_shows_how_long_the_old_one_still_signs()
    {
        var staff = await app.StaffAsync();
        var created = await staff.SubscribeAsync(Url());
        var id = created.Id();

        var response = await staff.PostJson($"/api/webhooks/{id}/rotate_secret", new { overlap_seconds = 3600 });
        var rotated = await response.ShouldBe(HttpStatusCode.OK);
        var shown = await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.OK);
        var row = await app.WithDbAsync(db => db.Set<WebhookSubscription>().AsNoTracking().SingleAsync(s => s.Id == id));

        rotated.Str("secret").Should().StartWith("whsec_").And.NotBe(created.Str("secret"));
        rotated.GetProperty("previous_secret_expires_at").GetDateTime().Should().BeCloseTo(DateTime.UtcNow.AddHours(1), TimeSpan.FromMinutes(1));
        shown.GetProperty("previous_secret_expires_at").GetDateTime().Should().BeCloseTo(DateTime.UtcNow.AddHours(1), TimeSpan.FromMinutes(1));
        shown.ToString().Should().NotContain(rotated.Str("secret")).And.NotContain(created.Str("secret"));
        row.Secret.Should().Be(rotated.Str("secret"));
        row.PreviousSecret.Should().Be(created.Str("secret"));
        response.Headers.ETag!.Tag.Should().Be($"\"{id}-2\"");
    }

    [Fact]
    public async Task Rotation_without_a_body_uses_the_configured_overlap_and_a_zero_overlap_retires_the_old_secret_at_once()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync(Url())).Id();

        var byDefault = await (await staff.PostAsync($"/api/webhooks/{id}/rotate_secret", null)).ShouldBe(HttpStatusCode.OK);
        var immediate = await (await staff.PostJson($"/api/webhooks/{id}/rotate_secret", new { overlap_seconds = 0 })).ShouldBe(HttpStatusCode.OK);
        var tooLong = await (await staff.PostJson($"/api/webhooks/{id}/rotate_secret", new { overlap_seconds = 90_000 }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        byDefault.GetProperty("previous_secret_expires_at").GetDateTime().Should().BeCloseTo(DateTime.UtcNow.AddHours(24), TimeSpan.FromMinutes(1));
        immediate.GetProperty("previous_secret_expires_at").ValueKind.Should().Be(JsonValueKind.Null);
        tooLong.GetProperty("errors").GetProperty("overlap_seconds")[0].GetString().Should().Contain("86400");
    }

    [Theory]
    [InlineData("not a url", "absolute")]
    [InlineData("/relative/path", "absolute")]
    [InlineData("ftp://127.0.0.1/hook", "https")]
    [InlineData("https://user:password@127.0.0.1/hook", "user name or password")]
    [InlineData("https://127.0.0.1/hook#part", "fragment")]
    [InlineData("https://no-such-host.invalid/hook", "could not be resolved")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "cloud metadata endpoint")]
    public async Task Create_rejects_a_bad_url_with_a_field_error(string url, string reason)
    {
        var response = await (await app.StaffAsync()).PostJson("/api/webhooks", new { url, event_types = new[] { "*" } });

        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain(reason);
    }

    [Fact]
    public async Task Create_validates_lengths_and_event_types()
    {
        var staff = await app.StaffAsync();

        var longUrl = await (await staff.PostJson("/api/webhooks", new { url = "https://127.0.0.1/" + new string('a', 2100), event_types = new[] { "*" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var missingTypes = await (await staff.PostJson("/api/webhooks", new { url = Url() })).ShouldBeProblem(HttpStatusCode.BadRequest);
        var emptyTypes = await (await staff.PostJson("/api/webhooks", new { url = Url(), event_types = Array.Empty<string>() })).ShouldBeProblem(HttpStatusCode.BadRequest);
        var unknown = await (await staff.PostJson("/api/webhooks", new { url = Url(), event_types = new[] { "product.created", "order.shipped" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var mixed = await (await staff.PostJson("/api/webhooks", new { url = Url(), event_types = new[] { "*", "product.created" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var description = await (await staff.PostJson("/api/webhooks", new { url = Url(), event_types = new[] { "*" }, description = new string('d', 501) }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        longUrl.GetProperty("errors").GetProperty("url")[0].GetString().Should().Contain("2048");
        missingTypes.GetProperty("errors").TryGetProperty("event_types", out _).Should().BeTrue();
        emptyTypes.GetProperty("errors").TryGetProperty("event_types", out _).Should().BeTrue();
        unknown.GetProperty("errors").GetProperty("event_types")[0].GetString().Should().Contain("order.shipped");
        mixed.GetProperty("errors").GetProperty("event_types")[0].GetString().Should().Contain("alone");
        description.GetProperty("errors").GetProperty("description")[0].GetString().Should().Contain("500");
    }

    [Fact]
    public async Task A_bad_change_leaves_the_subscription_as_it_was()
    {
        var staff = await app.StaffAsync();
        var url = Url();
        var id = (await staff.SubscribeAsync(url)).Id();

        await (await staff.PatchJson($"/api/webhooks/{id}", new { url = "http://169.254.169.254/", description = "changed" })).ShouldBeProblem(HttpStatusCode.BadRequest);
        await (await staff.PatchJson($"/api/webhooks/{id}", new { is_active = "yes" })).ShouldBeProblem(HttpStatusCode.BadRequest);

        var shown = await (await staff.GetAsync($"/api/webhooks/{id}")).ShouldBe(HttpStatusCode.OK);
        shown.Str("url").Should().Be(url);
        shown.GetProperty("description").ValueKind.Should().Be(JsonValueKind.Null);
        (await staff.GetAsync($"/api/webhooks/{id}")).Headers.ETag!.Tag.Should().Be($"\"{id}-1\"");
    }

    [Fact]
    public async Task Anonymous_callers_get_401_and_customers_403()
    {
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var id = (await (await app.StaffAsync()).SubscribeAsync(Url())).Id();

        foreach (var client in new[] { app.Anonymous(), customer })
        {
            var expected = client == customer ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
            await (await client.GetAsync("/api/webhooks")).ShouldBeProblem(expected);
            await (await client.GetAsync($"/api/webhooks/{id}")).ShouldBeProblem(expected);
            await (await client.PostJson("/api/webhooks", new { url = Url(), event_types = new[] { "*" } })).ShouldBeProblem(expected);
            await (await client.PostAsync($"/api/webhooks/{id}/rotate_secret", null)).ShouldBeProblem(expected);
            await (await client.PostAsync($"/api/webhooks/{id}/test", null)).ShouldBeProblem(expected);
            await (await client.DeleteAsync($"/api/webhooks/{id}")).ShouldBeProblem(expected);
        }
    }

    [Fact]
    public async Task An_unknown_subscription_is_404_everywhere()
    {
        var staff = await app.StaffAsync();
        const string missing = "/api/webhooks/987654321";

        await (await staff.GetAsync(missing)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PutJson(missing, new { url = Url(), event_types = new[] { "*" } })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PatchJson(missing, new { is_active = false })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.DeleteAsync(missing)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync($"{missing}/rotate_secret", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await staff.PostAsync($"{missing}/test", null)).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

public sealed class WebhookSubscriptionTestsOnSqlite(WebhookSqliteApp app) : WebhookSubscriptionTests(app), IClassFixture<WebhookSqliteApp>;

public sealed class WebhookSubscriptionTestsOnPostgres(WebhookPostgresApp app) : WebhookSubscriptionTests(app), IClassFixture<WebhookPostgresApp>;
