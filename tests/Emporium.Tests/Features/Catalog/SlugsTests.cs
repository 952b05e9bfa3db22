using Emporium.Features.Catalog;

namespace Emporium.Tests.Features.Catalog;

public sealed class SlugsTests
{
    [Theory]
    [InlineData(0, "product")]
    [InlineData(1, "product-2")]
    [InlineData(2, "product-3")]
    [InlineData(5_000, "product-5001")]
    [InlineData(65_536, "product-65537")]
    public async Task A_generated_slug_is_the_first_free_one_found_in_a_few_lookups(int taken, string expected)
    {
        var used = Enumerable.Range(1, taken).Select(n => n == 1 ? "product" : $"product-{n}").ToHashSet();
        var lookups = 0;

        var slug = await Slugs.UniqueAsync("product", candidate =>
        {
            lookups++;
            return Task.FromResult(used.Contains(candidate));
        });

        slug.Should().Be(expected);
        lookups.Should().BeLessThanOrEqualTo(2 + (2 * (int)Math.Ceiling(Math.Log2(taken + 2))),
            "each lookup is a query inside the write's transaction");
    }

    [Fact]
    public async Task A_slug_freed_in_the_middle_of_the_run_may_be_reused()
    {
        var used = Enumerable.Range(1, 100).Where(n => n != 40).Select(n => n == 1 ? "mug" : $"mug-{n}").ToHashSet();

        var slug = await Slugs.UniqueAsync("mug", candidate => Task.FromResult(used.Contains(candidate)));

        used.Should().NotContain(slug);
    }
}
