using Emporium.Features.Catalog.Variants;
using Emporium.Features.Identity;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Commerce.Carts;

/// <summary>
/// One line of a signed-in user's cart: a variant and how many. The cart is advice (decision 0016): prices and
/// availability are read fresh whenever it is shown, and again at checkout.
/// </summary>
public sealed class CartItem
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public long VariantId { get; set; }

    public Variant? Variant { get; set; }

    public int Quantity { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class CartItemConfiguration : IEntityTypeConfiguration<CartItem>
{
    public void Configure(EntityTypeBuilder<CartItem> builder)
    {
        builder.ToTable("cart_items", table => table.HasCheckConstraint("ck_cart_items_quantity_positive", "quantity > 0"));
        builder.HasOne<User>().WithMany().HasForeignKey(i => i.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(i => i.Variant).WithMany().HasForeignKey(i => i.VariantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(i => new { i.UserId, i.VariantId }).IsUnique();
        builder.HasIndex(i => i.VariantId);
    }
}
