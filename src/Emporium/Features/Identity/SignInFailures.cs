using Emporium.Platform.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Identity;

/// <summary>Failed sign-ins to one account from one client address (its IPv4 address or IPv6 /64), and the lock they led to.</summary>
public sealed class SignInFailure
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public string Client { get; set; } = "";

    /// <summary>Failures since the last lock, the last success, or a pause longer than the lockout.</summary>
    public int Failures { get; set; }

    public DateTime LastFailedAt { get; set; }

    public DateTime? LockedUntil { get; set; }
}

internal sealed class SignInFailureConfiguration : IEntityTypeConfiguration<SignInFailure>
{
    public void Configure(EntityTypeBuilder<SignInFailure> builder)
    {
        builder.ToTable("sign_in_failures");
        builder.HasIndex(f => new { f.UserId, f.Client }).IsUnique();
        builder.Property(f => f.Client).HasMaxLength(64);
        builder.HasIndex(f => f.LastFailedAt);
        builder.HasOne<User>().WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// The lockout after repeated wrong passwords, per account and client address (Identity:Lockout:MaxFailedAccessAttempts
/// within Identity:Lockout:DefaultLockoutTimeSpan lock that address out of that account for the span). Identity's own
/// lockout is per account: anyone who knew an address could keep its owner (an admin too) out with five wrong passwords
/// every fifteen minutes. Here the guesser's address is locked and the owner, elsewhere, signs in; guessing from many
/// addresses is held back by the auth rate limit of each. Counted under a lock per account, so wrong passwords sent at
/// once each count.
/// </summary>
public sealed class SignInFailures(EmporiumDbContext db, IWriteLocks locks, IOptions<IdentityOptions> identity, TimeProvider clock)
{
    private const string Lock = "sign-in-failures";

    private LockoutOptions Lockout => identity.Value.Lockout;

    public async Task<bool> IsLockedOutAsync(long userId, string client, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.Set<SignInFailure>().AsNoTracking()
            .AnyAsync(f => f.UserId == userId && f.Client == client && f.LockedUntil > now, cancellationToken);
    }

    public async Task CountAsync(long userId, string client, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await locks.HoldAsync(Lock, userId, cancellationToken);
        var failure = await db.Set<SignInFailure>().SingleOrDefaultAsync(f => f.UserId == userId && f.Client == client, cancellationToken);
        if (failure is null)
        {
            failure = new SignInFailure { UserId = userId, Client = client };
            db.Add(failure);
        }

        // Failures further apart than the lockout do not add up: a typo a day never locks anyone out.
        failure.Failures = now - failure.LastFailedAt > Lockout.DefaultLockoutTimeSpan ? 1 : failure.Failures + 1;
        failure.LastFailedAt = now;
        if (failure.Failures >= Lockout.MaxFailedAccessAttempts)
        {
            failure.Failures = 0;
            failure.LockedUntil = now + Lockout.DefaultLockoutTimeSpan;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.Entry(failure).State = EntityState.Detached;
    }

    /// <summary>A success from an address forgets its failures (as Identity resets its count).</summary>
    public Task ForgetAsync(long userId, string client, CancellationToken cancellationToken) =>
        db.Set<SignInFailure>().Where(f => f.UserId == userId && f.Client == client).ExecuteDeleteAsync(cancellationToken);

    /// <summary>An admin's unlock, or a new password set by one, ends every address's lock of the account.</summary>
    public Task ForgetAllAsync(long userId, CancellationToken cancellationToken) =>
        db.Set<SignInFailure>().Where(f => f.UserId == userId).ExecuteDeleteAsync(cancellationToken);
}
