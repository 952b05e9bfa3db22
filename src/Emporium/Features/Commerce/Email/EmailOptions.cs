using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Commerce.Email;

/// <summary>How mail leaves the service (section Email). With no SMTP host, messages are written as .eml files under {DataDirectory}/mail/.</summary>
public sealed class EmailOptions : IValidatableObject
{
    public const string Section = "Email";

    /// <summary>The sender, as a mailbox ("Emporium &lt;orders@example.com&gt;"); its domain also names the Message-IDs.</summary>
    [Required]
    public string From { get; set; } = "Emporium <orders@emporium.local>";

    public SmtpOptions Smtp { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.Mail.MailAddress.TryCreate(From, out _))
        {
            yield return new ValidationResult($"Email:From must be a mailbox such as \"Emporium <orders@example.com>\"; '{From}' is not.", [nameof(From)]);
        }

        if (Smtp.Port is < 1 or > 65535)
        {
            yield return new ValidationResult("Email:Smtp:Port must be 1-65535.", ["Smtp.Port"]);
        }

        if (Smtp.Timeout < TimeSpan.FromSeconds(1) || Smtp.Timeout > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Email:Smtp:Timeout must be between 00:00:01 and 00:10:00.", ["Smtp.Timeout"]);
        }

        if (string.IsNullOrEmpty(Smtp.User) != string.IsNullOrEmpty(Smtp.Password))
        {
            yield return new ValidationResult("Email:Smtp:User and Email:Smtp:Password go together: set both or neither.", ["Smtp.User"]);
        }
    }

    /// <summary>The domain of <see cref="From"/>: Message-IDs are minted in it.</summary>
    public string Domain => System.Net.Mail.MailAddress.TryCreate(From, out var mailbox) ? mailbox.Host : "emporium.local";
}

public sealed class SmtpOptions
{
    /// <summary>The SMTP server; none writes .eml files instead.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>Auto (STARTTLS when the server offers it, TLS on connect for port 465), None, StartTls or SslOnConnect.</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>How long to wait for the server before the send fails (and the job retries).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

public enum SmtpSecurity
{
    Auto,
    None,
    StartTls,
    SslOnConnect,
}
