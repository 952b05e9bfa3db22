using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Infrastructure;

/// <summary>For tests that hold a row lock on PostgreSQL so that a request certainly waits for it, rather than by timing.</summary>
public static class LockWaits
{
    /// <summary>Returns once some session of this test database waits for a lock (the request under test has reached the held row).</summary>
    public static async Task WaitForALockWaitAsync(this EmporiumApp app)
    {
        for (var i = 0; i < 200; i++)
        {
            var waiting = await app.WithDbAsync(db => db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").SingleAsync());
            if (waiting > 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("No session ever waited for the held lock.");
    }
}
