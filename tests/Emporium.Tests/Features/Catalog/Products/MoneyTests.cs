using System.Net;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Features.Catalog.Products;

/// <summary>Amounts are exact on both databases and carry their currency's scale (decision 0012).</summary>
public abstract class MoneyTests(EmporiumApp app)
{
    [Theory]
    [InlineData("USD", "19.999", "at most 2 decimal places in USD")]
    [InlineData("JPY", "1500.5", "whole number in JPY")]
    [InlineData("EUR", "-1", "0 or more")]
    [InlineData("KWD", "1.2345", "at most 3 decimal places in KWD")]
    public async Task A_price_beyond_its_currencys_scale_is_a_field_error(string currency, string price, string message)
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var body = $$"""{"sku": "M-{{Tag()}}", "name": "Money", "price": {{price}}, "currency": "{{currency}}"}""";

        var problem = await (await staff.Http.PostAsync("/api/products", new StringContent(body, System.Text.Encoding.UTF8, "application/json")))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("price")[0].GetString().Should().Contain(message);
    }

    [Theory]
    [InlineData("ZZZ")]
    [InlineData("usd")]
    [InlineData("XAU")]
    public async Task Currency_must_be_an_active_ISO_4217_code(string currency)
    {
        var staff = await app.NewUserAsync(Roles.Staff);

        var problem = await (await staff.Http.PostJson("/api/products", new { sku = $"M-{Tag()}", name = "Money", price = 1, currency }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").GetProperty("currency")[0].GetString().Should().Contain("ISO 4217");
    }

    [Fact]
    public async Task Prices_read_back_with_exactly_their_currencys_decimal_places_on_every_database()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var usd = await staff.Http.CreateProductAsync(new { sku = $"U-{Tag()}", name = "Dollars", price = 19.9m, currency = "USD" });
        var yen = await staff.Http.CreateProductAsync(new { sku = $"Y-{Tag()}", name = "Yen", price = 1500m, currency = "JPY" });
        var dinar = await staff.Http.CreateProductAsync(new { sku = $"K-{Tag()}", name = "Dinar", price = 0.125m, currency = "KWD" });

        foreach (var (product, text) in new[] { (usd, "19.90"), (yen, "1500"), (dinar, "0.125") })
        {
            product.GetProperty("price").GetRawText().Should().Be(text);
            var read = await (await app.Anonymous().GetAsync($"/api/products/{product.Id()}")).ShouldBe(HttpStatusCode.OK);
            read.GetProperty("price").GetRawText().Should().Be(text);
        }
    }

    [Fact]
    public async Task Price_filters_compare_exact_amounts()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        foreach (var price in new[] { 0.1m, 0.2m, 0.3m })
        {
            await staff.Http.CreateProductAsync(new { sku = $"F{price}-{tag}", name = $"Filter {tag} {price}", price });
        }

        var exact = await (await app.Anonymous().GetAsync($"/api/products?name={tag}&min_price=0.3&max_price=0.3")).ShouldBe(HttpStatusCode.OK);
        exact.Names().Should().Equal($"Filter {tag} 0.3");
        var sorted = await (await app.Anonymous().GetAsync($"/api/products?name={tag}&sort=-price")).ShouldBe(HttpStatusCode.OK);
        sorted.Names().Should().Equal($"Filter {tag} 0.3", $"Filter {tag} 0.2", $"Filter {tag} 0.1");
    }

    [Fact]
    public async Task An_import_reads_the_currency_column_and_checks_each_price_against_its_currency()
    {
        var staff = await app.NewUserAsync(Roles.Staff);
        var tag = Tag();
        await staff.Http.CreateProductAsync(new { sku = $"yen-{tag}", name = "Yen", price = 100m, currency = "JPY" });
        var csv = "sku,name,price,currency\r\n" +
                  $"eur-{tag},Euros,12.50,EUR\r\n" +
                  $"bad-{tag},Bad yen,12.50,JPY\r\n" +
                  $"odd-{tag},Odd code,1,ZZZ\r\n" +
                  $"plain-{tag},No currency,3,\r\n";
        var job = await Uploads.ImportAsync(staff.Http, Uploads.Raw(csv));
        job.GetProperty("result").GetProperty("created").GetInt32().Should().Be(2);
        job.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(2);

        // Without a currency column, a price is checked against the currency the stored product keeps.
        var noColumn = $"sku,name,price\r\nyen-{tag},Yen,99.5\r\nnew-{tag},New,1.255\r\nyen2-{tag},Fine,7.25\r\n";
        var second = await Uploads.ImportAsync(staff.Http, Uploads.Raw(noColumn));
        second.GetProperty("result").GetProperty("rejected").GetInt32().Should().Be(2);
        var errors = await staff.Http.GetStringAsync(second.GetProperty("result").Str("errors_url"));
        errors.Should().Contain("whole number in JPY").And.Contain("at most 2 decimal places in USD");

        var stored = await app.WithDbAsync(db => db.Set<Product>().AsNoTracking()
            .Where(p => p.Sku.EndsWith(tag)).ToDictionaryAsync(p => p.Sku, p => (p.Price, p.Currency)));
        stored[$"eur-{tag}"].Should().Be((12.5m, "EUR"));
        stored[$"plain-{tag}"].Should().Be((3m, "USD"));
        stored[$"yen-{tag}"].Should().Be((100m, "JPY"));
        stored[$"yen2-{tag}"].Should().Be((7.25m, "USD"));
        stored.Should().NotContainKeys($"bad-{tag}", $"odd-{tag}", $"new-{tag}");
    }
}

public sealed class MoneyTestsOnSqlite(UploadSqliteApp app) : MoneyTests(app), IClassFixture<UploadSqliteApp>;

public sealed class MoneyTestsOnPostgres(UploadPostgresApp app) : MoneyTests(app), IClassFixture<UploadPostgresApp>;
