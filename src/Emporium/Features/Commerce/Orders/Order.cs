using Emporium.Features.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Commerce.Orders;

/// <summary>Where an order is: pending → paid → fulfilled, and pending or paid → cancelled (which restocks).</summary>
public enum OrderStatus
{
    Pending,
    Paid,
    Fulfilled,
    Cancelled,
}

/// <summary>
/// A checked-out cart: lines snapshotted at checkout (what was bought, at what price), totals in exact money, and the
/// state it is in. Its id is the order number.
/// </summary>
public sealed class Order : Platform.Http.IVersioned
{
    public long Id { get; set; }

    public long? UserId { get; set; }

    /// <summary>The customer's email at checkout, where the confirmation goes.</summary>
    public required string Email { get; set; }

    public OrderStatus Status { get; set; } = OrderStatus.Pending;

    public required string Currency { get; set; }

    public decimal Total { get; set; }

    public int ItemCount { get; set; }

    public List<OrderLine> Lines { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? PaidAt { get; set; }

    public DateTime? FulfilledAt { get; set; }

    public DateTime? CancelledAt { get; set; }

    /// <summary>Set right after the SMTP server (or the mail folder) accepted the confirmation; a retried job that finds it set sends nothing.</summary>
    public DateTime? ConfirmationSentAt { get; set; }

    public int Version { get; set; } = 1;
}

/// <summary>One line as it was bought: SKU, names and attribute values, unit price, quantity and line total at checkout.</summary>
public sealed class OrderLine
{
    public long Id { get; set; }

    public long OrderId { get; set; }

    /// <summary>The variant sold (restocked on cancel); its later edits never change the line.</summary>
    public long VariantId { get; set; }

    public long ProductId { get; set; }

    public required string Sku { get; set; }

    public required string Name { get; set; }

    /// <summary>Attribute slug to value slug at checkout, as JSON ({"size": "m"}).</summary>
    public required string Attributes { get; set; }

    public decimal UnitPrice { get; set; }

    public int Quantity { get; set; }

    public decimal LineTotal { get; set; }
}

/// <summary>
/// A checkout's Idempotency-Key (per user): claimed before the checkout runs, answered in the checkout's own transaction,
/// so a retry with the same key and body gets the first answer and never a second order.
/// </summary>
public sealed class IdempotencyKey
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public required string Key { get; set; }

    /// <summary>SHA-256 of the request body, hex: the same key with another body is refused.</summary>
    public required string RequestHash { get; set; }

    /// <summary>Null while the first request is in flight.</summary>
    public int? StatusCode { get; set; }

    public string? Response { get; set; }

    public long? OrderId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> builder)
    {
        builder.ToTable("orders", table => table.HasCheckConstraint("ck_orders_total_not_negative", "total >= 0"));
        builder.Property(o => o.Email).HasMaxLength(256);
        builder.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(o => o.Currency).HasMaxLength(3);
        builder.Property(o => o.Total).HasPrecision(18, 4);
        builder.Property(o => o.Version).IsConcurrencyToken();
        builder.HasOne<User>().WithMany().HasForeignKey(o => o.UserId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(o => new { o.UserId, o.Id });
        builder.HasIndex(o => new { o.Status, o.Id });
        builder.HasIndex(o => o.CreatedAt);
        builder.HasMany(o => o.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OrderLineConfiguration : IEntityTypeConfiguration<OrderLine>
{
    public void Configure(EntityTypeBuilder<OrderLine> builder)
    {
        builder.ToTable("order_lines", table => table.HasCheckConstraint("ck_order_lines_quantity_positive", "quantity > 0"));
        builder.Property(l => l.Sku).HasMaxLength(Catalog.CatalogLimits.SkuLength);
        builder.Property(l => l.Name).HasMaxLength(Catalog.CatalogLimits.NameLength);
        builder.Property(l => l.Attributes).HasMaxLength(4_000);
        builder.Property(l => l.UnitPrice).HasPrecision(18, 4);
        builder.Property(l => l.LineTotal).HasPrecision(18, 4);
        builder.HasIndex(l => l.VariantId);
    }
}

internal sealed class IdempotencyKeyConfiguration : IEntityTypeConfiguration<IdempotencyKey>
{
    public void Configure(EntityTypeBuilder<IdempotencyKey> builder)
    {
        builder.ToTable("idempotency_keys");
        builder.Property(k => k.Key).HasMaxLength(255);
        builder.Property(k => k.RequestHash).HasMaxLength(64);
        builder.HasOne<User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(k => new { k.UserId, k.Key }).IsUnique();
        builder.HasIndex(k => k.ExpiresAt);
    }
}
