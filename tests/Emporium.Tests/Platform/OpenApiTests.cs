using System.Net;
using System.Text.Json;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Platform;

/// <summary>The OpenAPI document is the contract clients generate code from: every operation must be described.</summary>
public sealed class OpenApiTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Every_API_operation_has_an_id_a_summary_a_description_and_documents_its_outcomes()
    {
        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        var problems = new List<string>();
        var operationIds = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var op = operation.Value;
                if (!op.TryGetProperty("operationId", out var id))
                {
                    problems.Add($"{where}: no operationId");
                }
                else
                {
                    operationIds.Add(id.GetString()!);
                }

                if (!HasText(op, "summary"))
                {
                    problems.Add($"{where}: no summary");
                }

                if (!HasText(op, "description"))
                {
                    problems.Add($"{where}: no description");
                }

                var statuses = op.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
                if (!statuses.Any(s => s.StartsWith('2') || s == "304"))
                {
                    problems.Add($"{where}: no success response");
                }

                var needsToken = op.TryGetProperty("security", out var security) && security.GetArrayLength() > 0
                                 && security.EnumerateArray().All(requirement => requirement.EnumerateObject().Any());
                var takesInput = op.TryGetProperty("parameters", out _) || op.TryGetProperty("requestBody", out _) ||
                                 needsToken || path.Name.Contains('{', StringComparison.Ordinal);
                if (takesInput && !statuses.Any(s => s.StartsWith('4')))
                {
                    problems.Add($"{where}: no client-error response documented");
                }
            }
        }

        problems.Should().BeEmpty();
        operationIds.Should().OnlyHaveUniqueItems();
        document.GetProperty("paths").EnumerateObject().Select(p => p.Name).Should().Contain(
            ["/api/auth/login", "/api/auth/register", "/api/auth/refresh", "/api/auth/logout", "/api/auth/me",
             "/api/brands", "/api/brands/{ref}", "/api/categories", "/api/categories/tree", "/api/categories/{ref}"]);
    }

    [Fact]
    public async Task What_a_body_or_query_must_carry_is_required_in_the_document_and_nothing_more()
    {
        var document = await (await app.Anonymous().GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        var schemas = document.GetProperty("components").GetProperty("schemas");
        string[] Required(string schema) =>
            schemas.GetProperty(schema).TryGetProperty("required", out var names) ? [.. names.EnumerateArray().Select(n => n.GetString()!)] : [];

        // A webhook without url or event_types is 400; a bulk delete's filter needs any one of its fields, not all ten.
        Required("WebhookRequest").Should().BeEquivalentTo(["url", "event_types"]);
        Required("BulkDeleteFilter").Should().BeEmpty();
        // Each of these answers 400 naming the field when it is missing.
        Required("RegisterRequest").Should().BeEquivalentTo(["email", "password"]);
        Required("LoginRequest").Should().BeEquivalentTo(["email", "password"]);
        Required("RefreshRequest").Should().BeEquivalentTo(["refresh_token"]);
        Required("ChangePasswordRequest").Should().BeEquivalentTo(["current_password", "new_password"]);
        Required("SetPasswordRequest").Should().BeEquivalentTo(["password"]);
        Required("CreateUserRequest").Should().BeEquivalentTo(["email", "password", "roles"]);
        Required("UpdateRolesRequest").Should().BeEquivalentTo(["roles"]);
        var recover = document.GetProperty("paths").GetProperty("/api/webhooks/{id}/recover").GetProperty("post").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "since");
        recover.GetProperty("required").GetBoolean().Should().BeTrue("recover without since is 400");
    }

    private static bool HasText(JsonElement operation, string property) =>
        operation.TryGetProperty(property, out var value) && !string.IsNullOrWhiteSpace(value.GetString());
}
