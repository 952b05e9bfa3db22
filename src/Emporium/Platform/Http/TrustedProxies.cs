using System.ComponentModel.DataAnnotations;
using System.Net;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.HttpOverrides;

namespace Emporium.Platform.Http;

/// <summary>
/// Http:TrustedProxies: the reverse proxies in front of the service (deploy/nginx.conf), as addresses or networks
/// ("10.0.0.0/8, 172.16.0.0/12"). A request that comes from one of them takes its client address and scheme from
/// X-Forwarded-For and X-Forwarded-Proto, so the auth rate limit and the request log see each client instead of the
/// proxy, which would otherwise put every client in one rate-limit window. Empty by default: a client that reaches the
/// service directly could claim any address in those headers.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "Http";

    public string TrustedProxies { get; set; } = "";

    internal IReadOnlyList<IPNetwork> Networks() =>
        [.. Entries().Select(entry => TryParse(entry, out var network) ? network : throw new FormatException(entry))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Entries().Where(entry => !TryParse(entry, out _)).Select(entry => new ValidationResult(
            $"Http:TrustedProxies: '{entry}' is neither an IP address nor a network such as 10.0.0.0/8.", [nameof(TrustedProxies)]));

    private string[] Entries() =>
        TrustedProxies.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryParse(string entry, out IPNetwork network)
    {
        if (IPAddress.TryParse(entry, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }
}

public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddSettings<ProxyOptions>(ProxyOptions.Section);
        return services;
    }

    /// <summary>First in the pipeline, so everything after it (rate limits, logs, links) sees the client as forwarded.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        var networks = app.ApplicationServices.GetRequiredService<IOptions<ProxyOptions>>().Value.Networks();
        if (networks.Count == 0)
        {
            return app;
        }

        // Every hop from the right that is one of the proxies is stepped over (a CDN in front of nginx is two): with the
        // default of one, every client of the CDN shared the CDN's address, and one auth rate-limit window.
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null,
        };
        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var network in networks)
        {
            options.KnownIPNetworks.Add(network);
        }

        return app.UseForwardedHeaders(options);
    }
}
