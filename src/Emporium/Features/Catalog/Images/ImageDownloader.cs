using System.Net;
using System.Net.Sockets;

namespace Emporium.Features.Catalog.Images;

/// <summary>SSRF protection for image URLs, opened to private networks by Media:AllowPrivateNetworks.</summary>
public sealed class MediaAddressGuard(IOptions<MediaOptions> options) : OutboundAddressGuard(options.Value.AllowPrivateNetworks);

/// <summary>A download that may succeed later (a 5xx, a timeout, a reset): the job retries it.</summary>
public sealed class ImageDownloadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Fetches an image URL through the "media" client, whose every connection is checked by <see cref="MediaAddressGuard"/>:
/// redirects are followed by hand (at most Media:Download:MaxRedirects, each to an http(s) URL whose connection is checked
/// again), the body is capped at Media:Download:MaxBytes and the whole exchange at Media:Download:Timeout. What cannot
/// succeed later (a 4xx, too large, a refused address, not an image) is an <see cref="ImageRejectedException"/>.
/// </summary>
public sealed class ImageDownloader(IHttpClientFactory clients, IOptions<MediaOptions> options)
{
    public const string ClientName = "media";

    public sealed record Downloaded(byte[] Bytes, ImageFormat Format);

    public async Task<Downloaded> DownloadAsync(Uri url, CancellationToken cancellationToken)
    {
        var settings = options.Value.Download;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        var client = clients.CreateClient(ClientName);
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.UserAgent.ParseAdd("Emporium-Images/1.0");
                request.Headers.Accept.ParseAdd("image/*");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308)
                {
                    var location = response.Headers.Location ?? throw new ImageRejectedException($"{url} redirects ({status}) without a Location.");
                    if (redirects >= settings.MaxRedirects)
                    {
                        throw new ImageRejectedException($"{url} redirects more than {settings.MaxRedirects} times (Media:Download:MaxRedirects).");
                    }

                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (next.Scheme is not ("http" or "https"))
                    {
                        throw new ImageRejectedException($"{url} redirects to {next.Scheme}: only http and https are followed.");
                    }

                    url = next;
                    continue;
                }

                if (status is < 200 or > 299)
                {
                    var message = $"HTTP {status} from {url}";
                    // A 4xx (but a timeout or a rate limit) and a redirect that is not followed (300, 304, 305) will answer the same
                    // next time: retrying them only ended the job DEAD after every attempt, not FAILED with the reason.
                    throw status is >= 300 and < 500 and not 408 and not 429
                        ? new ImageRejectedException(message + ".")
                        : new ImageDownloadException(message + "; retried.");
                }

                if (response.Content.Headers.ContentLength > settings.MaxBytes)
                {
                    throw TooLarge(url, settings.MaxBytes);
                }

                var bytes = await ReadCappedAsync(response, url, settings.MaxBytes, timeout.Token);
                var format = ImageFormats.Detect(bytes.AsSpan(0, Math.Min(bytes.Length, ImageFormats.SniffLength)))
                    ?? throw new ImageRejectedException($"{url} did not deliver a {ImageFormats.Accepted} image.");
                return new Downloaded(bytes, format);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ImageDownloadException($"{url} did not deliver the image within {settings.Timeout.TotalSeconds:0.###} s (Media:Download:Timeout); retried.");
        }
        catch (HttpRequestException exception) when (ExceptionChain.Find<BlockedAddressException>(exception) is { } blocked)
        {
            throw new ImageRejectedException($"Refused to download {url}: {blocked.Message}");
        }
        catch (HttpRequestException exception)
        {
            var reason = ExceptionChain.Find<SocketException>(exception)?.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData => "host not found",
                SocketError.TimedOut => "connect timeout",
                _ => exception.Message,
            };
            throw new ImageDownloadException($"{url}: {reason}; retried.", exception);
        }
    }

    private static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, Uri url, long max, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw TooLarge(url, max);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static ImageRejectedException TooLarge(Uri url, long max) =>
        new($"{url} delivers more than {max:N0} bytes (Media:Download:MaxBytes).");


    /// <summary>
    /// The save-time check of an image URL: absolute http(s), at most <see cref="ImageLimits.UrlLength"/> characters, and a host
    /// whose every address the guard allows. Null when it may be saved; otherwise why not.
    /// </summary>
    public static async Task<string?> ProblemWithAsync(string? url, MediaAddressGuard guard, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ResolveTimeout);
        if (string.IsNullOrWhiteSpace(url) || url.Length > ImageLimits.UrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return $"'{Shorten(url)}' is not an http or https URL of at most {ImageLimits.UrlLength} characters (without credentials).";
        }

        try
        {
            await guard.ResolveAllowedAsync(uri.Host, timeout.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{url}: the host {uri.Host} did not resolve within {ResolveTimeout.TotalSeconds:0} s.";
        }
        catch (ArgumentException)
        {
            return $"{url}: {Shorten(uri.Host)} is not a host name.";
        }
        catch (BlockedAddressException blocked)
        {
            return $"{url}: {blocked.Message}";
        }
        catch (SocketException)
        {
            return $"{url}: the host {uri.Host} does not resolve.";
        }
    }

    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 100 ? text : text[..100] + "...";
}
