using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Emporium.Features.Webhooks;

/// <summary>Why an attempt did not succeed, for the delivery log and retry decisions.</summary>
public enum WebhookFailure
{
    /// <summary>The receiver answered with a status outside 2xx (redirects included: they are not followed).</summary>
    Status,
    Timeout,
    /// <summary>Refused, reset, DNS failure, TLS failure: no HTTP answer.</summary>
    Connection,
    /// <summary>The URL's host is or resolves to an address SSRF protection refuses.</summary>
    BlockedAddress,
    /// <summary>An http:// URL saved while Webhooks:AllowHttp was on, sent after it was turned off: nothing goes out in clear text.</summary>
    BlockedScheme,
}

/// <summary>The one spelling of a failure in the API, the delivery log and the test ping (snake_case, as every enum on the wire).</summary>
public static class WebhookFailures
{
    /// <summary>An attempt that never finished: its worker died or was stopped while sending.</summary>
    public const string Interrupted = "interrupted";

    public static string? Name(WebhookFailure? failure) => failure switch
    {
        null => null,
        WebhookFailure.Status => "status",
        WebhookFailure.Timeout => "timeout",
        WebhookFailure.Connection => "connection",
        WebhookFailure.BlockedAddress => "blocked_address",
        WebhookFailure.BlockedScheme => "blocked_scheme",
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
    };
}

/// <summary>
/// One message to send: the same <see cref="Id"/> for every attempt of one event (webhook-id); <see cref="AttemptId"/>,
/// when given, is sent as emporium-attempt-id and differs for every attempt.
/// </summary>
public sealed record WebhookMessage(string Id, DateTimeOffset Timestamp, string Body, string? AttemptId = null);

/// <summary>What one attempt came to; <see cref="ResponseBody"/> holds at most <see cref="WebhooksOptions.ResponseBodyLimit"/> bytes.</summary>
public sealed record WebhookAttemptResult(
    int? StatusCode,
    TimeSpan Duration,
    string? ResponseBody,
    WebhookFailure? Failure,
    string? Error,
    TimeSpan? RetryAfter)
{
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Sends one signed POST with Standard Webhooks headers through the "webhooks" HttpClient: no redirects followed, no proxy,
/// connections only to addresses <see cref="WebhookAddressGuard"/> allows, Webhooks:Timeout for the whole exchange.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<WebhooksOptions> options, TimeProvider clock)
{
    public const string ClientName = "webhooks";

    /// <summary>Ours, not Standard Webhooks': unique per attempt and logged before the attempt is sent.</summary>
    public const string AttemptIdHeader = "emporium-attempt-id";

    public async Task<WebhookAttemptResult> SendAsync(Uri url, WebhookMessage message, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var timestamp = message.Timestamp.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(message.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", message.Id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(secrets, message.Id, timestamp, message.Body));
        request.Headers.UserAgent.ParseAdd("Emporium-Webhooks/1.0");
        if (message.AttemptId is not null)
        {
            request.Headers.Add(AttemptIdHeader, message.AttemptId);
        }

        var started = Stopwatch.GetTimestamp();
        if (url.Scheme != Uri.UriSchemeHttps && !options.Value.AllowHttp)
        {
            return Failed(WebhookFailure.BlockedScheme, "blocked scheme: http is not allowed here (Webhooks:AllowHttp); change the url to https");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadPrefixAsync(response, timeout.Token);
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            return new WebhookAttemptResult(
                status,
                Stopwatch.GetElapsedTime(started),
                body,
                ok ? null : WebhookFailure.Status,
                ok ? null : $"HTTP {status}" + (status is >= 300 and < 400 ? " (redirects are not followed)" : ""),
                RetryAfterOf(response));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Failed(WebhookFailure.Timeout, $"timeout: no complete response within {options.Value.Timeout.TotalSeconds:0.###} s");
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested && ExceptionChain.Find<TimeoutException>(exception) is not null)
        {
            // The handler's own connect timeout (10 s, DNS and TLS included) ends a Webhooks:Timeout longer than that early.
            return Failed(WebhookFailure.Timeout, "timeout: no connection within the 10 s connect timeout");
        }
        catch (HttpRequestException exception) when (ExceptionChain.Find<BlockedAddressException>(exception) is { } blocked)
        {
            return Failed(WebhookFailure.BlockedAddress, blocked.Message);
        }
        catch (HttpRequestException exception)
        {
            var socket = ExceptionChain.Find<SocketException>(exception);
            var reason = socket?.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData => "host not found",
                SocketError.TimedOut => "connect timeout",
                _ => exception.Message,
            };
            return Failed(WebhookFailure.Connection, reason);
        }

        // An error may quote what the receiver sent (HttpClient quotes a malformed header line): NUL becomes U+FFFD, as in
        // bodies, or PostgreSQL refuses the whole batch of outcomes it is recorded with.
        WebhookAttemptResult Failed(WebhookFailure failure, string error) =>
            new(null, Stopwatch.GetElapsedTime(started), null, failure, error.Replace('\0', '\uFFFD'), null);
    }

    /// <summary>
    /// The start of the body, for the attempt log. A body cut short (the receiver closed the connection mid-way, stalled
    /// past Webhooks:Timeout, or the worker is shutting down) keeps what arrived: the status already answered is what
    /// counts, so a 2xx is not sent again and a 410 still disables.
    /// </summary>
    private static async Task<string?> ReadPrefixAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[WebhooksOptions.ResponseBodyLimit];
        var read = 0;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
        }

        // NUL (a UTF-16 or binary answer) is kept as U+FFFD: PostgreSQL stores no NUL in text or jsonb, and no reader of
        // the delivery log needs it.
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).Replace('\0', '\uFFFD');
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }

        if (response.Headers.RetryAfter is not { } retryAfter)
        {
            // .NET reads delta-seconds only up to int.MaxValue; a larger number is still a request to wait, longer than
            // Webhooks:MaxRetryAfter allows.
            return response.Headers.TryGetValues("Retry-After", out var values)
                && values.FirstOrDefault()?.Trim() is { Length: > 0 } raw && raw.All(char.IsAsciiDigit)
                ? TimeSpan.MaxValue
                : null;
        }

        var delay = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - clock.GetUtcNow() : null);
        return delay is { } d && d > TimeSpan.Zero ? d : null;
    }
}
