using Emporium.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Identity;

/// <summary>
/// Sign-ins to one account from one client address (its IPv4 address or IPv6 /64): the failures, the lock they led to, and
/// the last success. The row of <see cref="SignInFailures.AnyAddress"/> counts the account's failures from every address.
/// </summary>
public sealed class SignInFailure
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public string Client { get; set; } = "";

    /// <summary>Failures since the last lock, the last success, or a pause longer than the lockout.</summary>
    public int Failures { get; set; }

    public DateTime LastFailedAt { get; set; }

    public DateTime? LockedUntil { get; set; }

    /// <summary>The last sign-in from this address: while it is recent, the address is the owner's (an account-wide lock spares it).</summary>
    public DateTime? LastSucceededAt { get; set; }
}

internal sealed class SignInFailureConfiguration : IEntityTypeConfiguration<SignInFailure>
{
    public void Configure(EntityTypeBuilder<SignInFailure> builder)
    {
        builder.ToTable("sign_in_failures");
        builder.Property(f => f.Client).HasMaxLength(64);
        builder.HasIndex(f => new { f.UserId, f.Client }).IsUnique();
        builder.HasIndex(f => f.LastFailedAt);
        builder.HasOne<User>().WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// The lockout after repeated wrong passwords (decision 0022). Identity's own lockout is per account: anyone who knew an
/// address could keep its owner (an admin too) out with five wrong passwords every fifteen minutes. Here:
/// <list type="bullet">
/// <item>Identity:Lockout:MaxFailedAccessAttempts failures from one address, each within Identity:Lockout:DefaultLockoutTimeSpan
/// of the last, lock that address out of that account for the span;</item>
/// <item>Auth:AccountLockoutThreshold failures from all addresses together (guessing from many networks) lock the account
/// for the span too, except from the addresses it signed in from within Auth:SessionLifetime: the owner's own.</item>
/// </list>
/// Counted under a lock per account, so wrong passwords sent at once each count.
/// </summary>
public sealed class SignInFailures(
    EmporiumDbContext db, IWriteLocks locks, IOptions<IdentityOptions> identity, IOptions<JwtOptions> auth, TimeProvider clock)
{
    /// <summary>The client of the row that counts an account's failures from every address.</summary>
    public const string AnyAddress = "*";

    private const string Lock = "sign-in-failures";

    private LockoutOptions Lockout => identity.Value.Lockout;

    public async Task<bool> IsLockedOutAsync(long userId, string client, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var rows = await db.Set<SignInFailure>().AsNoTracking()
            .Where(f => f.UserId == userId && (f.Client == client || f.Client == AnyAddress))
            .ToListAsync(cancellationToken);
        var own = rows.Find(f => f.Client == client);
        var known = own?.LastSucceededAt > now - auth.Value.SessionLifetime;
        return own?.LockedUntil > now || (!known && rows.Exists(f => f.Client == AnyAddress && f.LockedUntil > now));
    }

    public Task CountAsync(long userId, string client, CancellationToken cancellationToken) =>
        UnderLockAsync(userId, async now =>
        {
            Count(await RowAsync(userId, client, cancellationToken), Lockout.MaxFailedAccessAttempts, now);
            Count(await RowAsync(userId, AnyAddress, cancellationToken), auth.Value.AccountLockoutThreshold, now);
        }, cancellationToken);

    /// <summary>A success from an address forgets its failures (as Identity resets its count) and makes it a known one.</summary>
    public Task SucceededAsync(long userId, string client, CancellationToken cancellationToken) =>
        UnderLockAsync(userId, async now =>
        {
            var row = await RowAsync(userId, client, cancellationToken);
            row.Failures = 0;
            row.LockedUntil = null;
            row.LastSucceededAt = now;
        }, cancellationToken);

    /// <summary>An admin's unlock, or a new password set by one, ends every lock of the account (known addresses stay known).</summary>
    public Task ForgetAllAsync(long userId, CancellationToken cancellationToken) =>
        db.Set<SignInFailure>().Where(f => f.UserId == userId && (f.LockedUntil != null || f.Failures > 0))
            .ExecuteUpdateAsync(set => set.SetProperty(f => f.Failures, 0).SetProperty(f => f.LockedUntil, (DateTime?)null), cancellationToken);

    private void Count(SignInFailure row, int limit, DateTime now)
    {
        // Failures further apart than the lockout do not add up: a typo a day never locks anyone out.
        row.Failures = now - row.LastFailedAt > Lockout.DefaultLockoutTimeSpan ? 1 : row.Failures + 1;
        row.LastFailedAt = now;
        if (row.Failures >= limit)
        {
            row.Failures = 0;
            row.LockedUntil = now + Lockout.DefaultLockoutTimeSpan;
        }
    }

    private async Task<SignInFailure> RowAsync(long userId, string client, CancellationToken cancellationToken)
    {
        var row = await db.Set<SignInFailure>().SingleOrDefaultAsync(f => f.UserId == userId && f.Client == client, cancellationToken);
        if (row is null)
        {
            row = new SignInFailure { UserId = userId, Client = client };
            db.Add(row);
        }

        return row;
    }

    private async Task UnderLockAsync(long userId, Func<DateTime, Task> change, CancellationToken cancellationToken)
    {
        // The purge, which takes no lock, may delete a row between the read and the write: done again from what is left.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await locks.HoldAsync(Lock, userId, cancellationToken);
                await change(clock.GetUtcNow().UtcDateTime);
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
            }
            finally
            {
                foreach (var entry in db.ChangeTracker.Entries<SignInFailure>().ToList())
                {
                    entry.State = EntityState.Detached;
                }
            }
        }
    }
}
