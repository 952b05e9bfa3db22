using System.Security.Cryptography;
using System.Text;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Idempotency-Key on checkout (decision 0016): a key is claimed per user before the checkout runs (a row committed on its
/// own), answered in the checkout's transaction, and replayed to every later request with the same key and body until it
/// expires. Another body under the same key is 422; a duplicate that arrives while the first is in flight waits a moment
/// for its answer, then gets 409.
/// </summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>The field a problem about the header names (lower case, as every field name in problem details).</summary>
    public const string Field = "idempotency-key";

    /// <summary>How long a duplicate waits for the first request's answer before it is told to retry (409).</summary>
    private static readonly TimeSpan InFlightWait = TimeSpan.FromSeconds(2);

    /// <summary>A claim older than this without an answer was left by a process that died mid-checkout: it may be taken over.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(2);

    /// <summary>What a claim found: the key is ours now, an answer to replay, or a refusal.</summary>
    public abstract record Claim;

    /// <summary>The key is this request's: claimed at <paramref name="At"/>, which the answer must still find.</summary>
    public sealed record Claimed(long Id, DateTime At) : Claim;

    public sealed record Replay(int StatusCode, string Body, long? OrderId) : Claim;

    public sealed record Refused(ProblemHttpResult Problem) : Claim;

    /// <summary>Why the header's value cannot be a key, or null when it can: 1-255 visible ASCII characters.</summary>
    public static string? Problem(string key) =>
        key.Length is 0 or > MaxLength || key.Any(c => c is < '!' or > '~')
            ? $"{Header} must be 1-{MaxLength} visible ASCII characters, such as a UUID."
            : null;

    /// <summary>SHA-256 of the request as the service read it (so whitespace and member order do not matter), in hex.</summary>
    public static string HashOf(string canonicalBody) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalBody)));

    public static async Task<Claim> ClaimAsync(
        EmporiumDbContext db, TimeProvider clock, long userId, string key, string hash, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var waitUntil = clock.GetUtcNow().UtcDateTime + InFlightWait;
        while (true)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var existing = await db.Set<IdempotencyKey>().AsNoTracking().FirstOrDefaultAsync(k => k.UserId == userId && k.Key == key, cancellationToken);
            if (existing is null)
            {
                var row = new IdempotencyKey { UserId = userId, Key = key, RequestHash = hash, CreatedAt = now, ExpiresAt = now + lifetime };
                db.Set<IdempotencyKey>().Add(row);
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    return new Claimed(row.Id, now);
                }
                catch (DbUpdateException)
                {
                    // A concurrent request with the same key claimed it first (the unique index refused this one): look again.
                    if (await ClaimedMeanwhileAsync(db, row, cancellationToken))
                    {
                        continue;
                    }

                    throw;
                }
            }

            if (existing.ExpiresAt <= now)
            {
                await db.Set<IdempotencyKey>().Where(k => k.Id == existing.Id && k.ExpiresAt == existing.ExpiresAt).ExecuteDeleteAsync(cancellationToken);
                continue;
            }

            if (existing.RequestHash != hash)
            {
                var message = $"This {Header} was used with another request body; use a new key for a new request.";
                return new Refused(Problems.OfField(StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused.", message, Field, message));
            }

            if (existing.StatusCode is { } status)
            {
                return new Replay(status, existing.Response ?? "", existing.OrderId);
            }

            if (existing.CreatedAt < now - Abandoned)
            {
                var taken = await db.Set<IdempotencyKey>()
                    .Where(k => k.Id == existing.Id && k.StatusCode == null && k.CreatedAt == existing.CreatedAt)
                    .ExecuteUpdateAsync(set => set.SetProperty(k => k.CreatedAt, now), cancellationToken);
                if (taken == 1)
                {
                    return new Claimed(existing.Id, now);
                }

                continue;
            }

            if (now >= waitUntil)
            {
                return new Refused(Problems.Conflict($"A checkout with this {Header} is still in progress; retry in a moment to get its answer."));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellationToken);
        }
    }

    /// <summary>
    /// Records the answer to replay (inside the checkout's transaction for an order, on its own for a refusal); false when the
    /// claim is no longer this request's (taken over as abandoned), and the caller must not commit an order under it.
    /// </summary>
    public static async Task<bool> AnswerAsync(EmporiumDbContext db, Claimed claim, int statusCode, string body, long? orderId, CancellationToken cancellationToken) =>
        await db.Set<IdempotencyKey>().Where(k => k.Id == claim.Id && k.StatusCode == null && k.CreatedAt == claim.At).ExecuteUpdateAsync(set => set
            .SetProperty(k => k.StatusCode, statusCode)
            .SetProperty(k => k.Response, body)
            .SetProperty(k => k.OrderId, orderId), cancellationToken) == 1;

    /// <summary>Gives the key back after a failure that answered nothing (a 5xx), so the client's retry runs the checkout.</summary>
    public static Task ReleaseAsync(EmporiumDbContext db, Claimed claim) =>
        db.Set<IdempotencyKey>().Where(k => k.Id == claim.Id && k.StatusCode == null && k.CreatedAt == claim.At).ExecuteDeleteAsync(CancellationToken.None);

    /// <summary>After a refused insert: true when another request holds the key now (the unique index refused it), else the error was another.</summary>
    private static async Task<bool> ClaimedMeanwhileAsync(EmporiumDbContext db, IdempotencyKey row, CancellationToken cancellationToken)
    {
        db.Entry(row).State = EntityState.Detached;
        return await db.Set<IdempotencyKey>().AnyAsync(k => k.UserId == row.UserId && k.Key == row.Key, cancellationToken);
    }
}

/// <summary>A stored answer sent again, marked with Idempotent-Replayed: true.</summary>
public sealed class ReplayedAnswer(int statusCode, string body, string? location) : IResult
{
    public int StatusCode => statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        if (location is not null)
        {
            response.Headers.Location = location;
        }

        response.ContentType = statusCode >= 400 ? "application/problem+json" : "application/json; charset=utf-8";
        await response.WriteAsync(body, httpContext.RequestAborted);
    }
}
