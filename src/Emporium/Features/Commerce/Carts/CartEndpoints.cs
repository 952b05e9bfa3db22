using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Variants;
using Emporium.Platform.Persistence;

namespace Emporium.Features.Commerce.Carts;

/// <summary>
/// A cart per signed-in user (decision 0016). It holds variants and quantities only; prices and availability are read
/// fresh every time it is shown, and checkout decides.
/// </summary>
public static class CartEndpoints
{
    private const string What = "Cart item";

    /// <summary>Held, keyed by the user's id, by each add to a cart.</summary>
    private const string CartLock = "cart";

    public static IEndpointRouteBuilder MapCart(this IEndpointRouteBuilder app)
    {
        var cart = app.MapGroup("/api/cart").WithTags("Cart").RequireAuthorization();

        cart.MapGet("", GetCart)
            .Documented("Get your cart", "Each line with its current unit price, line total and availability; one total per currency.");

        cart.MapPost("/items", AddCartItem)
            .Documented("Add a variant to your cart", "By variant_id or sku. A variant already in the cart gets the quantity added to its line. " +
                "A quantity outside 1 to Commerce:MaxQuantity is 400. An unknown variant, or one no longer sold (deleted, or its product inactive or " +
                "deleted), is 422 naming the field; so is a line whose units added together would pass Commerce:MaxQuantity, or a cart that would " +
                "pass Commerce:MaxCartLines.", 422);

        cart.MapPatch("/items/{id:long}", UpdateCartItem)
            .Documented("Change a line's quantity", "1 to Commerce:MaxQuantity; remove a line with DELETE.", 404);

        cart.MapDelete("/items/{id:long}", RemoveCartItem)
            .Documented("Remove a line from your cart", "Answers 204; 404 when the line is not in your cart (removed already, or checked out).", 404);

        return app;
    }

    public static async Task<Ok<CartResponse>> GetCart([AsParameters] RequestScope scope) =>
        TypedResults.Ok(await LoadAsync(scope.Db, UserOf(scope), scope.Aborted));

    public static async Task<Results<Ok<CartResponse>, ValidationProblem, ProblemHttpResult>> AddCartItem(
        CartItemRequest request, [AsParameters] RequestScope scope, IOptions<CommerceOptions> options, IWriteLocks locks)
    {
        var (db, _, _, cancellationToken) = scope;
        var limits = options.Value;
        var errors = new ValidationErrors();
        var sku = request.Sku?.Trim();
        errors.When((request.VariantId is null) == string.IsNullOrEmpty(sku), "variant_id", "Give either variant_id or sku.");
        CheckQuantity(request.Quantity, limits, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var field = request.VariantId is null ? "sku" : "variant_id";
        var skuKey = sku is null ? null : Product.KeyOf(sku);
        var variant = await db.Set<Variant>().AsNoTracking()
            .Where(v => request.VariantId != null ? v.Id == request.VariantId : v.SkuKey == skuKey)
            .Select(v => new { v.Id, v.Sku, Sold = v.DeletedAt == null && v.Product!.IsActive && v.Product.DeletedAt == null })
            .FirstOrDefaultAsync(cancellationToken);
        if (variant is not { Sold: true })
        {
            // An unsold variant reads like a missing one (decision 0013: hidden products leak nothing, not even that
            // their SKU exists).
            var message = request.VariantId is { } id
                ? $"No variant {id.ToString(CultureInfo.InvariantCulture)} is for sale."
                : $"No variant with SKU '{sku}' is for sale.";
            return Unprocessable(field, message);
        }

        var userId = UserOf(scope);
        var now = scope.UtcNow;
        var quantity = request.Quantity!.Value;
        // One add of a user's at a time: two at once each counted the lines before either added one, and a full cart
        // took a line past Commerce:MaxCartLines (or both added the same variant and one failed on the unique key).
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await locks.HoldAsync(CartLock, userId, cancellationToken);
        var merged = await db.Set<CartItem>()
            .Where(i => i.UserId == userId && i.VariantId == variant.Id && i.Quantity + quantity <= limits.MaxQuantity)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.Quantity, i => i.Quantity + quantity).SetProperty(i => i.UpdatedAt, now), cancellationToken);
        if (merged == 0)
        {
            if (await db.Set<CartItem>().Where(i => i.UserId == userId && i.VariantId == variant.Id).Select(i => (int?)i.Quantity)
                    .FirstOrDefaultAsync(cancellationToken) is { } held)
            {
                return Unprocessable("quantity", $"The cart already holds {held} of {variant.Sku}; a line holds at most {limits.MaxQuantity}.");
            }

            if (await db.Set<CartItem>().CountAsync(i => i.UserId == userId, cancellationToken) >= limits.MaxCartLines)
            {
                return Unprocessable(field, $"A cart holds at most {limits.MaxCartLines} lines; check out or remove some first.");
            }

            db.Set<CartItem>().Add(new CartItem { UserId = userId, VariantId = variant.Id, Quantity = quantity, CreatedAt = now, UpdatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(await LoadAsync(db, userId, cancellationToken));
    }

    public static async Task<Results<Ok<CartResponse>, ValidationProblem, ProblemHttpResult>> UpdateCartItem(
        long id, CartQuantityRequest request, [AsParameters] RequestScope scope, IOptions<CommerceOptions> options)
    {
        var errors = new ValidationErrors();
        CheckQuantity(request.Quantity, options.Value, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var userId = UserOf(scope);
        var changed = await scope.Db.Set<CartItem>()
            .Where(i => i.Id == id && i.UserId == userId)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.Quantity, request.Quantity!.Value).SetProperty(i => i.UpdatedAt, scope.UtcNow), scope.Aborted);
        return changed == 0 ? Problems.NotFound(What) : TypedResults.Ok(await LoadAsync(scope.Db, userId, scope.Aborted));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveCartItem(long id, [AsParameters] RequestScope scope)
    {
        var userId = UserOf(scope);
        var removed = await scope.Db.Set<CartItem>().Where(i => i.Id == id && i.UserId == userId).ExecuteDeleteAsync(scope.Aborted);
        return removed == 0 ? Problems.NotFound(What) : TypedResults.NoContent();
    }

    /// <summary>The cart of <paramref name="userId"/>, lines in the order they were added, priced now.</summary>
    internal static async Task<CartResponse> LoadAsync(EmporiumDbContext db, long userId, CancellationToken cancellationToken)
    {
        var items = await db.Set<CartItem>().AsNoTracking().Where(i => i.UserId == userId).OrderBy(i => i.Id)
            .Select(i => new { i.Id, i.VariantId, i.Quantity })
            .ToListAsync(cancellationToken);
        var variants = await VariantReads.ByIdAsync(db, items.ConvertAll(i => i.VariantId), cancellationToken);
        var lines = items.ConvertAll(item =>
        {
            var variant = variants[item.VariantId];
            var lineTotal = Money.Normalize(variant.UnitPrice * item.Quantity, variant.Currency);
            return new CartLineResponse(
                item.Id, variant.Id, variant.ProductId, variant.Sku, variant.ProductName, variant.AttributeMap, variant.UnitPrice, variant.Currency,
                item.Quantity, lineTotal, variant.Sellable, variant.Sellable >= item.Quantity);
        });
        var totals = lines.GroupBy(l => l.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new MoneyTotal(g.Key, g.Sum(l => l.LineTotal))).ToList();
        return new CartResponse(lines, totals, lines.Sum(l => l.Quantity));
    }

    private static void CheckQuantity(int? quantity, CommerceOptions limits, ValidationErrors errors) =>
        errors.When(quantity is not { } q || q < 1 || q > limits.MaxQuantity, "quantity", $"quantity is required, 1 to {limits.MaxQuantity}.");

    private static long UserOf(RequestScope scope) =>
        scope.Http.User.UserId() ?? throw new InvalidOperationException("The cart endpoints require a signed-in user.");

    private static ProblemHttpResult Unprocessable(string field, string message) =>
        Problems.OfField(StatusCodes.Status422UnprocessableEntity, "The cart cannot take this.", message, field, message);
}
