using System.Globalization;

namespace Emporium.Tests.Infrastructure;

/// <summary>
/// One scale for every deadline a test waits under (polling helpers, receivers, browser expectations): the default 1 suits a
/// quiet machine, CI=true makes it 2 (a loaded two-core runner), and EMPORIUM_TEST_TIME_SCALE sets it outright. Deadlines
/// only bound how long a failing test waits; no test asserts that something was fast (benchmarks do, under bench/).
/// </summary>
public static class TestTime
{
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("EMPORIUM_TEST_TIME_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) && scale > 0
            ? scale
            : Environment.GetEnvironmentVariable("CI") is "true" or "1" ? 2 : 1;

    /// <summary><paramref name="seconds"/> on a quiet machine, scaled.</summary>
    public static TimeSpan Of(double seconds) => TimeSpan.FromSeconds(seconds * Scale);

    /// <summary>The instant a wait of <paramref name="seconds"/> (scaled) from now gives up.</summary>
    public static DateTime Deadline(double seconds) => DateTime.UtcNow + Of(seconds);
}
