using Emporium.Infrastructure.Persistence;
using Emporium.Platform;
using Emporium.Platform.Security;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

public static class IdentityFeature
{
    /// <summary>OWASP's 2023+ figure for PBKDF2-HMAC-SHA512, the algorithm of Identity's v3 hashes.</summary>
    public const int PasswordHashIterations = 210_000;

    public static WebApplicationBuilder AddIdentityFeature(this WebApplicationBuilder builder)
    {
        builder.Services
            .AddIdentityCore<User>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 10;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddRoles<Role>()
            .AddEntityFrameworkStores<EmporiumDbContext>();
        builder.Services.Configure<PasswordHasherOptions>(options => options.IterationCount = PasswordHashIterations);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddStartupTask<AdminAccountSeeder>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentity(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth")
            .WithTags("Auth")
            .RequireRateLimiting(SecurityExtensions.AuthRateLimitPolicy);
        _ = auth;
        return app;
    }
}
