using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;

namespace Emporium.Features.Identity;

/// <summary>
/// Ends access tokens early: each carries a digest of its user's security stamp (claim <see cref="Claim"/>), which a lock,
/// a role change, a new password and a sign-out everywhere replace. A token whose digest is no longer the user's is refused
/// (401 invalid_token), so such a change reaches every access token within Auth:SessionCheckInterval (read again at most
/// that often per user and process; at once in the process that made the change), not when the token expires
/// (Auth:AccessTokenLifetime). The client's refresh then gets the new roles, or is refused. A digest unlike the remembered
/// stamp is checked against the database before it is refused, so a token newer than the memory is never refused.
/// </summary>
public sealed class SessionStamps(IServiceScopeFactory scopes, IOptions<JwtOptions> options, TimeProvider clock) : IDisposable
{
    public const string Claim = "sst";

    /// <summary>Users whose stamp is remembered at the most: past them, the oldest are read again.</summary>
    private const int Remembered = 100_000;

    private readonly MemoryCache _stamps = new(new MemoryCacheOptions { SizeLimit = Remembered });

    /// <summary>Stamp changes this process made: a read overtaken by one does not remember what it read.</summary>
    private long _changes;

    /// <summary>The digest a token carries: the stamp itself (a secret of the account) never leaves the database.</summary>
    public static string Of(User user) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(user.SecurityStamp ?? "")).AsSpan(0, 16));

    /// <summary>After a change of <paramref name="userId"/>'s stamp: this process reads it again at the next request.</summary>
    public void Forget(long userId)
    {
        // A read that began before the change must not put the old stamp back when it ends.
        Interlocked.Increment(ref _changes);
        _stamps.Remove(userId);
    }

    public async Task OnTokenValidated(TokenValidatedContext context)
    {
        // Tokens issued before stamps were carried have none; they expire within Auth:AccessTokenLifetime.
        if (context.Principal?.FindFirst(Claim)?.Value is not { } carried || context.Principal.UserId() is not { } userId)
        {
            return;
        }

        var cancellationToken = context.HttpContext.RequestAborted;
        // A digest unlike the remembered one is checked against the database before it is refused: a token issued after a
        // change another process made (a new password, a sign-in after a sign-out everywhere) is newer than what is
        // remembered here, not older.
        if (!Matches(await CurrentAsync(userId, fresh: false, cancellationToken), carried)
            && !Matches(await CurrentAsync(userId, fresh: true, cancellationToken), carried))
        {
            context.Fail("The session was ended (the account was locked, its roles or password changed, or it signed out everywhere).");
        }
    }

    private static bool Matches(string current, string carried) => string.Equals(current, carried, StringComparison.Ordinal);

    private async Task<string> CurrentAsync(long userId, bool fresh, CancellationToken cancellationToken)
    {
        if (!fresh && _stamps.TryGetValue(userId, out string? known) && known is not null)
        {
            return known;
        }

        var changes = Interlocked.Read(ref _changes);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new User { SecurityStamp = u.SecurityStamp })
            .SingleOrDefaultAsync(cancellationToken);
        // A deleted account's tokens match nothing.
        var current = user is null ? "" : Of(user);
        var interval = options.Value.SessionCheckInterval;
        if (interval > TimeSpan.Zero && Interlocked.Read(ref _changes) == changes)
        {
            _stamps.Set(userId, current, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = clock.GetUtcNow() + interval });
        }

        return current;
    }

    public void Dispose() => _stamps.Dispose();
}
