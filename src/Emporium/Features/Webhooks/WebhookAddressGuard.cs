using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Emporium.Features.Webhooks;

/// <summary>A receiver address that policy forbids (SSRF protection); the message says which address and why.</summary>
public sealed class BlockedAddressException(string message) : Exception(message);

/// <summary>
/// SSRF protection: a receiver's host is resolved and EVERY address checked, at save time and again at connect time
/// (the connection goes to the checked address itself, so a DNS answer that changes in between cannot slip through).
/// Loopback, private, link-local, unique-local, multicast, unspecified and reserved ranges are refused unless
/// Webhooks:AllowPrivateNetworks; cloud metadata endpoints are refused always.
/// </summary>
public sealed class WebhookAddressGuard(IOptions<WebhooksOptions> options)
{
    /// <summary>Resolves <paramref name="host"/> (a literal address is taken as is) and returns its addresses if all are allowed.</summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        foreach (var address in addresses)
        {
            if (WhyBlocked(address, options.Value.AllowPrivateNetworks) is { } reason)
            {
                throw new BlockedAddressException($"blocked address: {host} resolves to {address} ({reason}).");
            }
        }

        return addresses;
    }

    /// <summary>Null when <paramref name="address"/> may be contacted; otherwise the kind of address it is.</summary>
    public static string? WhyBlocked(IPAddress address, bool allowPrivateNetworks)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IsCloudMetadata(address))
        {
            return "cloud metadata endpoint";
        }

        var kind = Classify(address);
        return kind is null || (allowPrivateNetworks && kind is "loopback" or "private" or "link-local" or "unique-local") ? null : kind;
    }

    private static bool IsCloudMetadata(IPAddress address) =>
        address.Equals(IPAddress.Parse("169.254.169.254")) || address.Equals(IPAddress.Parse("169.254.170.2"))
        || address.Equals(IPAddress.Parse("100.100.100.200")) || address.Equals(IPAddress.Parse("fd00:ec2::254"));

    private static string? Classify(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => "unspecified",
                10 => "private",
                127 => "loopback",
                100 when b[1] >= 64 && b[1] <= 127 => "private",          // carrier-grade NAT 100.64.0.0/10
                169 when b[1] == 254 => "link-local",
                172 when b[1] >= 16 && b[1] <= 31 => "private",
                192 when b[1] == 168 => "private",
                192 when b[1] == 0 && b[2] == 0 => "reserved",               // 192.0.0.0/24 protocol assignments
                198 when b[1] is 18 or 19 => "reserved",                     // benchmarking 198.18.0.0/15
                >= 224 and <= 239 => "multicast",
                >= 240 => "reserved",                                        // 240.0.0.0/4 and broadcast
                _ => null,
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return "loopback";
            }

            if (address.Equals(IPAddress.IPv6Any))
            {
                return "unspecified";
            }

            var b = address.GetAddressBytes();
            if (address.IsIPv6Multicast)
            {
                return "multicast";
            }

            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
            {
                return "link-local";
            }

            if ((b[0] & 0xFE) == 0xFC)
            {
                return "unique-local";
            }

            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32) embed IPv4
            // addresses that could point inside; refuse them rather than decode every tunnelling scheme.
            if (b.Take(12).All(x => x == 0) || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
                || (b[0] == 0x20 && b[1] == 0x02) || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0))
            {
                return "reserved";
            }

            return null;
        }

        return "reserved";
    }
}
