using Emporium.Features.Catalog.Variants;
using Emporium.Features.Events;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Checkout and orders (decision 0016): customers check out their cart and see their own orders; staff and admins see
/// every order and move it along pending → paid → fulfilled; the customer (while pending) or staff (pending or paid)
/// cancel it, which puts its units back into stock.
/// </summary>
public static class OrderEndpoints
{
    private const string What = "Order";

    public static IEndpointRouteBuilder MapOrders(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/orders").WithTags("Orders").RequireAuthorization();

        orders.MapPost("", PlaceOrder)
            .AcceptsIdempotencyKey()
            .Documented("Check out your cart", "One transaction: the order with a snapshot of every line, the stock taken, the cart emptied, the " +
                "order.created event and the confirmation email queued. If any line is short, nothing changes: 409 with `lines` listing each " +
                "short line (sku, requested, available). 409 too for an empty cart, when expected_total or expected_currency no longer matches, or for a customer with " +
                "Commerce:MaxUnpaidOrders unpaid orders already (an unpaid order is cancelled after Commerce:UnpaidOrderLifetime); 422 for a cart in " +
                "several currencies; 400 for a negative expected_total or an expected_currency that is not an ISO 4217 code. When a line is no " +
                "longer sold, the 409 lists it with every line short of stock as read then. Send an Idempotency-Key to make retries safe: the same key and body answer as the first time " +
                "(Idempotent-Replayed: true), another body is 422, a duplicate while the first is in flight is 409.", 409, 422);

        orders.MapGet("", ListOrders)
            .Documented("List orders", "Customers see their own; staff and admins see all and may filter by customer (user_id). Newest first, paged.");

        orders.MapGet("/{id:long}", GetOrder)
            .Documented("Get an order", "Your own order, or any order for staff and admins (404 for everyone else).", 404);

        orders.MapPost("/{id:long}/cancel", CancelOrder)
            .Documented("Cancel an order", "The customer may cancel a pending order, staff and admins a pending or paid one; every line's units go " +
                "back into stock (recorded as movements). Any other state is 409.", 404, 409);

        var staff = orders.MapGroup("").RequireAuthorization(Policies.Staff);

        staff.MapPost("/{id:long}/pay", MarkOrderPaid)
            .Documented("Mark an order paid", "pending → paid; any other state is 409. Staff and admins.", 404, 409);

        staff.MapGet("/{id:long}/movements", ListOrderMovements)
            .Documented("List the stock movements of an order", "What its checkout took and its cancellation gave back, oldest first. Staff and admins.", 404);

        staff.MapPost("/{id:long}/fulfill", MarkOrderFulfilled)
            .Documented("Mark an order fulfilled", "paid → fulfilled; any other state is 409. Staff and admins.", 404, 409);

        return app;
    }

    public static async Task<Results<Created<OrderResponse>, ReplayedAnswer, ValidationProblem, ProblemHttpResult>> PlaceOrder(
        CheckoutRequest? request,
        [AsParameters] RequestScope scope,
        Checkout checkout,
        IOptions<CommerceOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var (db, clock, http, cancellationToken) = scope;
        var userId = http.User.UserId() ?? throw new InvalidOperationException("Checkout requires a signed-in user.");
        request ??= new CheckoutRequest();
        var serializer = json.Value.SerializerOptions;
        // Checked before the key is claimed: a refusal no resend could pass must not be kept and replayed as a 409.
        var errors = new ValidationErrors()
            .When(request.ExpectedTotal < 0, "expected_total", "expected_total cannot be negative.");
        if (request.ExpectedCurrency is { } shownCurrency && Catalog.Money.CurrencyProblem(shownCurrency.Trim().ToUpperInvariant()) is not null)
        {
            errors.Add("expected_currency", "expected_currency must be an active ISO 4217 code such as USD, EUR or JPY (any case), or be left out.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        IdempotencyKeys.Claimed? key = null;
        if (http.Request.Headers.TryGetValue(IdempotencyKeys.Header, out var given))
        {
            var text = given.ToString();
            if (IdempotencyKeys.Problem(text) is { } problem)
            {
                return Problems.Validation(IdempotencyKeys.Field, problem);
            }

            // One amount is one request however many trailing zeros it was written with (8 and 8.00).
            var canonical = request with
            {
                ExpectedTotal = request.ExpectedTotal is { } total ? decimal.Parse(total.ToString("G29", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture) : null,
                ExpectedCurrency = request.ExpectedCurrency?.Trim().ToUpperInvariant(),
            };
            var hash = IdempotencyKeys.HashOf(JsonSerializer.Serialize(canonical, serializer));
            switch (await IdempotencyKeys.ClaimAsync(db, clock, userId, text, hash, options.Value.IdempotencyKeyLifetime, cancellationToken))
            {
                case IdempotencyKeys.Replay replay:
                    return new ReplayedAnswer(replay.StatusCode, replay.Body, replay.OrderId is { } replayed ? $"/api/orders/{replayed}" : null);
                case IdempotencyKeys.Refused refused:
                    return refused.Problem;
                case IdempotencyKeys.Claimed claimed:
                    key = claimed;
                    break;
            }
        }

        Checkout.Answer answer;
        try
        {
            answer = await checkout.RunAsync(userId, request, key, order => JsonSerializer.Serialize(OrderResponse.From(order), serializer), cancellationToken);
            if (answer.Refusal is { } refusal && key is { } refusedKey)
            {
                // Not the request's token: a client that hangs up now must still find this answer when it retries.
                await IdempotencyKeys.AnswerAsync(db, refusedKey, refusal.StatusCode, JsonSerializer.Serialize(refusal.ProblemDetails, serializer), null, CancellationToken.None);
            }
        }
        catch when (key is { } claimed)
        {
            // Nothing was answered (the transaction rolled back): the client's retry with this key must run the checkout.
            await IdempotencyKeys.ReleaseAsync(db, claimed);
            throw;
        }

        if (answer.Refusal is { } refusedAnswer)
        {
            return refusedAnswer;
        }

        return TypedResults.Created($"/api/orders/{answer.Order!.Id}", OrderResponse.From(answer.Order));
    }

    public static async Task<Results<Ok<Paged<OrderResponse>>, ValidationProblem>> ListOrders(
        [AsParameters] OrderListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var (db, _, http, _) = scope;
        var errors = new ValidationErrors();
        var status = errors.OneOf<OrderStatus>(query.Status, "status");
        var from = errors.Instant(query.CreatedFrom, "created_from");
        var to = errors.Instant(query.CreatedTo, "created_to");
        var orders = Visible(db, http.User).AsNoTracking()
            .WhereIf(status is not null, o => o.Status == status)
            .WhereIf(query.UserId is not null, o => o.UserId == query.UserId)
            .WhereIf(from is not null, o => o.CreatedAt >= from)
            .WhereIf(to is not null, o => o.CreatedAt < to)
            .Include(o => o.Lines);
        return await pager.ListAsync(orders, paging, errors, o => o.OrderByDescending(x => x.Id), OrderResponse.From, scope);
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(long id, [AsParameters] RequestScope scope)
    {
        var order = await Visible(scope.Db, scope.Http.User).AsNoTracking().Include(o => o.Lines).FirstOrDefaultAsync(o => o.Id == id, scope.Aborted);
        return order is null ? Problems.NotFound(What) : TypedResults.Ok(OrderResponse.From(order));
    }

    public static async Task<Results<Ok<List<StockMovementResponse>>, ProblemHttpResult>> ListOrderMovements(long id, [AsParameters] RequestScope scope)
    {
        if (!await scope.Db.Set<Order>().AnyAsync(o => o.Id == id, scope.Aborted))
        {
            return Problems.NotFound(What);
        }

        var movements = await scope.Db.Set<StockMovement>().AsNoTracking().Where(m => m.OrderId == id).OrderBy(m => m.Id).ToListAsync(scope.Aborted);
        return TypedResults.Ok(movements.ConvertAll(StockMovementResponse.From));
    }

    public static Task<Results<Ok<OrderResponse>, ProblemHttpResult>> MarkOrderPaid(
        long id, [AsParameters] RequestScope scope, IEventOutbox events, ITransientConflicts conflicts) =>
        MoveAsync(scope, events, conflicts, id, [OrderStatus.Pending], OrderStatus.Paid);

    public static Task<Results<Ok<OrderResponse>, ProblemHttpResult>> MarkOrderFulfilled(
        long id, [AsParameters] RequestScope scope, IEventOutbox events, ITransientConflicts conflicts) =>
        MoveAsync(scope, events, conflicts, id, [OrderStatus.Paid], OrderStatus.Fulfilled);

    public static Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelOrder(
        long id, [AsParameters] RequestScope scope, IEventOutbox events, ITransientConflicts conflicts) =>
        MoveAsync(scope, events, conflicts, id,
            scope.Http.User.IsStaffOrAdmin() ? [OrderStatus.Pending, OrderStatus.Paid] : [OrderStatus.Pending], OrderStatus.Cancelled);

    /// <summary>
    /// <see cref="MoveOnceAsync"/>, run again when the database aborted it for a lost race (a cancellation restocking
    /// variants in id order deadlocked with an import setting the same variants in file order): nothing of it was kept.
    /// </summary>
    private static Task<Results<Ok<OrderResponse>, ProblemHttpResult>> MoveAsync(
        RequestScope scope, IEventOutbox events, ITransientConflicts conflicts, long id, OrderStatus[] from, OrderStatus to) =>
        conflicts.RetryAsync(
            () =>
            {
                scope.Db.ChangeTracker.Clear();
                return MoveOnceAsync(scope, events, id, from, to);
            },
            attempts: 5,
            scope.Clock,
            scope.Aborted);

    /// <summary>The transition if the caller may see the order: 404 otherwise, 409 naming the order's state when the move is not allowed.</summary>
    private static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> MoveOnceAsync(
        RequestScope scope, IEventOutbox events, long id, OrderStatus[] from, OrderStatus to)
    {
        var (db, _, http, cancellationToken) = scope;
        var current = await Visible(db, http.User).AsNoTracking().Where(o => o.Id == id).Select(o => (OrderStatus?)o.Status).FirstOrDefaultAsync(cancellationToken);
        if (current is not { } status)
        {
            return Problems.NotFound(What);
        }

        var reason = to == OrderStatus.Cancelled ? $"order {id} cancelled" : null;
        if (await OrderTransitions.MoveAsync(db, events, id, from, to, http.User.UserId(), reason, scope.UtcNow, cancellationToken) is not { } moved)
        {
            // The state that refused the move: another request (a second click, the unpaid-order expiry) may have moved the
            // order since it was read above, and "the order is pending; only a pending order can..." helps nobody.
            status = await db.Set<Order>().AsNoTracking().Where(o => o.Id == id).Select(o => o.Status).FirstAsync(cancellationToken);
            var allowed = string.Join(" or ", from.Select(s => s.ToString().ToLowerInvariant()));
            return Problems.Conflict($"The order is {status.ToString().ToLowerInvariant()}; only a {allowed} order can become {to.ToString().ToLowerInvariant()}" +
                (to == OrderStatus.Cancelled && !http.User.IsStaffOrAdmin() ? " by its customer (staff can cancel a paid one)." : "."));
        }

        return TypedResults.Ok(moved);
    }

    /// <summary>Orders the caller may see: all for staff and admins, their own for everyone else.</summary>
    private static IQueryable<Order> Visible(EmporiumDbContext db, ClaimsPrincipal user)
    {
        if (user.IsStaffOrAdmin())
        {
            return db.Set<Order>();
        }

        var userId = user.UserId();
        return db.Set<Order>().Where(o => o.UserId == userId);
    }
}
