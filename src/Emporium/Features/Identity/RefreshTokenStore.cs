using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Emporium.Features.Identity;

public enum RotationFailure
{
    None,
    Unknown,
    Expired,

    /// <summary>The token had already been rotated or revoked: its whole family is now revoked.</summary>
    Reused,
}

public readonly record struct Rotation(RotationFailure Failure, long UserId, string? Token)
{
    public bool Succeeded => Failure == RotationFailure.None;
}

/// <summary>
/// Issues, rotates and revokes refresh tokens. Values are 256-bit random strings handed out once;
/// the database holds only their SHA-256, looked up by equality.
/// </summary>
public sealed class RefreshTokenStore(EmporiumDbContext db, IOptions<JwtOptions> options, TimeProvider clock)
{
    private DbSet<RefreshToken> Tokens => db.Set<RefreshToken>();

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Starts a new family, for a fresh login.</summary>
    public async Task<string> IssueAsync(long userId, CancellationToken cancellationToken)
    {
        var (value, token) = New(userId, Guid.NewGuid(), clock.GetUtcNow().UtcDateTime);
        Tokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return value;
    }

    /// <summary>
    /// Exchanges a current token for its successor. The old row is revoked by a guarded update, so of two
    /// requests racing with the same token only one wins; the loser is treated like any other reuse.
    /// </summary>
    public async Task<Rotation> RotateAsync(string presented, CancellationToken cancellationToken)
    {
        var hash = Hash(presented);
        var current = await Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (current is null)
        {
            return new Rotation(RotationFailure.Unknown, 0, null);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (current.RevokedAt is { } revokedAt)
        {
            if (current.ReplacedById is { } successor && now - revokedAt <= options.Value.RefreshReuseGrace
                && await ReplaceUnusedSuccessorAsync(current, successor, cancellationToken) is { } again)
            {
                return new Rotation(RotationFailure.None, current.UserId, again);
            }

            await RevokeFamilyAsync(current.FamilyId, cancellationToken);
            return new Rotation(RotationFailure.Reused, current.UserId, null);
        }

        // A token issued before Auth:SessionLifetime was shortened may outlive the login's new end: the login ends all the same.
        if (current.ExpiresAt <= now || (current.SignedInAt ?? current.CreatedAt) + options.Value.SessionLifetime <= now)
        {
            return new Rotation(RotationFailure.Expired, current.UserId, null);
        }

        var (value, replacement) = New(current.UserId, current.FamilyId, current.SignedInAt ?? current.CreatedAt);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            Tokens.Add(replacement);
            await db.SaveChangesAsync(cancellationToken);
            var rotated = await Tokens
                .Where(t => t.Id == current.Id && t.RevokedAt == null)
                .ExecuteUpdateAsync(
                    set => set.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.ReplacedById, replacement.Id),
                    cancellationToken);
            if (rotated == 1)
            {
                await transaction.CommitAsync(cancellationToken);
                return new Rotation(RotationFailure.None, current.UserId, value);
            }

            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }

        await RevokeFamilyAsync(current.FamilyId, cancellationToken);
        return new Rotation(RotationFailure.Reused, current.UserId, null);
    }

    /// <summary>
    /// A rotated token presented again within Auth:RefreshReuseGrace: when its successor was never used (the answer that
    /// carried it was lost), the successor is revoked and a new one issued in the same family; null when it was used (the
    /// usual sign of a stolen token), which the caller answers by revoking the family.
    /// </summary>
    private async Task<string?> ReplaceUnusedSuccessorAsync(RefreshToken current, long successor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var (value, replacement) = New(current.UserId, current.FamilyId, current.SignedInAt ?? current.CreatedAt);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Guarded: of a reuse and the successor's own rotation at once, one wins.
        var revoked = await Tokens.Where(t => t.Id == successor && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
        if (revoked == 0)
        {
            return null;
        }

        Tokens.Add(replacement);
        await db.SaveChangesAsync(cancellationToken);
        await Tokens.Where(t => t.Id == current.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.ReplacedById, replacement.Id), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return value;
    }

    /// <summary>Revokes the family of <paramref name="presented"/>; unknown tokens are ignored (logout is idempotent).</summary>
    public async Task RevokeFamilyOfAsync(string presented, CancellationToken cancellationToken)
    {
        var hash = Hash(presented);
        var family = await Tokens.Where(t => t.TokenHash == hash).Select(t => (Guid?)t.FamilyId).SingleOrDefaultAsync(cancellationToken);
        if (family is { } id)
        {
            await RevokeFamilyAsync(id, cancellationToken);
        }
    }

    /// <summary>Revokes every live refresh token of a user: each of its sessions ends at its next refresh.</summary>
    public Task<int> RevokeAllOfAsync(long userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return Tokens
            .Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
    }

    private Task<int> RevokeFamilyAsync(Guid family, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return Tokens
            .Where(t => t.FamilyId == family && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
    }

    private (string Value, RefreshToken Token) New(long userId, Guid family, DateTime signedInAt)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var sessionEnds = signedInAt + options.Value.SessionLifetime;
        var value = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (value, new RefreshToken
        {
            UserId = userId,
            TokenHash = Hash(value),
            FamilyId = family,
            CreatedAt = now,
            SignedInAt = signedInAt,
            ExpiresAt = Min(now + options.Value.RefreshTokenLifetime, sessionEnds),
        });
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
}
