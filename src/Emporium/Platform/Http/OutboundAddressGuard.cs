using System.Net;
using System.Net.Sockets;

namespace Emporium.Platform.Http;

/// <summary>An outbound address that policy forbids (SSRF protection); the message says which address and why.</summary>
public sealed class BlockedAddressException(string message) : Exception(message);

public static class ExceptionChain
{
    /// <summary>The first exception of type <typeparamref name="T"/> in <paramref name="exception"/> and its inner exceptions.</summary>
    public static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }
}

/// <summary>
/// SSRF protection for every URL a user gives the service to call (webhook receivers, product image URLs): the host is
/// resolved and EVERY address checked, at save time and again at connect time (<see cref="CreateHandler"/>: the
/// connection goes to the checked address itself, so a DNS answer that changes in between cannot slip through).
/// Loopback, private, CGNAT, IPv6 link-local/site-local and unique-local are refused unless the feature's
/// AllowPrivateNetworks setting opens them;
/// cloud metadata endpoints, the whole IPv4 link-local range, multicast, unspecified and reserved ranges are refused always.
/// IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, IPv4-compatible) are judged by that IPv4 address.
/// </summary>
public class OutboundAddressGuard(bool allowPrivateNetworks)
{
    private static readonly IPAddress[] CloudMetadata =
    [
        IPAddress.Parse("169.254.169.254"),  // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle (IMDS)
        IPAddress.Parse("169.254.170.2"),    // AWS ECS task credentials
        IPAddress.Parse("169.254.170.23"),   // AWS EKS pod identity
        IPAddress.Parse("100.100.100.200"),  // Alibaba Cloud
        IPAddress.Parse("168.63.129.16"),    // Azure wireserver (a public-looking address every Azure VM reaches)
        IPAddress.Parse("192.0.0.192"),      // Oracle Cloud
        IPAddress.Parse("fd00:ec2::254"),    // AWS IMDS over IPv6
        IPAddress.Parse("fd00:ec2::23"),     // AWS EKS pod identity over IPv6
    ];

    /// <summary>
    /// Resolves <paramref name="host"/> (a literal address, bracketed or not, is taken as is) and returns its addresses if
    /// all are allowed. Throws <see cref="BlockedAddressException"/> when one is not, <see cref="SocketException"/> when
    /// the name does not resolve.
    /// </summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(string host, CancellationToken cancellationToken)
    {
        // IPAddress.TryParse also reads the inet_aton forms (2130706433, 0x7f.1, 0177.0.0.1) that a resolver would
        // read the same way, so a host System.Uri left as a name is still judged by the address it really means.
        // "name." is the same host as "name" (fully qualified), and "127.0.0.1." must not pass as a name the resolver
        // happens not to know. localhost and *.localhost are loopback by definition (RFC 6761), whatever DNS says.
        var name = host.Trim('[', ']').TrimEnd('.');
        var addresses = IPAddress.TryParse(name, out var literal)
            ? [literal]
            : IsLocalhost(name)
                ? [IPAddress.Loopback, IPAddress.IPv6Loopback]
                : await Dns.GetHostAddressesAsync(name, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        foreach (var address in addresses)
        {
            if (WhyBlocked(address, allowPrivateNetworks) is { } reason)
            {
                // The address itself is not told: a seller naming an internal host must not learn its address.
                throw new BlockedAddressException(literal is null
                    ? $"blocked address: {host} resolves to an address this service may not reach ({reason})."
                    : $"blocked address: {host} is an address this service may not reach ({reason}).");
            }
        }

        return addresses;
    }

    private static bool IsLocalhost(string name) =>
        name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when <paramref name="address"/> may be contacted; otherwise the kind of address it is.</summary>
    public static string? WhyBlocked(IPAddress address, bool allowPrivateNetworks)
    {
        if (EmbeddedIPv4(address) is { } embedded)
        {
            return WhyBlocked(embedded, allowPrivateNetworks);
        }

        if (CloudMetadata.Any(metadata => metadata.Equals(WithoutScope(address))))
        {
            return "cloud metadata endpoint";
        }

        var (kind, privateNetwork) = Classify(address);
        return kind is null || (allowPrivateNetworks && privateNetwork) ? null : kind;
    }

    private static IPAddress WithoutScope(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;

    /// <summary>The IPv4 address an IPv6 address stands for, where the scheme says so unambiguously.</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();                                                   // ::ffff:a.b.c.d
        }

        var b = address.GetAddressBytes();
        if (b.AsSpan(0, 12).SequenceEqual(NatPrefix))
        {
            return new IPAddress(b.AsSpan(12, 4));                                        // NAT64 64:ff9b::a.b.c.d
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return new IPAddress(b.AsSpan(2, 4));                                         // 6to4 2002:aabb:ccdd::/48
        }

        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && (b[12] | b[13]) != 0)
        {
            return new IPAddress(b.AsSpan(12, 4));                                        // IPv4-compatible ::a.b.c.d (deprecated)
        }

        if (b.AsSpan(0, 8).IndexOfAnyExcept((byte)0) < 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            return new IPAddress(b.AsSpan(12, 4));                                        // IPv4-translated ::ffff:0:a.b.c.d
        }

        return null;
    }

    private static readonly byte[] NatPrefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>What kind of address this is (null: an ordinary public address) and whether AllowPrivateNetworks opens it.</summary>
    private static (string? Kind, bool PrivateNetwork) Classify(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => ("unspecified", false),                                     // 0.0.0.0/8 ("this network": 0.0.0.0 reaches the host itself)
                10 => ("private", true),
                127 => ("loopback", true),
                100 when b[1] >= 64 && b[1] <= 127 => ("carrier-grade NAT", true),  // shared address space 100.64.0.0/10
                // The whole IPv4 link-local range stays closed: cloud providers run metadata, credential and DNS
                // services across it (169.254.169.254, .169.253, .169.123, .170.2, .170.23), and no receiver lives there.
                169 when b[1] == 254 => ("link-local", false),
                172 when b[1] >= 16 && b[1] <= 31 => ("private", true),
                192 when b[1] == 168 => ("private", true),
                192 when b[1] == 0 && b[2] == 0 => ("reserved", false),           // 192.0.0.0/24 protocol assignments
                192 when b[1] == 0 && b[2] == 2 => ("reserved", false),           // TEST-NET-1
                198 when b[1] is 18 or 19 => ("reserved", false),                 // benchmarking 198.18.0.0/15
                198 when b[1] == 51 && b[2] == 100 => ("reserved", false),        // TEST-NET-2
                203 when b[1] == 0 && b[2] == 113 => ("reserved", false),         // TEST-NET-3
                >= 224 and <= 239 => ("multicast", false),
                >= 240 => ("reserved", false),                                    // 240.0.0.0/4 and broadcast
                _ => (null, false),
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback))
            {
                return ("loopback", true);
            }

            if (address.Equals(IPAddress.IPv6Any))
            {
                return ("unspecified", false);
            }

            var b = address.GetAddressBytes();
            if (address.IsIPv6Multicast)
            {
                return ("multicast", false);
            }

            if (address.IsIPv6LinkLocal)
            {
                return ("link-local", true);
            }

            if (address.IsIPv6SiteLocal)
            {
                return ("site-local", true);
            }

            if ((b[0] & 0xFE) == 0xFC)
            {
                return ("unique-local", true);
            }

            // Teredo (2001::/32), local-use NAT64 (64:ff9b:1::/48, the IPv4 part may sit anywhere), documentation
            // (2001:db8::/32), discard (100::/64) and the rest of ::/8: refused rather than decoded.
            if ((b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
                || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
                || (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0)
                || b[0] == 0)
            {
                return ("reserved", false);
            }

            return (null, false);
        }

        return ("reserved", false);
    }

    /// <summary>
    /// A primary handler whose every new connection goes only to addresses <paramref name="guard"/> allows: no redirects
    /// followed (a caller that follows them sends each hop through this check again), no proxy, no cookies.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(OutboundAddressGuard guard) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = await guard.ResolveAllowedAsync(context.DnsEndPoint.Host, cancellationToken);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
