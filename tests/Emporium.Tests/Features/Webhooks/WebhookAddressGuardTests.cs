using Emporium.Platform.Http;
using System.Net;
using Emporium.Features.Webhooks;
using Microsoft.Extensions.Options;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>SSRF rules of <see cref="WebhookAddressGuard"/>, without a database or a network.</summary>
public sealed class WebhookAddressGuardTests
{
    [Theory]
    // address, blocked without AllowPrivateNetworks (kind), blocked with it (kind or null)
    [InlineData("127.0.0.1", "loopback", null)]
    [InlineData("127.255.0.9", "loopback", null)]
    [InlineData("10.0.0.1", "private", null)]
    [InlineData("172.16.0.1", "private", null)]
    [InlineData("172.31.255.254", "private", null)]
    [InlineData("192.168.1.1", "private", null)]
    [InlineData("100.64.0.1", "carrier-grade NAT", null)]
    [InlineData("100.127.255.254", "carrier-grade NAT", null)]
    [InlineData("169.254.169.254", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("169.254.170.2", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("100.100.100.200", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("168.63.129.16", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("169.254.1.1", "link-local", "link-local")]
    [InlineData("0.0.0.0", "unspecified", "unspecified")]
    [InlineData("224.0.0.1", "multicast", "multicast")]
    [InlineData("239.255.255.250", "multicast", "multicast")]
    [InlineData("255.255.255.255", "reserved", "reserved")]
    [InlineData("240.0.0.1", "reserved", "reserved")]
    [InlineData("198.18.0.1", "reserved", "reserved")]
    [InlineData("::1", "loopback", null)]
    [InlineData("::", "unspecified", "unspecified")]
    [InlineData("fe80::1", "link-local", null)]
    [InlineData("fec0::1", "site-local", null)]
    [InlineData("fd00::1", "unique-local", null)]
    [InlineData("fc12:3456::1", "unique-local", null)]
    [InlineData("fd00:ec2::254", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("ff02::1", "multicast", "multicast")]
    [InlineData("::ffff:127.0.0.1", "loopback", null)]
    [InlineData("::ffff:169.254.169.254", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("::ffff:10.1.2.3", "private", null)]
    [InlineData("::127.0.0.1", "loopback", null)]
    [InlineData("::ffff:0:127.0.0.1", "loopback", null)]
    [InlineData("64:ff9b::7f00:1", "loopback", null)]
    [InlineData("64:ff9b::a9fe:a9fe", "cloud metadata endpoint", "cloud metadata endpoint")]
    [InlineData("2002:7f00:1::1", "loopback", null)]
    [InlineData("2001:0:4136:e378::1", "reserved", "reserved")]
    [InlineData("2001:db8::1", "reserved", "reserved")]
    [InlineData("64:ff9b:1::1", "reserved", "reserved")]
    [InlineData("93.184.215.14", null, null)]
    [InlineData("8.8.8.8", null, null)]
    [InlineData("172.32.0.1", null, null)]
    [InlineData("100.128.0.1", null, null)]
    [InlineData("::ffff:8.8.8.8", null, null)]
    [InlineData("64:ff9b::808:808", null, null)]
    [InlineData("2606:4700:4700::1111", null, null)]
    public void WhyBlocked_classifies_addresses(string address, string? strict, string? withPrivateNetworks)
    {
        var ip = IPAddress.Parse(address);

        WebhookAddressGuard.WhyBlocked(ip, allowPrivateNetworks: false).Should().Be(strict);
        WebhookAddressGuard.WhyBlocked(ip, allowPrivateNetworks: true).Should().Be(withPrivateNetworks);
    }

    [Theory]
    [InlineData("http://2130706433/")]
    [InlineData("http://0x7f.0.0.1/")]
    [InlineData("http://0x7f000001/")]
    [InlineData("http://0177.0.0.1/")]
    [InlineData("http://127.1/")]
    [InlineData("http://127.0.0.1./")]
    [InlineData("http://[::1]:8080/")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://[::ffff:7f00:1]/")]
    [InlineData("http://[0:0:0:0:0:ffff:127.0.0.1]/")]
    [InlineData("http://localhost/")]
    [InlineData("http://LOCALHOST./")]
    [InlineData("http://sub.localhost/")]
    public async Task The_host_the_http_client_connects_to_is_refused_in_every_spelling_of_a_loopback_address(string url)
    {
        var guard = new WebhookAddressGuard(Options.Create(new WebhooksOptions { AllowPrivateNetworks = false }));

        // IdnHost is what SocketsHttpHandler hands to the ConnectCallback (and what save-time validation checks).
        var act = () => guard.ResolveAllowedAsync(new Uri(url).IdnHost, CancellationToken.None);

        (await act.Should().ThrowAsync<BlockedAddressException>()).Which.Message.Should().Contain("blocked address").And.Contain("loopback");
    }

    [Fact]
    public async Task A_public_literal_address_is_allowed_without_a_lookup()
    {
        var guard = new WebhookAddressGuard(Options.Create(new WebhooksOptions()));

        var addresses = await guard.ResolveAllowedAsync(new Uri("https://93.184.215.14/hook").IdnHost, CancellationToken.None);

        addresses.Should().Equal(IPAddress.Parse("93.184.215.14"));
    }
}
