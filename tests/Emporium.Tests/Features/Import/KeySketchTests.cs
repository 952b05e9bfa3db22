using Emporium.Features.Import;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// The import's sketch of the catalog's keys: a key it was given is always "maybe" (a wrong "no" would let the look-ahead
/// take a stored product for a new one), and a key it was not is "no" nearly always while it holds what it was sized for.
/// </summary>
public sealed class KeySketchTests
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(200_000)]
    public void Holds_every_key_it_was_given_and_few_others(int count)
    {
        var sketch = new KeySketch(count);
        for (var i = 0; i < count; i++)
        {
            sketch.Add($"SKU-{i:0000000}");
        }

        Enumerable.Range(0, count).Should().OnlyContain(i => sketch.MayContain($"SKU-{i:0000000}"));
        var wrong = Enumerable.Range(count, 100_000).Count(i => sketch.MayContain($"SKU-{i:0000000}"));
        wrong.Should().BeLessThan(2_000, "about 1 % of keys never added may be answered with a maybe");
    }

    [Fact]
    public void Still_holds_every_key_when_given_many_more_than_it_was_sized_for()
    {
        var sketch = new KeySketch(10);
        var keys = Enumerable.Range(0, 5_000).Select(i => $"slug-{i}").ToList();
        keys.ForEach(sketch.Add);

        keys.Should().OnlyContain(key => sketch.MayContain(key));
    }

    [Fact]
    public void An_empty_sketch_holds_nothing()
    {
        var sketch = new KeySketch(0);

        sketch.MayContain("SKU-1").Should().BeFalse();
        sketch.MayContain(string.Empty).Should().BeFalse();
    }
}
