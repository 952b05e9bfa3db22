using Emporium.Features.Commerce.Email;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Emporium.Infrastructure.Mail;

public static class MailExtensions
{
    /// <summary>SMTP through MailKit when Email:Smtp:Host is set; otherwise .eml files under {DataDirectory}/mail/.</summary>
    public static IServiceCollection AddMail(this IServiceCollection services)
    {
        services.AddSettings<EmailOptions>(EmailOptions.Section);
        services.AddSingleton<IMailSender>(provider =>
        {
            var email = provider.GetRequiredService<IOptions<EmailOptions>>().Value;
            if (email.Smtp.Host is { Length: > 0 })
            {
                return new SmtpMailSender(email);
            }

            var dataDirectory = provider.GetRequiredService<IOptions<EmporiumOptions>>().Value.DataDirectory;
            return new MailFolderSender(Path.Combine(Path.GetFullPath(dataDirectory), "mail"), email);
        });
        return services;
    }

    internal static MimeMessage ToMime(OutgoingMail mail, EmailOptions options)
    {
        var message = new MimeMessage { Subject = mail.Subject, MessageId = mail.MessageId };
        message.From.Add(MailboxAddress.Parse(options.From));
        if (!MailboxAddress.TryParse(mail.To, out var to))
        {
            // No retry can make this address deliverable: fail the job for good instead of spending its attempts.
            throw new Features.Jobs.PermanentJobFailure($"The address '{mail.To}' cannot be mailed.");
        }

        message.To.Add(to);
        message.Body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html }.ToMessageBody();
        return message;
    }
}

/// <summary>Sends through an SMTP server with MailKit: one connection per message, which is plenty for order confirmations.</summary>
internal sealed class SmtpMailSender(EmailOptions options) : IMailSender
{
    public async Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        var smtp = options.Smtp;
        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        var security = smtp.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        await client.ConnectAsync(smtp.Host!, smtp.Port, security, cancellationToken);
        if (smtp.User is { Length: > 0 } user)
        {
            await client.AuthenticateAsync(user, smtp.Password ?? "", cancellationToken);
        }

        await client.SendAsync(MailExtensions.ToMime(mail, options), cancellationToken);
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or MailKit.ProtocolException or MailKit.CommandException or OperationCanceledException)
        {
            // The server has accepted the message: a failed goodbye must not make the job send it again.
        }
    }
}

/// <summary>
/// The embedded default: each message becomes {folder}/{Message-ID}.eml, written to a temporary name and moved into place,
/// so a newcomer can open it in a mail client and a resent message replaces its first copy.
/// </summary>
internal sealed class MailFolderSender(string folder, EmailOptions options) : IMailSender
{
    public async Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var name = string.Concat(mail.MessageId.Split(Path.GetInvalidFileNameChars())) + ".eml";
        var target = Path.Combine(folder, name);
        var temporary = target + ".tmp";
        await MailExtensions.ToMime(mail, options).WriteToAsync(temporary, cancellationToken);
        File.Move(temporary, target, overwrite: true);
    }
}
