using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Identity;

public abstract class UserManagementTests(EmporiumApp app)
{
    [Fact]
    public async Task Admin_promotes_a_customer_to_staff_and_the_refreshed_token_carries_the_staff_role()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var email = AuthApi.NewEmail("promoted");
        var customer = await app.RegisterAsync(email);
        var tokens = await app.LoginAsync(email);
        AuthApi.RolesIn(tokens.Str("access_token")).Should().Equal(Roles.Customer);

        var updated = await (await admin.Http.PutJson($"/api/users/{customer.GetProperty("id").GetInt64()}/roles", new { roles = new[] { "staff" } }))
            .ShouldBe(HttpStatusCode.OK);
        updated.Strings("roles").Should().Equal(Roles.Staff);

        var refreshed = await (await app.RefreshAsync(tokens.Str("refresh_token"))).ShouldBe(HttpStatusCode.OK);
        AuthApi.RolesIn(refreshed.Str("access_token")).Should().Equal(Roles.Staff);
    }

    [Fact]
    public async Task Admin_can_read_a_user_with_their_roles()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var staff = await app.NewUserAsync(Roles.Staff);

        var user = await (await admin.Http.GetAsync($"/api/users/{staff.UserId}")).ShouldBe(HttpStatusCode.OK);

        user.Str("email").Should().Be(staff.Email);
        user.Strings("roles").Should().Equal(Roles.Staff);
    }

    [Fact]
    public async Task Get_returns_404_for_an_unknown_user()
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        await (await admin.Http.GetAsync("/api/users/987654321")).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_filters_by_part_of_the_email_in_any_case_and_by_role()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var marker = Guid.NewGuid().ToString("N")[..12];
        var customerEmail = $"listed-{marker}-a@example.com";
        var staffEmail = $"listed-{marker}-b@example.com";
        await app.RegisterAsync(customerEmail);
        var staff = await app.RegisterAsync(staffEmail);
        await (await admin.Http.PutJson($"/api/users/{staff.GetProperty("id").GetInt64()}/roles", new { roles = new[] { "staff", "customer" } }))
            .ShouldBe(HttpStatusCode.OK);

        var byEmail = await (await admin.Http.GetAsync($"/api/users?email={marker.ToUpperInvariant()}")).ShouldBe(HttpStatusCode.OK);
        byEmail.GetProperty("count").GetInt64().Should().Be(2);
        byEmail.GetProperty("results").EnumerateArray().Select(u => u.Str("email")).Should().Equal(customerEmail, staffEmail);

        var staffOnly = await (await admin.Http.GetAsync($"/api/users?email={marker}&role=staff")).ShouldBe(HttpStatusCode.OK);
        var only = staffOnly.GetProperty("results").EnumerateArray().Should().ContainSingle().Subject;
        only.Str("email").Should().Be(staffEmail);
        only.Strings("roles").Should().Equal(Roles.Customer, Roles.Staff);
    }

    [Fact]
    public async Task List_pages_through_the_results()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var marker = Guid.NewGuid().ToString("N")[..12];
        for (var i = 0; i < 3; i++)
        {
            await app.RegisterAsync($"paged-{marker}-{i}@example.com");
        }

        var second = await (await admin.Http.GetAsync($"/api/users?email={marker}&page=2")).ShouldBe(HttpStatusCode.OK);

        second.GetProperty("count").GetInt64().Should().Be(3);
        second.GetProperty("results").GetArrayLength().Should().Be(0);
        second.GetProperty("previous").GetString().Should().Contain("page=1");
    }

    [Fact]
    public async Task List_returns_400_for_an_unknown_role_filter()
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        var problem = await (await admin.Http.GetAsync("/api/users?role=superuser")).ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("role", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Set_roles_returns_400_for_a_role_that_does_not_exist()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var customer = await app.NewUserAsync(Roles.Customer);

        var problem = await (await admin.Http.PutJson($"/api/users/{customer.UserId}/roles", new { roles = new[] { "staff", "root" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").Strings("roles").Single().Should().Contain("'root'");
        var unchanged = await (await admin.Http.GetAsync($"/api/users/{customer.UserId}")).ShouldBe(HttpStatusCode.OK);
        unchanged.Strings("roles").Should().Equal(Roles.Customer);
    }

    [Fact]
    public async Task Set_roles_returns_404_for_an_unknown_user()
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        await (await admin.Http.PutJson("/api/users/987654321/roles", new { roles = new[] { "staff" } }))
            .ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_admin_cannot_remove_their_own_admin_role()
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        await (await admin.Http.PutJson($"/api/users/{admin.UserId}/roles", new { roles = new[] { "staff" } }))
            .ShouldBeProblem(HttpStatusCode.Conflict);

        var self = await (await admin.Http.GetAsync($"/api/users/{admin.UserId}")).ShouldBe(HttpStatusCode.OK);
        self.Strings("roles").Should().Equal(Roles.Admin);
    }

    [Theory]
    [InlineData(Roles.Customer)]
    [InlineData(Roles.Staff)]
    public async Task Non_admins_get_403_on_user_management(string role)
    {
        var user = await app.NewUserAsync(role);

        await (await user.Http.GetAsync("/api/users")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await user.Http.GetAsync($"/api/users/{user.UserId}")).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await user.Http.PutJson($"/api/users/{user.UserId}/roles", new { roles = new[] { "admin" } }))
            .ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await user.Http.PostJson("/api/users", new { email = AuthApi.NewEmail(), password = AuthApi.Password, roles = new[] { "admin" } }))
            .ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await user.Http.PostAsync($"/api/users/{user.UserId}/unlock", null)).ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Admin_creates_a_staff_account_that_signs_in_with_the_staff_role()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var email = AuthApi.NewEmail("hired");

        var response = await admin.Http.PostJson("/api/users", new { email, password = AuthApi.Password, roles = new[] { "Staff" } });

        var created = await response.ShouldBe(HttpStatusCode.Created);
        response.Headers.Location!.ToString().Should().Be($"/api/users/{created.GetProperty("id").GetInt64()}");
        created.Strings("roles").Should().Equal(Roles.Staff);
        created.GetProperty("locked").GetBoolean().Should().BeFalse();
        var tokens = await app.LoginAsync(email);
        AuthApi.RolesIn(tokens.Str("access_token")).Should().Equal(Roles.Staff);
    }

    [Fact]
    public async Task Creating_a_user_reports_every_field_mistake_and_a_taken_email_as_409()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var taken = AuthApi.NewEmail("taken");
        await app.RegisterAsync(taken);

        var invalid = await (await admin.Http.PostJson("/api/users", new { email = "not-an-email", password = "short", roles = new[] { "owner" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        var duplicate = await admin.Http.PostJson("/api/users", new { email = taken.ToUpperInvariant(), password = AuthApi.Password, roles = new[] { "seller" } });

        invalid.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo("email", "password", "roles");
        await duplicate.ShouldBeProblem(HttpStatusCode.Conflict);
        var listed = await (await admin.Http.GetAsync($"/api/users?email={Uri.EscapeDataString(taken)}")).ShouldBe(HttpStatusCode.OK);
        listed.GetProperty("count").GetInt64().Should().Be(1, "the refused create wrote nothing");
    }

    [Fact]
    public async Task A_locked_user_cannot_sign_in_or_refresh_until_unlocked()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var email = AuthApi.NewEmail("locked");
        var user = await app.RegisterAsync(email);
        var id = user.GetProperty("id").GetInt64();
        var session = await app.LoginAsync(email);

        var locked = await (await admin.Http.PostAsync($"/api/users/{id}/lock", null)).ShouldBe(HttpStatusCode.OK);
        locked.GetProperty("locked").GetBoolean().Should().BeTrue();
        await (await app.Anonymous().PostJson("/api/auth/login", new { email, password = AuthApi.Password }))
            .ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await app.RefreshAsync(session.Str("refresh_token"))).ShouldBeProblem(HttpStatusCode.Unauthorized);
        var listed = await (await admin.Http.GetAsync($"/api/users/{id}")).ShouldBe(HttpStatusCode.OK);
        listed.GetProperty("locked").GetBoolean().Should().BeTrue();

        var unlocked = await (await admin.Http.PostAsync($"/api/users/{id}/unlock", null)).ShouldBe(HttpStatusCode.OK);
        unlocked.GetProperty("locked").GetBoolean().Should().BeFalse();
        await app.LoginAsync(email);
    }

    [Fact]
    public async Task Admins_cannot_lock_themselves_out_and_unknown_users_are_404()
    {
        var admin = await app.NewUserAsync(Roles.Admin);

        await (await admin.Http.PostAsync($"/api/users/{admin.UserId}/lock", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await admin.Http.PostAsync("/api/users/987654321/lock", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await admin.Http.PostAsync("/api/users/987654321/unlock", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        var self = await (await admin.Http.GetAsync($"/api/users/{admin.UserId}")).ShouldBe(HttpStatusCode.OK);
        self.GetProperty("locked").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task A_locked_or_demoted_admin_cannot_undo_it_with_the_access_token_still_in_hand()
    {
        var admin = await app.NewUserAsync(Roles.Admin);
        var locked = await app.NewUserAsync(Roles.Admin);
        var demoted = await app.NewUserAsync(Roles.Admin);

        await (await admin.Http.PostAsync($"/api/users/{locked.UserId}/lock", null)).ShouldBe(HttpStatusCode.OK);
        await (await admin.Http.PutJson($"/api/users/{demoted.UserId}/roles", new { roles = new[] { "customer" } })).ShouldBe(HttpStatusCode.OK);

        // Their access tokens still say admin, but the lock and the demotion ended them (SessionStamps).
        await (await locked.Http.PostAsync($"/api/users/{locked.UserId}/unlock", null)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await demoted.Http.PutJson($"/api/users/{demoted.UserId}/roles", new { roles = new[] { "admin" } })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await demoted.Http.PostAsync($"/api/users/{admin.UserId}/lock", null)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        (await (await admin.Http.GetAsync($"/api/users/{locked.UserId}")).ShouldBe(HttpStatusCode.OK)).GetProperty("locked").GetBoolean().Should().BeTrue();
        (await (await admin.Http.GetAsync($"/api/users/{demoted.UserId}")).ShouldBe(HttpStatusCode.OK)).GetProperty("roles").EnumerateArray()
            .Select(r => r.GetString()).Should().Equal("customer");
        (await (await admin.Http.GetAsync($"/api/users/{admin.UserId}")).ShouldBe(HttpStatusCode.OK)).GetProperty("locked").GetBoolean().Should().BeFalse();

        // Anyone who knows an admin's email can cause a lockout after failed sign-ins: that does not stop their session.
        for (var i = 0; i < 6; i++)
        {
            await (await app.Anonymous().PostJson("/api/auth/login", new { email = admin.Email, password = "not the password at all" }))
                .ShouldBeProblem(HttpStatusCode.Unauthorized);
        }

        await (await admin.Http.GetAsync("/api/users")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Anonymous_callers_get_401_on_user_management()
    {
        await (await app.Anonymous().GetAsync("/api/users")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}

public sealed class UserManagementTestsOnSqlite(SqliteApp app) : UserManagementTests(app), IClassFixture<SqliteApp>;

public sealed class UserManagementTestsOnPostgres(PostgresApp app) : UserManagementTests(app), IClassFixture<PostgresApp>;
