using Emporium.Platform;

namespace Emporium.Tests.Platform;

public sealed class CommandLineSwitchesTests
{
    [Theory]
    [InlineData(new[] { "--seed-demo" }, new[] { "--seed-demo=true" })]
    [InlineData(new[] { "--seed-demo", "--urls", "http://127.0.0.1:1" }, new[] { "--seed-demo=true", "--urls", "http://127.0.0.1:1" })]
    [InlineData(new[] { "--seed-demo", "false" }, new[] { "--seed-demo", "false" })]
    [InlineData(new[] { "--urls", "http://x" }, new[] { "--urls", "http://x" })]
    public void Bare_flags_do_not_swallow_the_next_argument(string[] args, string[] expected) =>
        CommandLineSwitches.Expand(args).Should().Equal(expected);
}
