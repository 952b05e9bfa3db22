using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Jobs;

public sealed class JobSettingsTests
{
    [Theory]
    [InlineData("--Jobs:LeaseDuration=00:00:00.100", "Jobs:LeaseDuration")]
    [InlineData("--Jobs:Concurrency=0", "Concurrency")]
    [InlineData("--Jobs:PollInterval=00:00:00", "Jobs:PollInterval")]
    [InlineData("--Jobs:RetryDelays:0=-00:00:01", "Jobs:RetryDelays")]
    public Task A_wrong_jobs_setting_stops_the_service_with_one_line_naming_it(string argument, string named) =>
        RealBinary.RefusesToStartAsync(named, argument);
}
