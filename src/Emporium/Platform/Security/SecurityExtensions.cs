using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Emporium.Platform.Security;

public sealed class AuthRateLimitOptions
{
    public const string Section = "RateLimiting:Auth";

    /// <summary>Requests to /api/auth/* allowed per client address per window.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 10;

    /// <summary>The window the permits are counted in; 1 second to 1 day.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

public static class SecurityExtensions
{
    public const string AuthRateLimitPolicy = "auth";

    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<JwtOptions>(JwtOptions.Section);
        services.AddSettings<AuthRateLimitOptions>(AuthRateLimitOptions.Section);
        services.AddSingleton<SigningKeyProvider>();
        services.AddSingleton<IValidateOptions<JwtOptions>, SigningKeyProvider.FileCheck>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>, SigningKeyProvider>((bearer, jwt, keys) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = keys.Key,
                    ClockSkew = jwt.Value.ClockSkew,
                    NameClaimType = "email",
                    RoleClaimType = "role",
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Staff, policy => policy.RequireRole(Roles.Admin, Roles.Staff))
            .AddPolicy(Policies.ManageProducts, policy => policy.RequireRole(Roles.Admin, Roles.Staff, Roles.Seller))
            .AddPolicy(Policies.Admin, policy => policy.RequireRole(Roles.Admin));

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(AuthRateLimitPolicy, context =>
            {
                var settings = context.RequestServices.GetRequiredService<IOptions<AuthRateLimitOptions>>().Value;
                return RateLimitPartition.GetFixedWindowLimiter(
                    ClientOf(context.Connection.RemoteIpAddress),
                    _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = settings.PermitLimit,
                        Window = settings.Window,
                        QueueLimit = 0,
                    });
            });
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? (int)Math.Ceiling(wait.TotalSeconds)
                    : 60;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests.",
                        Detail = $"Try again in {retryAfter} seconds.",
                    },
                });
            };
        });
        return builder;
    }

    /// <summary>
    /// A bearer token that does not validate (expired, revoked by a key rotation, malformed) is answered 401 with
    /// <c>WWW-Authenticate: Bearer error="invalid_token"</c> (RFC 6750 section 3.1) on every API route, not read as no token: a
    /// staff member's expired token on a public list silently hid the inactive products instead of telling the client to
    /// refresh. Signing in and refreshing (/api/auth/*) take requests whatever stale token a client still sends.
    /// </summary>
    private static Task RefuseInvalidBearerTokens(HttpContext context, RequestDelegate next) =>
        context.User.Identity?.IsAuthenticated != true
        && context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        && !context.Request.Path.StartsWithSegments("/api/auth", StringComparison.OrdinalIgnoreCase)
        && System.Net.Http.Headers.AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
        && header.Scheme.Equals(JwtBearerDefaults.AuthenticationScheme, StringComparison.OrdinalIgnoreCase)
            ? context.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme)
            : next(context);

    /// <summary>
    /// Whom a request counts against: its IPv4 address, or the /64 network of its IPv6 address. An IPv6 client is given a
    /// /64 (or more) and can pick any address in it, so counting addresses would give it billions of fresh windows.
    /// </summary>
    internal static string ClientOf(System.Net.IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{new System.Net.IPAddress(bytes)}/64";
    }

    public static WebApplication UseSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(RefuseInvalidBearerTokens);
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }
}
