using System.Text;
using Emporium.Features.Catalog;
using Emporium.Features.Commerce.Orders;
using Emporium.Features.Jobs;

namespace Emporium.Features.Commerce.Email;

/// <summary>
/// order.confirmation: renders the order's confirmation (text and HTML) and sends it (decision 0016). Exactly once as
/// far as SMTP allows: the Message-ID is derived from the order, the send is recorded in orders.confirmation_sent_at right
/// after the server accepted it, and a job that finds it recorded sends nothing. A worker killed between the server's
/// acceptance and the record sends a second copy with the same Message-ID (docs/operations.md).
/// </summary>
internal sealed class OrderConfirmationJobHandler(EmporiumDbContext db, IMailSender mail, IOptions<EmailOptions> options, TimeProvider clock) : IJobHandler
{
    public const string KindName = "order.confirmation";

    public sealed record Payload(long OrderId);

    /// <param name="Skipped">Why nothing was sent: already sent, or the order was cancelled before the job ran.</param>
    public sealed record Result(bool Sent, string MessageId, string? Skipped = null);

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var id = context.ReadPayload<Payload>().OrderId;
        var order = await db.Set<Order>().AsNoTracking().Include(o => o.Lines).FirstOrDefaultAsync(o => o.Id == id, cancellationToken)
            ?? throw new PermanentJobFailure($"Order {id} does not exist.");
        var message = Render(order, options.Value.Domain);
        if (order.ConfirmationSentAt is not null)
        {
            context.SetResult(new Result(false, message.MessageId, "already sent"));
            return;
        }

        // A queue that ran behind, or a customer who cancelled at once: "thank you for your order" would be wrong now.
        if (order.Status == OrderStatus.Cancelled)
        {
            context.SetResult(new Result(false, message.MessageId, "the order was cancelled before its confirmation was sent"));
            return;
        }

        await mail.SendAsync(message, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Set<Order>().Where(o => o.Id == id && o.ConfirmationSentAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.ConfirmationSentAt, now), CancellationToken.None);
        context.SetResult(new Result(true, message.MessageId));
    }

    /// <summary>The message for <paramref name="order"/>: the same Message-ID however often it is rendered.</summary>
    public static OutgoingMail Render(Order order, string domain)
    {
        var lines = order.Lines.OrderBy(l => l.VariantId).ToList();
        string Amount(decimal amount) => $"{Money.Format(amount, order.Currency)} {order.Currency}";
        string Options(OrderLine line)
        {
            var attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(line.Attributes) ?? [];
            return attributes.Count == 0 ? "" : " (" + string.Join(", ", attributes.Select(a => $"{a.Key}: {a.Value}")) + ")";
        }

        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Thank you for your order {order.Id}.")
            .AppendLine();
        foreach (var line in lines)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{line.Quantity} x {line.Name}{Options(line)} [{line.Sku}] at {Amount(line.UnitPrice)} = {Amount(line.LineTotal)}");
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Total: {Amount(order.Total)}");

        var html = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"<!DOCTYPE html><html><body><h1>Thank you for your order {order.Id}</h1>")
            .Append("<table><thead><tr><th>Item</th><th>SKU</th><th>Quantity</th><th>Unit price</th><th>Total</th></tr></thead><tbody>");
        foreach (var line in lines)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{System.Net.WebUtility.HtmlEncode(line.Name + Options(line))}</td><td>{System.Net.WebUtility.HtmlEncode(line.Sku)}</td><td>{line.Quantity}</td><td>{Amount(line.UnitPrice)}</td><td>{Amount(line.LineTotal)}</td></tr>");
        }

        html.Append(CultureInfo.InvariantCulture, $"</tbody></table><p><strong>Total: {Amount(order.Total)}</strong></p></body></html>");
        return new OutgoingMail(order.Email, $"Your order {order.Id}", text.ToString(), html.ToString(), $"order-{order.Id}@{domain}");
    }
}
