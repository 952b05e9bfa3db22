namespace Emporium.Features.Events;

/// <summary>
/// Every event type Emporium emits, with what its data is. Webhook subscriptions may only name these (or "*"), and
/// GET /api/events/types lists them; a feature that adds an event type adds it here.
/// </summary>
public static class EventTypes
{
    public const string ProductCreated = "product.created";
    public const string ProductUpdated = "product.updated";
    public const string ProductDeleted = "product.deleted";
    public const string ProductRestored = "product.restored";
    public const string StockChanged = "stock.changed";
    public const string OrderCreated = "order.created";
    public const string OrderPaid = "order.paid";
    public const string OrderFulfilled = "order.fulfilled";
    public const string OrderCancelled = "order.cancelled";
    public const string ImagesReady = "images.ready";
    public const string ImportCompleted = "import.completed";
    public const string ImportFailed = "import.failed";
    public const string BulkDeleteCompleted = "bulk_delete.completed";

    /// <summary>Sent by POST /api/webhooks/{id}/test only; never stored as an event.</summary>
    public const string Ping = "ping";

    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [ProductCreated] = "A product was created through the API or admin UI. Data: the product as GET /api/products/{id} returns it.",
        [ProductUpdated] = "A product was changed (PUT or PATCH), or one of its variants was added, changed or deleted. Data: the product after the change, with its variants.",
        [ProductDeleted] = "A product was soft-deleted. Data: the product, with deleted_at set.",
        [ProductRestored] = "A soft-deleted product was restored. Data: the product after the restore.",
        [StockChanged] = "A variant's stock changed (a count, an adjustment, a sale or a cancelled order). Data: variant_id, product_id, sku, on_hand (the new level), delta, reason, order_id.",
        [OrderCreated] = "A customer checked out. Data: the order as GET /api/orders/{id} returns it.",
        [OrderPaid] = "An order was marked paid. Data: the order after the change.",
        [OrderFulfilled] = "An order was marked fulfilled. Data: the order after the change.",
        [OrderCancelled] = "An order was cancelled and its units went back into stock. Data: the order after the change.",
        [ImagesReady] = "None of a product's images is waiting or processing any more (each is ready or failed). Data: product_id and images, as the product's read shows them.",
        [ImportCompleted] = "A CSV import finished. Data: the job as GET /api/jobs/{id} returns it; result holds the counts.",
        [ImportFailed] = "A CSV import stopped for good (FAILED or DEAD). Data: the job, with error_message.",
        [BulkDeleteCompleted] = "A bulk delete finished. Data: the job; result holds the number of products deleted.",
    };

    public static bool IsKnown(string type) => All.ContainsKey(type);
}
