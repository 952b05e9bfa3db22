using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Emporium.Features.Identity;

/// <summary>Issues the short-lived JWT access tokens that every API call presents.</summary>
public sealed class TokenService(IOptions<JwtOptions> options, SigningKeyProvider keys, TimeProvider clock)
{
    private readonly JsonWebTokenHandler _handler = new();

    public TimeSpan AccessTokenLifetime => options.Value.AccessTokenLifetime;

    public string CreateAccessToken(User user, IEnumerable<string> roles)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claims = new List<Claim>
        {
            new("sub", user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("email", user.Email ?? ""),
            new("jti", Guid.NewGuid().ToString("N")),
            new(SessionStamps.Claim, SessionStamps.Of(user)),
        };
        claims.AddRange(roles.Select(role => new Claim("role", role)));
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.Value.AccessTokenLifetime,
            SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
        });
    }
}
