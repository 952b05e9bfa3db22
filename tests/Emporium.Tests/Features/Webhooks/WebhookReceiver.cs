using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>One request a <see cref="WebhookReceiver"/> got, with the outcome of its own signature check.</summary>
public sealed record ReceivedWebhook(
    string Path,
    string? Id,
    string? Timestamp,
    string? Signature,
    string Body,
    DateTimeOffset ReceivedAt,
    IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>True when some v1 signature in the header verifies under <paramref name="secret"/> (Standard Webhooks rule).</summary>
    public bool IsSignedWith(string secret) => StandardWebhooks.Verify(secret, Id, Timestamp, Signature, Body);
}

/// <summary>
/// A real HTTP receiver on a loopback port, standing in for another system: it records every request and answers with
/// whatever <see cref="Respond"/> says (200 by default). Paths let one receiver play several endpoints.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Decides the answer to each request; set it before the request arrives. May delay (to time out the sender).</summary>
    public Func<ReceivedWebhook, HttpContext, Task> Respond { get; set; } = (_, context) =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    };

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public Uri Url(string path = "/hook") => new(BaseUri, path);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var request = new ReceivedWebhook(
                context.Request.Path.Value ?? "/",
                headers.GetValueOrDefault("webhook-id"),
                headers.GetValueOrDefault("webhook-timestamp"),
                headers.GetValueOrDefault("webhook-signature"),
                body,
                DateTimeOffset.UtcNow,
                headers);
            receiver._received.Enqueue(request);
            await receiver.Respond(request, context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUri = new Uri(address);
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds over what was received, or fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TestTime.Of(20));
        while (true)
        {
            var received = Received;
            if (condition(received))
            {
                return received;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The receiver's condition did not hold in time; it got {received.Count} request(s).");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// The Standard Webhooks verification rule, written here from the specification (not with the service's code), so a
/// signing bug cannot hide behind the same bug in the check.
/// </summary>
public static class StandardWebhooks
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static bool Verify(string secret, string? id, string? timestamp, string? signatureHeader, string body)
    {
        if (id is null || timestamp is null || signatureHeader is null || !long.TryParse(timestamp, out var seconds))
        {
            return false;
        }

        if ((DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Tolerance)
        {
            return false;
        }

        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        using var hmac = new HMACSHA256(key);
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(id + "." + timestamp + "." + body));
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || part[..comma] != "v1")
            {
                continue;
            }

            byte[] given;
            try
            {
                given = Convert.FromBase64String(part[(comma + 1)..]);
            }
            catch (FormatException)
            {
                continue;
            }

            if (CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return true;
            }
        }

        return false;
    }
}
