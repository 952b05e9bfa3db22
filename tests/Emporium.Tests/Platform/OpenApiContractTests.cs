using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Images;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using Json.Schema;

namespace Emporium.Tests.Platform;

/// <summary>Loopback webhook receivers allowed (the contract test subscribes one), fast jobs.</summary>
public sealed class ContractApp : SqliteApp
{
    public ContractApp()
    {
        JobSettings.Apply(this);
        WebhookSettings.Apply(this);
    }
}

/// <summary>
/// The OpenAPI document as the tools users run read it (issue 12): Spectral's oas rules and Redocly's recommended rules find
/// no error; every operation that answers 401 without a token says it needs the bearer scheme, and no other does; and a
/// representative request to every operation, and its answer, validate against the schemas the document gives them.
/// </summary>
public sealed class OpenApiContractTests(ContractApp app) : IClassFixture<ContractApp>
{
    [Fact]
    public async Task Spectral_oas_and_Redocly_recommended_find_no_errors()
    {
        var linters = Environment.GetEnvironmentVariable("EMPORIUM_TEST_LINTERS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("EMPORIUM_TEST_LINTERS is not set: run the suite with scripts/test, which installs Spectral and Redocly.");
        var folder = Directory.CreateTempSubdirectory("emporium-openapi-");
        try
        {
            var document = Path.Combine(folder.FullName, "openapi.json");
            await File.WriteAllTextAsync(document, await app.Anonymous().GetStringAsync("/openapi/v1.json"));
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, ".spectral.yaml"), "extends: [\"spectral:oas\"]\n");
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "redocly.yaml"), "extends:\n  - recommended\n");

            var spectral = await RunAsync(Path.Combine(linters, "spectral"), folder.FullName,
                "lint", document, "--ruleset", ".spectral.yaml", "--fail-severity", "error", "-f", "text");
            spectral.ExitCode.Should().Be(0, "Spectral reported errors:\n{0}", spectral.Output);
            var redocly = await RunAsync(Path.Combine(linters, "redocly"), folder.FullName,
                "lint", document, "--config", "redocly.yaml", "--format", "stylish");
            redocly.ExitCode.Should().Be(0, "Redocly reported errors:\n{0}", redocly.Output);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Every_operation_that_answers_401_without_a_token_declares_the_bearer_scheme_and_no_other_does()
    {
        var document = await DocumentAsync();
        var anonymous = app.Anonymous();
        var wrong = new List<string>();
        foreach (var (method, path, operation) in Operations(document))
        {
            var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), Fill(path));
            if (operation.TryGetProperty("requestBody", out _))
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            var status = (await anonymous.SendAsync(request)).StatusCode;
            var security = operation.TryGetProperty("security", out var declared) ? declared.EnumerateArray().ToList() : [];
            var anonymousAllowed = security.Count == 0 || security.Any(requirement => !requirement.EnumerateObject().Any());
            var bearerOnly = security.Count > 0 && security.All(requirement => requirement.TryGetProperty("bearer", out _));
            if (status == HttpStatusCode.Unauthorized && !bearerOnly)
            {
                wrong.Add($"{method.ToUpperInvariant()} {path}: answered 401 without a token but does not declare bearer alone");
            }
            else if (status != HttpStatusCode.Unauthorized && !anonymousAllowed)
            {
                wrong.Add($"{method.ToUpperInvariant()} {path}: answered {(int)status} without a token but declares a token as required");
            }

            if (!operation.TryGetProperty("security", out _))
            {
                wrong.Add($"{method.ToUpperInvariant()} {path}: declares no security at all");
            }
        }

        wrong.Should().BeEmpty();
    }

    [Fact]
    public async Task A_representative_request_to_every_operation_and_its_answer_validate_against_the_documented_schemas()
    {
        var document = await DocumentAsync();
        var schemas = new SchemaBook(document);
        var samples = await new Samples(app).BuildAsync();
        var problems = new List<string>();
        var covered = new HashSet<string>();
        foreach (var sample in samples)
        {
            var key = $"{sample.Method} {sample.Template}";
            covered.Add(key);
            var operation = Operations(document).Where(o => $"{o.Method.ToUpperInvariant()} {o.Path}" == key).Select(o => o.Operation).FirstOrDefault();
            if (operation.ValueKind == JsonValueKind.Undefined)
            {
                problems.Add($"{key}: not in the document");
                continue;
            }

            var request = await sample.Request();
            if (request.Content is { } content && content.Headers.ContentType?.MediaType is "application/json" or "application/merge-patch+json")
            {
                var schema = operation.GetProperty("requestBody").GetProperty("content").GetProperty(content.Headers.ContentType.MediaType!).GetProperty("schema");
                problems.AddRange(schemas.Check(schema, JsonDocument.Parse(await content.ReadAsStringAsync()).RootElement).Select(e => $"{key} request: {e}"));
            }

            var response = await sample.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.GetProperty("responses").TryGetProperty(status, out var documented))
            {
                problems.Add($"{key}: answered {status}, which is not documented");
                continue;
            }

            if (sample.Expect is { } expected && response.StatusCode != expected)
            {
                problems.Add($"{key}: answered {status} where the sample expects {(int)expected}: {await response.Content.ReadAsStringAsync()}");
            }

            foreach (var header in new[] { "ETag", "Location", "Retry-After" })
            {
                var sent = response.Headers.NonValidated.Contains(header) || response.Content.Headers.NonValidated.Contains(header);
                var declared = documented.TryGetProperty("headers", out var headers) && headers.TryGetProperty(header, out _);
                if (sent && !declared)
                {
                    problems.Add($"{key}: sent {header} with {status}, which its documentation does not list");
                }
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotModified || mediaType is null)
            {
                continue;
            }

            var media = documented.TryGetProperty("content", out var contents)
                ? contents.EnumerateObject().Where(c => c.Name.Split(';')[0].Trim() == mediaType).Select(c => c.Value).FirstOrDefault()
                : default;
            if (media.ValueKind == JsonValueKind.Undefined)
            {
                problems.Add($"{key}: answered {status} as {mediaType}, which is not documented");
                continue;
            }

            if (mediaType is "application/json" or "application/problem+json" && media.TryGetProperty("schema", out var responseSchema))
            {
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                problems.AddRange(schemas.Check(responseSchema, body).Select(e => $"{key} {status} response: {e}"));
            }
        }

        problems.Should().BeEmpty();
        Operations(document).Select(o => $"{o.Method.ToUpperInvariant()} {o.Path}").Except(covered).Should()
            .BeEmpty("every operation needs a representative request here, so its documentation is checked too");
    }

    private async Task<JsonElement> DocumentAsync() =>
        JsonDocument.Parse(await app.Anonymous().GetStringAsync("/openapi/v1.json")).RootElement.Clone();

    private static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .Where(path => path.Name.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(operation => operation.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(operation => (operation.Name, path.Name, operation.Value)));

    /// <summary>A path with every parameter given a value that exists nowhere (or is the tree's literal).</summary>
    private static string Fill(string path) => System.Text.RegularExpressions.Regex.Replace(path, "{[^}]+}", "1");

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }

    /// <summary>The document's component schemas as JSON Schema 2020-12 ($defs), to validate bodies against.</summary>
    private sealed class SchemaBook(JsonElement document)
    {
        private readonly JsonNode _definitions = JsonNode.Parse(
            document.GetProperty("components").GetProperty("schemas").GetRawText().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal))!;

        public IEnumerable<string> Check(JsonElement schema, JsonElement value)
        {
            var root = JsonNode.Parse(schema.GetRawText().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal))!.AsObject();
            root["$defs"] = _definitions.DeepClone();
            var results = JsonSchema.FromText(root.ToJsonString()).Evaluate(value, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (results.IsValid)
            {
                return [];
            }

            return (results.Details ?? [])
                .Where(detail => detail.Errors is { Count: > 0 })
                .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation} ({detail.EvaluationPath}): {error.Value}"))
                .DefaultIfEmpty("does not match its schema")
                .Take(5);
        }
    }

    private sealed record Sample(string Method, string Template, HttpClient Client, Func<Task<HttpRequestMessage>> Request, HttpStatusCode? Expect);

    /// <summary>One typical request per operation, on data it arranges first (mostly through the API itself).</summary>
    private sealed class Samples(ContractApp app)
    {
        private readonly List<Sample> _samples = [];

        public async Task<List<Sample>> BuildAsync()
        {
            var admin = (await app.NewUserAsync(Roles.Admin)).Http;
            var anonymous = app.Anonymous();
            var tag = Guid.NewGuid().ToString("N")[..8];
            await using var receiver = await WebhookReceiver.StartAsync();

            var brand = await CreateAsync(admin, "/api/brands", new { name = $"Contract brand {tag}" });
            var otherBrand = await CreateAsync(admin, "/api/brands", new { name = $"Contract brand two {tag}" });
            var attribute = await CreateAsync(admin, "/api/attributes", new { name = $"Contract attribute {tag}", values = new[] { new { name = "Small", slug = "s" } } });
            var attributeUrl = $"/api/attributes/{attribute.GetProperty("id").GetInt64()}";
            var category = await CreateAsync(admin, "/api/categories", new { name = $"Contract category {tag}" });
            var otherCategory = await CreateAsync(admin, "/api/categories", new { name = $"Contract category two {tag}", parent = category.Str("slug") });
            var webhook = await CreateAsync(admin, "/api/webhooks", new { url = receiver.Url().ToString(), event_types = new[] { "product.created" } });
            var product = await CreateAsync(admin, "/api/products", new
            {
                sku = $"CT-{tag}", name = $"Contract product {tag}", price = 12.5m, currency = "EUR", brand = brand.Str("slug"),
                categories = new object[] { category.GetProperty("id").GetInt64() },
            });
            var other = await CreateAsync(admin, "/api/products", new { sku = $"CT2-{tag}", name = $"Contract other {tag}", price = 1m });
            var sizes = await CreateAsync(admin, "/api/attributes", new { name = $"Contract size {tag}", values = new[] { new { name = "S" }, new { name = "M" }, new { name = "L" } } });
            var variant = await CreateAsync(admin, $"/api/products/{product.GetProperty("id").GetInt64()}/variants", new
            {
                sku = $"CT-{tag}-S", attributes = new Dictionary<string, string> { [sizes.Str("slug")] = "s" }, stock = 5,
            });
            var doomed = await CreateAsync(admin, $"/api/products/{product.GetProperty("id").GetInt64()}/variants", new
            {
                sku = $"CT-{tag}-M", price = 13.5m, attributes = new Dictionary<string, string> { [sizes.Str("slug")] = "m" },
            });
            var delivery = await WaitForDeliveryAsync(admin, webhook.GetProperty("id").GetInt64());
            var user = await CreateAsync(anonymous, "/api/auth/register", new { email = $"contract-{tag}@emporium.test", password = "a long enough password" });
            var tokens = await (await anonymous.PostJson("/api/auth/login", new { email = $"contract-{tag}@emporium.test", password = "a long enough password" }))
                .ShouldBe(HttpStatusCode.OK);
            var import = await UploadAsync(admin, $"sku,name\r\nimp-{tag},Imported\r\nbad-{tag},\r\n");
            await Features.Import.Uploads.WaitAsync(admin, import);
            var failed = await UploadAsync(admin, "name\r\nno sku column\r\n");
            await Features.Import.Uploads.WaitAsync(admin, failed);

            var productId = product.GetProperty("id").GetInt64();
            var productUrl = $"/api/products/{productId}";
            var brandUrl = $"/api/brands/{otherBrand.GetProperty("id").GetInt64()}";
            var categoryUrl = $"/api/categories/{otherCategory.GetProperty("id").GetInt64()}";
            var webhookUrl = $"/api/webhooks/{webhook.GetProperty("id").GetInt64()}";
            var userUrl = $"/api/users/{user.GetProperty("id").GetInt64()}";

            Add("POST", "/api/auth/register", anonymous, () => Json("POST", "/api/auth/register", new { email = $"second-{tag}@emporium.test", password = "another long password" }), HttpStatusCode.Created);
            Add("POST", "/api/auth/login", anonymous, () => Json("POST", "/api/auth/login", new { email = $"contract-{tag}@emporium.test", password = "a long enough password" }), HttpStatusCode.OK);
            Add("POST", "/api/auth/refresh", anonymous, () => Json("POST", "/api/auth/refresh", new { refresh_token = tokens.Str("refresh_token") }), HttpStatusCode.OK);
            Add("GET", "/api/auth/me", admin, () => Get("/api/auth/me"), HttpStatusCode.OK);
            Add("POST", "/api/auth/logout", anonymous, () => Json("POST", "/api/auth/logout", new { refresh_token = tokens.Str("refresh_token") }), HttpStatusCode.NoContent);
            var signedIn = Features.Identity.AuthApi.WithToken(app, tokens.Str("access_token"));
            Add("POST", "/api/auth/password", signedIn, () => Json("POST", "/api/auth/password", new { current_password = "a long enough password", new_password = "a brand new long password" }), HttpStatusCode.OK);
            // Its own user: signing out everywhere ends the access token it is sent with, and the password change ended signedIn's.
            var leaving = (await app.NewUserAsync(Roles.Customer)).Http;
            Add("POST", "/api/auth/logout-all", leaving, () => Get("/api/auth/logout-all", HttpMethod.Post), HttpStatusCode.NoContent);
            Add("PUT", "/api/users/{id}/password", admin, () => Json("PUT", $"{userUrl}/password", new { password = "an admin's long password" }), HttpStatusCode.NoContent);
            Add("GET", "/api/users", admin, () => Get("/api/users?email=contract&role=customer"), HttpStatusCode.OK);
            Add("GET", "/api/users/{id}", admin, () => Get(userUrl), HttpStatusCode.OK);
            Add("PUT", "/api/users/{id}/roles", admin, () => Json("PUT", $"{userUrl}/roles", new { roles = new[] { "seller" } }), HttpStatusCode.OK);
            Add("POST", "/api/users", admin, () => Json("POST", "/api/users", new { email = $"hired-{tag}@emporium.test", password = "a long enough password", roles = new[] { "staff" } }), HttpStatusCode.Created);
            Add("POST", "/api/users/{id}/lock", admin, () => Get($"{userUrl}/lock", HttpMethod.Post), HttpStatusCode.OK);
            Add("POST", "/api/users/{id}/unlock", admin, () => Get($"{userUrl}/unlock", HttpMethod.Post), HttpStatusCode.OK);

            Add("GET", "/api/products", anonymous, () => Get($"/api/products?search=contract&active=true&min_price=1&sort=-price"), HttpStatusCode.OK);
            Add("POST", "/api/products", admin, () => Json("POST", "/api/products", new { sku = $"CT3-{tag}", name = "Third", price = 3m, categories = new[] { otherCategory.Str("slug") } }), HttpStatusCode.Created);
            Add("GET", "/api/products/{ref}", anonymous, () => Get(productUrl), HttpStatusCode.OK);
            Add("PUT", "/api/products/{ref}", admin, () => Json("PUT", productUrl, new { sku = $"CT-{tag}", name = $"Contract product {tag}", price = 13m, currency = "EUR", brand = brand.GetProperty("id").GetInt64() }), HttpStatusCode.OK);
            Add("PATCH", "/api/products/{ref}", admin, () => Json("PATCH", productUrl, new { description = "Patched.", categories = (object?)null }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/products/{ref}", admin, () => Get($"/api/products/{other.GetProperty("id").GetInt64()}", HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/products/{ref}/restore", admin, () => Get($"/api/products/{other.GetProperty("id").GetInt64()}/restore", HttpMethod.Post), HttpStatusCode.OK);
            Add("GET", "/api/categories/{ref}/products", anonymous, () => Get($"/api/categories/{category.Str("slug")}/products?include_descendants=true"), HttpStatusCode.OK);
            Add("GET", "/api/products/export", admin, () => Get($"/api/products/export?name={tag}"), HttpStatusCode.OK);
            Add("POST", "/api/products/upload", admin, () => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/api/products/upload?dry_run=true") { Content = Csv($"sku,name\r\ndry-{tag},Dry\r\n") }), HttpStatusCode.Accepted);
            Add("POST", "/api/products/bulk_delete", admin, () => Json("POST", "/api/products/bulk_delete", new { filter = new { name = $"nothing-{tag}" } }), HttpStatusCode.Accepted);
            Add("GET", "/api/jobs/{id}/errors.csv", admin, () => Get($"/api/jobs/{import}/errors.csv"), HttpStatusCode.OK);

            var customer = (await app.NewUserAsync(Roles.Customer)).Http;
            var forSale = await CreateAsync(admin, "/api/products", new { sku = $"CT-SALE-{tag}", name = $"Contract sale {tag}", price = 2.5m });
            var saleVariant = forSale.GetProperty("variants")[0].GetProperty("id").GetInt64();
            await (await admin.PutJson($"/api/variants/{saleVariant}/stock", new { on_hand = 50, reason = "contract stock" })).ShouldBe(HttpStatusCode.OK);
            async Task<long> OrderAsync()
            {
                await (await customer.PostJson("/api/cart/items", new { variant_id = saleVariant, quantity = 1 })).ShouldBe(HttpStatusCode.OK);
                return (await CreateAsync(customer, "/api/orders", new { })).GetProperty("id").GetInt64();
            }

            var order = await OrderAsync();
            var cancelled = await OrderAsync();
            var kept = (await (await customer.PostJson("/api/cart/items", new { sku = $"CT-SALE-{tag}", quantity = 1 })).ShouldBe(HttpStatusCode.OK))
                .GetProperty("items")[0].GetProperty("id").GetInt64();
            var dropped = (await (await customer.PostJson("/api/cart/items", new { variant_id = variant.GetProperty("id").GetInt64(), quantity = 1 })).ShouldBe(HttpStatusCode.OK))
                .GetProperty("items")[1].GetProperty("id").GetInt64();
            Add("GET", "/api/cart", customer, () => Get("/api/cart"), HttpStatusCode.OK);
            Add("POST", "/api/cart/items", customer, () => Json("POST", "/api/cart/items", new { variant_id = saleVariant, quantity = 2 }), HttpStatusCode.OK);
            Add("PATCH", "/api/cart/items/{id}", customer, () => Json("PATCH", $"/api/cart/items/{kept}", new { quantity = 2 }), HttpStatusCode.OK);
            Add("DELETE", "/api/cart/items/{id}", customer, () => Get($"/api/cart/items/{dropped}", HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/orders", customer, async () =>
            {
                var request = await Json("POST", "/api/orders", new { expected_total = 5m });
                request.Headers.TryAddWithoutValidation("Idempotency-Key", $"contract-{tag}");
                return request;
            }, HttpStatusCode.Created);
            Add("GET", "/api/orders", admin, () => Get($"/api/orders?status=pending&created_from=2026-01-01T00:00:00Z"), HttpStatusCode.OK);
            Add("GET", "/api/orders/{id}", customer, () => Get($"/api/orders/{order}"), HttpStatusCode.OK);
            Add("GET", "/api/orders/{id}/movements", admin, () => Get($"/api/orders/{order}/movements"), HttpStatusCode.OK);
            Add("POST", "/api/orders/{id}/pay", admin, () => Get($"/api/orders/{order}/pay", HttpMethod.Post), HttpStatusCode.OK);
            Add("POST", "/api/orders/{id}/fulfill", admin, () => Get($"/api/orders/{order}/fulfill", HttpMethod.Post), HttpStatusCode.OK);
            Add("POST", "/api/orders/{id}/cancel", customer, () => Get($"/api/orders/{cancelled}/cancel", HttpMethod.Post), HttpStatusCode.OK);

            var variantUrl = $"/api/variants/{variant.GetProperty("id").GetInt64()}";
            Add("GET", "/api/products/{ref}/variants", anonymous, () => Get($"{productUrl}/variants"), HttpStatusCode.OK);
            Add("POST", "/api/products/{ref}/variants", admin, () => Json("POST", $"{productUrl}/variants", new { sku = $"CT-{tag}-L", price = 14m, attributes = new Dictionary<string, string> { [sizes.Str("slug")] = "l" }, stock = 2 }), HttpStatusCode.Created);
            Add("GET", "/api/variants/{id}", anonymous, () => Get(variantUrl), HttpStatusCode.OK);
            Add("PATCH", "/api/variants/{id}", admin, () => Json("PATCH", variantUrl, new { price = 12.75m }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/variants/{id}", admin, () => Get($"/api/variants/{doomed.GetProperty("id").GetInt64()}", HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("PUT", "/api/variants/{id}/stock", admin, () => Json("PUT", $"{variantUrl}/stock", new { on_hand = 10, reason = "stock count" }), HttpStatusCode.OK);
            Add("POST", "/api/variants/{id}/stock/adjustments", admin, () => Json("POST", $"{variantUrl}/stock/adjustments", new { delta = -2, reason = "breakage" }), HttpStatusCode.OK);
            Add("GET", "/api/variants/{id}/stock/movements", admin, () => Get($"{variantUrl}/stock/movements?page_size=10"), HttpStatusCode.OK);

            // Images: two on the product (read, reordered, described), one on the other product to delete, one that fails to retry.
            var images = await admin.UploadAsync(productId, (TestImages.Png(40, 30), "a.png", "image/png"), (TestImages.Png(30, 40), "b.png", "image/png"));
            var (first, second) = (images[0].GetProperty("id").GetInt64(), images[1].GetProperty("id").GetInt64());
            var otherUrl = $"/api/products/{other.GetProperty("id").GetInt64()}";
            var extra = await admin.UploadAsync(other.GetProperty("id").GetInt64(),
                (TestImages.Png(20, 20), "c.png", "image/png"), ([0xFF, 0xD8, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "broken.jpg", "image/jpeg"));
            var broken = extra[1].GetProperty("id").GetInt64();
            (await admin.SettledAsync(first)).Str("status").Should().Be("ready");
            (await admin.SettledAsync(broken)).Str("status").Should().Be("failed");
            Add("GET", "/api/products/{ref}/images", anonymous, () => Get($"{productUrl}/images"), HttpStatusCode.OK);
            Add("POST", "/api/products/{ref}/images", admin, () => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"{otherUrl}/images")
            {
                Content = TestImages.Files((TestImages.Png(20, 20), "new.png", "image/png")),
            }), HttpStatusCode.Accepted);
            Add("PUT", "/api/products/{ref}/images/order", admin, () => Json("PUT", $"{productUrl}/images/order", new { image_ids = new[] { second, first } }), HttpStatusCode.OK);
            Add("GET", "/api/images/{id}", anonymous, () => Get($"/api/images/{first}"), HttpStatusCode.OK);
            Add("GET", "/api/images/{id}/original", admin, () => Get($"/api/images/{first}/original"), HttpStatusCode.OK);
            Add("PATCH", "/api/images/{id}", admin, () => Json("PATCH", $"/api/images/{first}", new { alt_text = "Front view" }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/images/{id}", admin, () => Get($"/api/images/{extra[0].GetProperty("id").GetInt64()}", HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/images/{id}/retry", admin, () => Get($"/api/images/{broken}/retry", HttpMethod.Post), HttpStatusCode.Accepted);

            Add("GET", "/api/brands", anonymous, () => Get($"/api/brands?name=contract&sort=-name"), HttpStatusCode.OK);
            Add("POST", "/api/brands", admin, () => Json("POST", "/api/brands", new { name = $"Contract brand three {tag}" }), HttpStatusCode.Created);
            Add("GET", "/api/brands/{ref}", anonymous, () => Get(brandUrl), HttpStatusCode.OK);
            Add("PUT", "/api/brands/{ref}", admin, () => Json("PUT", brandUrl, new { name = $"Renamed brand {tag}" }), HttpStatusCode.OK);
            Add("PATCH", "/api/brands/{ref}", admin, () => Json("PATCH", brandUrl, new { slug = (string?)null }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/brands/{ref}", admin, () => Get(brandUrl, HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/brands/{ref}/restore", admin, () => Get($"{brandUrl}/restore", HttpMethod.Post), HttpStatusCode.OK);

            Add("GET", "/api/attributes", anonymous, () => Get("/api/attributes?name=contract&sort=-created_at"), HttpStatusCode.OK);
            Add("POST", "/api/attributes", admin, () => Json("POST", "/api/attributes", new { name = $"Contract attribute two {tag}", values = new[] { new { name = "Red" } } }), HttpStatusCode.Created);
            Add("GET", "/api/attributes/{ref}", anonymous, () => Get(attributeUrl), HttpStatusCode.OK);
            Add("PUT", "/api/attributes/{ref}", admin, () => Json("PUT", attributeUrl, new { name = $"Renamed attribute {tag}", values = new[] { new { name = "Small", slug = "s" }, new { name = "Medium", slug = "m" } } }), HttpStatusCode.OK);
            Add("PATCH", "/api/attributes/{ref}", admin, () => Json("PATCH", attributeUrl, new { values = new[] { new { name = "Large" } } }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/attributes/{ref}", admin, () => Get(attributeUrl, HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/attributes/{ref}/restore", admin, () => Get($"{attributeUrl}/restore", HttpMethod.Post), HttpStatusCode.OK);

            Add("GET", "/api/categories", anonymous, () => Get($"/api/categories?parent=root&name=contract"), HttpStatusCode.OK);
            Add("POST", "/api/categories", admin, () => Json("POST", "/api/categories", new { name = $"Contract category three {tag}", parent = category.GetProperty("id").GetInt64() }), HttpStatusCode.Created);
            Add("GET", "/api/categories/tree", anonymous, () => Get("/api/categories/tree"), HttpStatusCode.OK);
            Add("GET", "/api/categories/{ref}", anonymous, () => Get(categoryUrl), HttpStatusCode.OK);
            Add("PUT", "/api/categories/{ref}", admin, () => Json("PUT", categoryUrl, new { name = $"Renamed category {tag}", parent = category.Str("slug") }), HttpStatusCode.OK);
            Add("PATCH", "/api/categories/{ref}", admin, () => Json("PATCH", categoryUrl, new { description = "About it.", parent = (object?)null }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("DELETE", "/api/categories/{ref}", admin, () => Get(categoryUrl, HttpMethod.Delete), HttpStatusCode.NoContent);
            Add("POST", "/api/categories/{ref}/restore", admin, () => Get($"{categoryUrl}/restore", HttpMethod.Post), HttpStatusCode.OK);

            Add("GET", "/api/jobs", admin, () => Get("/api/jobs?kind=catalog.import&status=COMPLETED"), HttpStatusCode.OK);
            Add("GET", "/api/workers", admin, () => Get("/api/workers"), HttpStatusCode.OK);
            Add("GET", "/api/jobs/{id}", admin, () => Get($"/api/jobs/{import}"), HttpStatusCode.OK);
            Add("GET", "/api/job/{id}/status", admin, () => Get($"/api/job/{import}/status"), HttpStatusCode.OK);
            Add("GET", "/api/jobs/{id}/events", admin, () => Get($"/api/jobs/{import}/events"), HttpStatusCode.OK);
            Add("POST", "/api/jobs/{id}/retry", admin, () => Get($"/api/jobs/{failed}/retry", HttpMethod.Post), HttpStatusCode.OK);
            Add("POST", "/api/jobs/{id}/cancel", admin, () => Get($"/api/jobs/{import}/cancel", HttpMethod.Post), HttpStatusCode.Conflict);

            Add("GET", "/api/events", admin, () => Get("/api/events?type=product.created"), HttpStatusCode.OK);
            Add("GET", "/api/events/types", admin, () => Get("/api/events/types"), HttpStatusCode.OK);

            Add("GET", "/api/webhooks", admin, () => Get("/api/webhooks?is_active=true"), HttpStatusCode.OK);
            Add("POST", "/api/webhooks", admin, () => Json("POST", "/api/webhooks", new { url = receiver.Url("/second").ToString(), event_types = new[] { "*" }, description = "Second" }), HttpStatusCode.Created);
            Add("GET", "/api/webhooks/{id}", admin, () => Get(webhookUrl), HttpStatusCode.OK);
            Add("PUT", "/api/webhooks/{id}", admin, () => Json("PUT", webhookUrl, new { url = receiver.Url().ToString(), event_types = new[] { "product.created", "product.updated" } }), HttpStatusCode.OK);
            Add("PATCH", "/api/webhooks/{id}", admin, () => Json("PATCH", webhookUrl, new { description = "Patched" }, "application/merge-patch+json"), HttpStatusCode.OK);
            Add("POST", "/api/webhooks/{id}/rotate_secret", admin, () => Json("POST", $"{webhookUrl}/rotate_secret", new { overlap_seconds = 60 }), HttpStatusCode.OK);
            Add("POST", "/api/webhooks/{id}/test", admin, () => Get($"{webhookUrl}/test", HttpMethod.Post), HttpStatusCode.OK);
            Add("GET", "/api/webhooks/{id}/deliveries", admin, () => Get($"{webhookUrl}/deliveries?status=SUCCEEDED"), HttpStatusCode.OK);
            Add("GET", "/api/webhooks/{id}/deliveries/{delivery_id}", admin, () => Get($"{webhookUrl}/deliveries/{delivery}"), HttpStatusCode.OK);
            Add("POST", "/api/webhooks/{id}/deliveries/{delivery_id}/retry", admin, () => Get($"{webhookUrl}/deliveries/{delivery}/retry", HttpMethod.Post), HttpStatusCode.Accepted);
            Add("POST", "/api/webhooks/{id}/recover", admin, () => Get($"{webhookUrl}/recover?since=2020-01-01T00:00:00Z", HttpMethod.Post), HttpStatusCode.Accepted);
            Add("DELETE", "/api/webhooks/{id}", admin, () => Get(webhookUrl, HttpMethod.Delete), HttpStatusCode.NoContent);
            return _samples;
        }

        private void Add(string method, string template, HttpClient client, Func<Task<HttpRequestMessage>> request, HttpStatusCode? expect) =>
            _samples.Add(new Sample(method, template, client, request, expect));

        private static Task<HttpRequestMessage> Get(string url, HttpMethod? method = null) =>
            Task.FromResult(new HttpRequestMessage(method ?? HttpMethod.Get, url));

        private static Task<HttpRequestMessage> Json(string method, string url, object body, string mediaType = "application/json")
        {
            var content = new StringContent(JsonSerializer.Serialize(body, Emporium.Tests.Infrastructure.Json.Options), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return Task.FromResult(new HttpRequestMessage(new HttpMethod(method), url) { Content = content });
        }

        private static StringContent Csv(string text)
        {
            var content = new StringContent(text, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            return content;
        }

        private static async Task<JsonElement> CreateAsync(HttpClient client, string url, object body) =>
            await (await client.PostJson(url, body)).ShouldBe(HttpStatusCode.Created);

        private static async Task<long> UploadAsync(HttpClient client, string csv) =>
            (await (await client.PostAsync("/api/products/upload", Csv(csv))).ShouldBe(HttpStatusCode.Accepted)).GetProperty("job_id").GetInt64();

        private static async Task<long> WaitForDeliveryAsync(HttpClient client, long webhook)
        {
            var deliveries = await client.WaitForDeliveriesAsync(webhook, found => found.Any(d => d.Status() == "SUCCEEDED"), seconds: 60);
            return deliveries.First(d => d.Status() == "SUCCEEDED").GetProperty("id").GetInt64();
        }
    }
}
