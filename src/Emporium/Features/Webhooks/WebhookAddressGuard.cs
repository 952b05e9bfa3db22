namespace Emporium.Features.Webhooks;

/// <summary>SSRF protection for webhook receivers, opened to private networks by Webhooks:AllowPrivateNetworks.</summary>
public sealed class WebhookAddressGuard(IOptions<WebhooksOptions> options) : OutboundAddressGuard(options.Value.AllowPrivateNetworks);
