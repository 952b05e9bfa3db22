using System.Net.Sockets;
using AllEventTypes = Emporium.Features.Events.EventTypes;

namespace Emporium.Features.Webhooks;

/// <summary>What a subscription may say: URL form, event types, description, and the save-time SSRF check.</summary>
public sealed class WebhookRules(WebhookAddressGuard guard, IOptions<WebhooksOptions> options)
{
    public const string AllEvents = "*";

    /// <summary>How long the save-time check waits for DNS before calling the host unresolvable.</summary>
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The URL if its form is acceptable; otherwise null after recording why. The URL a subscription already has
    /// (<paramref name="current"/>) keeps its scheme after Webhooks:AllowHttp is turned off, so it can still be edited or
    /// switched off: the sender refuses to send it in clear text.
    /// </summary>
    public Uri? Url(string? url, ValidationErrors errors, string? current = null)
    {
        const string field = "url";
        if (string.IsNullOrWhiteSpace(url))
        {
            errors.Add(field, "url is required.");
            return null;
        }

        url = url.Trim();
        if (url.Length > WebhookSubscriptionConfiguration.UrlLength)
        {
            errors.Add(field, $"url must be at most {WebhookSubscriptionConfiguration.UrlLength} characters.");
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc || string.IsNullOrEmpty(uri.Host))
        {
            errors.Add(field, "url must be an absolute URL such as https://example.com/webhooks.");
            return null;
        }

        var httpAllowed = options.Value.AllowHttp;
        if (uri.Scheme != Uri.UriSchemeHttps && !((httpAllowed || url == current) && uri.Scheme == Uri.UriSchemeHttp))
        {
            errors.Add(field, httpAllowed ? "url must use https or http." : "url must use https (http is not allowed here: Webhooks:AllowHttp).");
            return null;
        }

        // Credentials in a URL end up in logs and in every response that shows the subscription.
        errors.When(uri.UserInfo.Length > 0, field, "url must not contain a user name or password; authenticate the receiver by the signature.");
        errors.When(uri.Fragment.Length > 0, field, "url must not contain a #fragment (it is never sent).");
        return uri;
    }

    /// <summary>
    /// Resolves the host the sender would connect to (<see cref="Uri.IdnHost"/>: System.Uri has already turned decimal,
    /// hex and octal IPv4 forms into dotted form there, exactly as the HTTP client will use it) and records why it is refused.
    /// </summary>
    public async Task CheckAddressAsync(Uri url, ValidationErrors errors, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            await guard.ResolveAllowedAsync(url.IdnHost, timeout.Token);
        }
        catch (BlockedAddressException blocked)
        {
            errors.Add("url", blocked.Message);
        }
        catch (Exception exception) when (exception is SocketException or ArgumentException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            errors.Add("url", $"url's host {url.IdnHost} could not be resolved, so its addresses cannot be checked; use a host name that resolves.");
        }
    }

    /// <summary>The stored form ("*" or types separated by spaces), or null after recording why the list is unacceptable.</summary>
    public static string? EventTypes(IReadOnlyList<string?>? given, ValidationErrors errors)
    {
        const string field = "event_types";
        if (given is null || given.Count == 0)
        {
            errors.Add(field, "event_types must list at least one event type, or [\"*\"] for all.");
            return null;
        }

        var types = new List<string>();
        foreach (var type in given)
        {
            var trimmed = type?.Trim();
            if (trimmed == AllEvents)
            {
                if (given.Count > 1)
                {
                    errors.Add(field, "\"*\" already means every event type; send it alone.");
                    return null;
                }

                return AllEvents;
            }

            if (string.IsNullOrEmpty(trimmed) || !AllEventTypes.IsKnown(trimmed))
            {
                errors.Add(field, $"'{type}' is not an event type; use \"*\" or some of {string.Join(", ", AllEventTypes.All.Keys)}.");
                continue;
            }

            if (!types.Contains(trimmed, StringComparer.Ordinal))
            {
                types.Add(trimmed);
            }
        }

        return errors.IsEmpty ? string.Join(' ', types) : null;
    }

    public static IReadOnlyList<string> EventTypeList(string stored) => stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The trimmed description (null when blank), recording an error when it is too long.</summary>
    public static string? Description(string? description, ValidationErrors errors)
    {
        var trimmed = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        errors.When(
            trimmed?.Length > WebhookSubscriptionConfiguration.DescriptionLength,
            "description",
            $"description must be at most {WebhookSubscriptionConfiguration.DescriptionLength} characters.");
        return trimmed;
    }
}
