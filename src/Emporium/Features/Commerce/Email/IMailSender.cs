namespace Emporium.Features.Commerce.Email;

/// <summary>A message ready to send: both bodies, and the Message-ID that makes a resent copy recognisable as the same message.</summary>
public sealed record OutgoingMail(string To, string Subject, string Text, string Html, string MessageId);

/// <summary>Hands a message to the mail system (an SMTP server, or the mail folder); returns when it was accepted.</summary>
public interface IMailSender
{
    Task SendAsync(OutgoingMail mail, CancellationToken cancellationToken);
}
