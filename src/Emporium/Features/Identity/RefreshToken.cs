using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Identity;

/// <summary>
/// One issued refresh token. Only the SHA-256 of the value is kept, so a leaked table cannot be replayed.
/// Every token descends from one login: they share <see cref="FamilyId"/>, which is what a reuse of an
/// already rotated token revokes.
/// </summary>
public sealed class RefreshToken
{
    public long Id { get; set; }

    public long UserId { get; set; }

    /// <summary>Lower-case hex SHA-256 of the value handed to the client.</summary>
    public string TokenHash { get; set; } = "";

    public Guid FamilyId { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// When the family's login happened: no token of it lives past this plus Auth:SessionLifetime. Null on tokens issued
    /// before it was recorded, whose own creation stands in for it.
    /// </summary>
    public DateTime? SignedInAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    /// <summary>The token this one was rotated into; null while it is current (or when revoked without rotation).</summary>
    public long? ReplacedById { get; set; }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public const int HashLength = 64;

    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.Property(t => t.TokenHash).HasMaxLength(HashLength).IsFixedLength(false);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.FamilyId);
        builder.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<RefreshToken>().WithMany().HasForeignKey(t => t.ReplacedById).OnDelete(DeleteBehavior.SetNull);
    }
}
