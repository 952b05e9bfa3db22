using Emporium.Features.Jobs;

namespace Emporium.Tests.Features.Jobs;

/// <summary>The rate and ETA a job shows: its present pace, also when an attempt resumes with most of the work settled.</summary>
public sealed class JobPaceTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; } = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    [Fact]
    public void A_fresh_attempt_counts_from_its_start()
    {
        var clock = new ManualClock();
        var pace = new JobPace(clock, resuming: false);

        clock.Advance(TimeSpan.FromSeconds(2));

        pace.Rate(10_000).Should().Be(5_000);
    }

    [Fact]
    public void A_resumed_attempt_counts_from_its_first_report_not_from_nothing()
    {
        var clock = new ManualClock();
        var pace = new JobPace(clock, resuming: true);
        clock.Advance(TimeSpan.FromMilliseconds(10));

        // 400,000 rows settled by the attempt that crashed: reported at once, done by nobody now.
        pace.Rate(400_000).Should().BeNull();
        clock.Advance(TimeSpan.FromSeconds(2));

        pace.Rate(410_000).Should().Be(5_000, "10,000 rows in 2 s, not 410,000");
    }

    [Fact]
    public void The_rate_follows_the_last_ten_seconds()
    {
        var clock = new ManualClock();
        var pace = new JobPace(clock, resuming: false);
        long processed = 0;
        for (var second = 0; second < 30; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            processed += second < 20 ? 1_000 : 100;
            pace.Rate(processed);
        }

        pace.Rate(processed).Should().BeApproximately(100, 1, "the last ten seconds ran at 100 a second");
    }
}
