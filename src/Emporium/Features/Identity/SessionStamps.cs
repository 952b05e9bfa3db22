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
/// (Auth:AccessTokenLifetime). The client's refresh then gets the new roles, or is refused.
/// </summary>
public sealed class SessionStamps(IServiceScopeFactory scopes, IOptions<JwtOptions> options, TimeProvider clock) : IDisposable
{
    public const string Claim = "sst";

    /// <summary>Users whose stamp is remembered at the most: past them, the oldest are read again.</summary>
    private const int Remembered = 100_000;

    private readonly MemoryCache _stamps = new(new MemoryCacheOptions { SizeLimit = Remembered });

    /// <summary>The digest a token carries: the stamp itself (a secret of the account) never leaves the database.</summary>
    public static string Of(User user) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(user.SecurityStamp ?? "")).AsSpan(0, 16));

    /// <summary>After a change of <paramref name="userId"/>'s stamp: this process reads it again at the next request.</summary>
    public void Forget(long userId) => _stamps.Remove(userId);

    public async Task OnTokenValidated(TokenValidatedContext context)
    {
        // Tokens issued before stamps were carried have none; they expire within Auth:AccessTokenLifetime.
        if (context.Principal?.FindFirst(Claim)?.Value is not { } carried || context.Principal.UserId() is not { } userId)
        {
            return;
        }

        if (!string.Equals(await CurrentAsync(userId, context.HttpContext.RequestAborted), carried, StringComparison.Ordinal))
        {
            context.Fail("The session was ended (the account was locked, its roles or password changed, or it signed out everywhere).");
        }
    }

    private async Task<string?> CurrentAsync(long userId, CancellationToken cancellationToken)
    {
        if (_stamps.TryGetValue(userId, out string? known))
        {
            return known;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new User { SecurityStamp = u.SecurityStamp })
            .SingleOrDefaultAsync(cancellationToken);
        // A deleted account's tokens match nothing.
        var current = user is null ? "" : Of(user);
        var interval = options.Value.SessionCheckInterval;
        if (interval > TimeSpan.Zero)
        {
            _stamps.Set(userId, current, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = clock.GetUtcNow() + interval });
        }

        return current;
    }

    public void Dispose() => _stamps.Dispose();
}
