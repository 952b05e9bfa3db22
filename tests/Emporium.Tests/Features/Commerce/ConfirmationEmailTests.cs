using System.Net;
using Emporium.Features.Commerce.Email;
using Emporium.Features.Commerce.Orders;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Emporium.Tests.Features.Commerce;

/// <summary>The service on PostgreSQL, sending mail to the real SMTP server scripts/test starts (Debian's aiosmtpd).</summary>
public sealed class SmtpPostgresApp : PostgresApp
{
    public SmtpPostgresApp()
    {
        var server = Environment.GetEnvironmentVariable("EMPORIUM_TEST_SMTP") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("EMPORIUM_TEST_SMTP is not set: run the suite with scripts/test, which starts an SMTP server for it.");
        var (host, port) = (server[..server.LastIndexOf(':')], server[(server.LastIndexOf(':') + 1)..]);
        With("Email:Smtp:Host", host).With("Email:Smtp:Port", port).With("Email:Smtp:Security", "None").With("Email:From", "Shop <orders@shop.test>");
    }

    /// <summary>Every message the SMTP server stored (its Maildir), parsed.</summary>
    public static IEnumerable<MimeMessage> Received()
    {
        var maildir = Environment.GetEnvironmentVariable("EMPORIUM_TEST_MAILDIR") ?? throw new InvalidOperationException("EMPORIUM_TEST_MAILDIR is not set.");
        return Directory.Exists(Path.Combine(maildir, "new"))
            ? Directory.EnumerateFiles(Path.Combine(maildir, "new")).Select(file => MimeMessage.Load(file))
            : [];
    }
}

/// <summary>One confirmation per order, sent in the background through SMTP (issue 14).</summary>
public sealed class ConfirmationEmailTests(SmtpPostgresApp app) : IClassFixture<SmtpPostgresApp>
{
    [Fact]
    public async Task The_customer_gets_one_confirmation_even_when_the_job_runs_again()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = await app.NewUserAsync(Roles.Customer);
        var item = await staff.ProductForSaleAsync(12.5m, stock: 5);
        await customer.Http.AddToCartAsync(item.VariantId, 2);
        var id = (await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();

        await SentAsync(app, id);

        // The server is shared by every test run (order numbers start at 1 in each test database): pick this customer's mail.
        var messages = SmtpPostgresApp.Received().Where(m => m.To.Mailboxes.Any(to => to.Address == customer.Email)).ToList();
        var message = messages.Should().ContainSingle().Subject;
        message.MessageId.Should().Be($"order-{id}@shop.test");
        message.Subject.Should().Be($"Your order {id}");
        message.From.Mailboxes.Single().Address.Should().Be("orders@shop.test");
        message.TextBody.Should().Contain($"2 x For sale {item.Sku}").And.Contain("Total: 25.00 USD");
        message.HtmlBody.Should().Contain("<table>").And.Contain(item.Sku);

        // A redelivered job (a worker that died after recording the send) finds the send recorded and sends nothing.
        await RunConfirmationJobAsync(id);
        SmtpPostgresApp.Received().Count(m => m.To.Mailboxes.Any(to => to.Address == customer.Email)).Should().Be(1);
    }

    [Fact]
    public async Task An_order_cancelled_before_its_confirmation_job_runs_gets_no_thank_you_mail()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = await app.NewUserAsync(Roles.Customer);
        var item = await staff.ProductForSaleAsync(4m, stock: 5);
        await customer.Http.AddToCartAsync(item.VariantId, 1);
        var id = (await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        await SentAsync(app, id);
        (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        // As if the job had waited in a long queue until after the cancel: its order shows no send yet.
        await app.WithDbAsync(db => db.Set<Order>().Where(o => o.Id == id).ExecuteUpdateAsync(set => set.SetProperty(o => o.ConfirmationSentAt, (DateTime?)null)));
        await RunConfirmationJobAsync(id);
        SmtpPostgresApp.Received().Count(m => m.To.Mailboxes.Any(to => to.Address == customer.Email)).Should().Be(1, "only the mail sent before the cancel");
        (await app.WithDbAsync(db => db.Set<Order>().Where(o => o.Id == id).Select(o => o.ConfirmationSentAt).SingleAsync())).Should().BeNull();
    }

    /// <summary>Queues one more confirmation job for the order, as a redelivery or a late queue would run it, and waits for it to end.</summary>
    private async Task RunConfirmationJobAsync(long orderId)
    {
        long jobId;
        using (var scope = app.Services.CreateScope())
        {
            var job = scope.ServiceProvider.GetRequiredService<IJobQueue>().Enqueue(OrderConfirmationJobHandler.KindName, new OrderConfirmationJobHandler.Payload(orderId));
            await scope.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>().SaveChangesAsync();
            jobId = job.Id;
        }

        await WaitAsync(() => app.WithDbAsync(db => db.Set<Job>().AnyAsync(j => j.Id == jobId && j.Status == JobStatus.COMPLETED)));
    }

    internal static Task SentAsync(EmporiumApp app, long orderId) =>
        WaitAsync(() => app.WithDbAsync(db => db.Set<Order>().AnyAsync(o => o.Id == orderId && o.ConfirmationSentAt != null)));

    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await done())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the job should have finished by now");
            await Task.Delay(100);
        }
    }
}

/// <summary>The embedded default: with no SMTP server configured, the confirmation is an .eml file a newcomer can open.</summary>
public sealed class MailFolderTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Without_SMTP_the_confirmation_is_written_to_the_mail_folder()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = await app.NewUserAsync(Roles.Customer);
        var item = await staff.ProductForSaleAsync(3m, stock: 5);
        await customer.Http.AddToCartAsync(item.VariantId, 1);
        var id = (await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();

        await ConfirmationEmailTests.SentAsync(app, id);

        var file = Path.Combine(app.DataDirectory, "mail", $"order-{id}@emporium.local.eml");
        File.Exists(file).Should().BeTrue();
        var message = await MimeMessage.LoadAsync(file);
        message.To.Mailboxes.Single().Address.Should().Be(customer.Email);
        message.TextBody.Should().Contain("Total: 3.00 USD");
    }
}
