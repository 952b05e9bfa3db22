using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Commerce.Carts;
using Emporium.Features.Commerce.Email;
using Emporium.Features.Events;
using Emporium.Features.Identity;
using Emporium.Features.Jobs;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Checks out a cart in one transaction (decision 0016): the order with its lines snapshotted, the cart emptied, the
/// order.created event and the confirmation email's job, then one guarded decrement per line in variant-id order (so
/// concurrent checkouts take row locks in the same order and queue instead of deadlocking), each recorded as a movement.
/// Any short line rolls everything back and the answer lists every short line. The decrements come last, so a hot
/// variant's row is locked only for the tail of the transaction. Deadlocks, serialization failures and a busy SQLite file
/// are retried here, with jitter, and never reach the client.
/// </summary>
public sealed class Checkout(
    EmporiumDbContext db,
    IEventOutbox events,
    IJobQueue jobs,
    ITransientConflicts conflicts,
    TimeProvider clock,
    IOptions<CommerceOptions> options,
    Platform.Telemetry.EmporiumMetrics metrics,
    ILogger<Checkout> logger)
{
    /// <summary>The answer: an order (201), or the problem that refused the checkout and left everything as it was.</summary>
    public sealed record Answer(Order? Order, ProblemHttpResult? Refusal);

    internal async Task<Answer> RunAsync(long userId, CheckoutRequest request, IdempotencyKeys.Claimed? key, Func<Order, string> answerBody, CancellationToken cancellationToken)
    {
        var answer = await conflicts.RetryAsync(
            () =>
            {
                db.ChangeTracker.Clear();
                return AttemptAsync(userId, request, key, answerBody, cancellationToken);
            },
            options.Value.CheckoutAttempts,
            clock,
            cancellationToken,
            (exception, attempt) => logger.LogDebug(exception, "Checkout of user {UserId} lost a race (attempt {Attempt}); running it again", userId, attempt));
        metrics.Checkout(answer.Order is not null ? "placed"
            : answer.Refusal?.ProblemDetails.Extensions.ContainsKey("lines") == true ? "out_of_stock"
            : "refused");
        return answer;
    }

    private async Task<Answer> AttemptAsync(
        long userId, CheckoutRequest request, IdempotencyKeys.Claimed? key, Func<Order, string> answerBody, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Lock the cart's lines first (a no-op write): a second checkout of the same cart, or a quantity change, waits
        // until this one ends and then finds what it left, so one cart never makes two orders.
        await db.Set<CartItem>().Where(i => i.UserId == userId).ExecuteUpdateAsync(set => set.SetProperty(i => i.Quantity, i => i.Quantity), cancellationToken);
        var items = await db.Set<CartItem>().AsNoTracking().Where(i => i.UserId == userId).OrderBy(i => i.VariantId)
            .Select(i => new { i.Id, i.VariantId, i.Quantity })
            .ToListAsync(cancellationToken);
        if (items.Count == 0)
        {
            return Refuse(Problems.Conflict("The cart is empty: add items (POST /api/cart/items) before checking out."));
        }

        // Under the cart's lock, so two checkouts of one customer cannot both pass.
        var unpaid = await db.Set<Order>().CountAsync(o => o.UserId == userId && o.Status == OrderStatus.Pending, cancellationToken);
        if (unpaid >= options.Value.MaxUnpaidOrders)
        {
            return Refuse(Problems.Conflict($"You have {unpaid} unpaid orders (at most {options.Value.MaxUnpaidOrders}, Commerce:MaxUnpaidOrders): " +
                "pay or cancel one before placing another; nothing was ordered and the cart is unchanged."));
        }

        var variants = await VariantReads.ByIdAsync(db, items.ConvertAll(i => i.VariantId), cancellationToken);
        var unsold = items.Where(i => variants[i.VariantId] is { } v && (v.DeletedAt is not null || !v.ProductSellable)).ToList();
        if (unsold.Count > 0)
        {
            // Every line that cannot be filled, as promised: the ones no longer sold and, as read now, the ones short of stock
            // (otherwise a customer who removes the first learns of the second only at the next try).
            return Refuse(Short(items.Where(i => unsold.Contains(i) || variants[i.VariantId].Sellable < i.Quantity)
                .Select(i => new ShortLine(variants[i.VariantId].Sku, i.Quantity, variants[i.VariantId].Sellable)).ToList()));
        }

        var currencies = items.Select(i => variants[i.VariantId].Currency).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (currencies.Count > 1)
        {
            var message = $"An order is paid in one currency; this cart has lines in {string.Join(" and ", currencies)}. Check them out separately.";
            return Refuse(Problems.OfField(StatusCodes.Status422UnprocessableEntity, "The cart mixes currencies.", message, "items", message));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var currency = currencies[0];
        var order = new Order
        {
            UserId = userId,
            Email = await db.Set<User>().Where(u => u.Id == userId).Select(u => u.Email!).FirstAsync(cancellationToken),
            Currency = currency,
            CreatedAt = now,
            UpdatedAt = now,
            Lines = items.ConvertAll(item =>
            {
                var variant = variants[item.VariantId];
                return new OrderLine
                {
                    VariantId = variant.Id,
                    ProductId = variant.ProductId,
                    Sku = variant.Sku,
                    Name = variant.ProductName,
                    Attributes = JsonSerializer.Serialize(variant.AttributeMap),
                    UnitPrice = variant.UnitPrice,
                    Quantity = item.Quantity,
                    LineTotal = Money.Normalize(variant.UnitPrice * item.Quantity, currency),
                };
            }),
        };
        order.Total = order.Lines.Sum(l => l.LineTotal);
        order.ItemCount = order.Lines.Sum(l => l.Quantity);
        if (order.Total > Money.Max)
        {
            var message = $"An order's total may be at most {Money.Format(Money.Max, currency)} {currency}; split the cart into several orders.";
            return Refuse(Problems.OfField(StatusCodes.Status422UnprocessableEntity, "The order is too large.", message, "items", message));
        }

        var otherCurrency = request.ExpectedCurrency?.Trim() is { } expectedCurrency && !expectedCurrency.Equals(currency, StringComparison.OrdinalIgnoreCase);
        if ((request.ExpectedTotal is { } expected && expected != order.Total) || otherCurrency)
        {
            var shown = $"{request.ExpectedTotal?.ToString(CultureInfo.InvariantCulture)} {request.ExpectedCurrency?.Trim().ToUpperInvariant()}".Trim();
            return Refuse(TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The total changed.",
                detail: $"The cart now costs {Money.Format(order.Total, currency)} {currency}, not {shown}; nothing was ordered. Show the customer the new total.",
                extensions: new Dictionary<string, object?> { ["total"] = Money.Normalize(order.Total, currency), ["currency"] = currency }));
        }

        db.Set<Order>().Add(order);
        await db.SaveChangesAsync(cancellationToken);

        var itemIds = items.ConvertAll(i => i.Id);
        await db.Set<CartItem>().Where(i => EF.Parameter(itemIds).Contains(i.Id)).ExecuteDeleteAsync(cancellationToken);
        events.Add(EventTypes.OrderCreated, OrderResponse.From(order));
        jobs.Enqueue(OrderConfirmationJobHandler.KindName, new OrderConfirmationJobHandler.Payload(order.Id), requestedBy: userId);
        await db.SaveChangesAsync(cancellationToken);

        // Written before the decrements (a short line rolls it back with everything else), so the hot rows stay locked for less.
        if (key is { } claim && !await IdempotencyKeys.AnswerAsync(db, claim, StatusCodes.Status201Created, answerBody(order), order.Id, cancellationToken))
        {
            return Refuse(Problems.Conflict($"This {IdempotencyKeys.Header} was taken over by a newer request while this one ran; nothing was ordered by this one."));
        }

        var cause = new StockLedger.Cause($"order {order.Id}", userId, order.Id, now);
        var shortLines = new List<ShortLine>();
        foreach (var line in order.Lines.OrderBy(l => l.VariantId))
        {
            if (await StockLedger.AdjustAsync(db, events, line.VariantId, -line.Quantity, cause, cancellationToken, save: false) is null)
            {
                // A variant deleted meanwhile has nothing for sale, whatever it still holds.
                var left = await db.Set<Variant>().Where(v => v.Id == line.VariantId).Select(v => v.DeletedAt == null ? v.OnHand : 0).FirstAsync(cancellationToken);
                shortLines.Add(new ShortLine(line.Sku, line.Quantity, left));
            }
        }

        // The products were read sellable before the decrements, which may have waited for other checkouts' row locks; a
        // product deleted or deactivated meanwhile (PostgreSQL runs writers side by side) is not sold: read them again.
        var productIds = order.Lines.Select(l => l.ProductId).Distinct().ToList();
        var withdrawn = await db.Set<Product>().AsNoTracking()
            .Where(p => EF.Parameter(productIds).Contains(p.Id) && (p.DeletedAt != null || !p.IsActive))
            .Select(p => p.Id)
            .ToListAsync(cancellationToken);
        shortLines.AddRange(order.Lines.Where(l => withdrawn.Contains(l.ProductId) && shortLines.All(s => s.Sku != l.Sku))
            .Select(l => new ShortLine(l.Sku, l.Quantity, 0)));

        if (shortLines.Count > 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return Refuse(Short(shortLines));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new Answer(order, null);
    }

    private static Answer Refuse(ProblemHttpResult problem) => new(null, problem);

    private static ProblemHttpResult Short(List<ShortLine> lines) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Not enough stock.",
            detail: $"{lines.Count} line(s) of the cart cannot be filled now; nothing was ordered and the cart is unchanged: " +
                string.Join("; ", lines.Select(l => $"{l.Sku}: {l.Requested} requested, {l.Available} available")) + ".",
            extensions: new Dictionary<string, object?> { ["lines"] = lines });
}
