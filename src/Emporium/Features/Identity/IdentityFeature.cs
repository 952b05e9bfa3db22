using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

public static class IdentityFeature
{
    /// <summary>OWASP's 2023+ figure for PBKDF2-HMAC-SHA512, the algorithm of Identity's v3 hashes.</summary>
    public const int PasswordHashIterations = 210_000;

    /// <summary>MaxFailedAccessAttempts (default 5) and DefaultLockoutTimeSpan (default 00:15:00).</summary>
    public const string LockoutSection = "Identity:Lockout";

    public static WebApplicationBuilder AddIdentityFeature(this WebApplicationBuilder builder)
    {
        builder.Services
            .AddIdentityCore<User>(options =>
            {
                options.User.RequireUniqueEmail = true;
                // The user name is the email, so it must accept every character an address may hold.
                options.User.AllowedUserNameCharacters = "";
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
        builder.Services.AddOptions<IdentityOptions>()
            .Configure<IConfiguration>((options, configuration) =>
                configuration.GetSection(LockoutSection).Bind(options.Lockout))
            .Validate(options => options.Lockout.MaxFailedAccessAttempts >= 1,
                $"{LockoutSection}:MaxFailedAccessAttempts must be 1 or more.")
            // Identity adds the span to now when an account locks: one past the calendar's end failed every such sign-in.
            .Validate(options => options.Lockout.DefaultLockoutTimeSpan > TimeSpan.Zero && options.Lockout.DefaultLockoutTimeSpan <= TimeSpan.FromDays(365),
                $"{LockoutSection}:DefaultLockoutTimeSpan must be between 00:00:00.001 and 365.00:00:00 (an admin's unlock ends a lock early).")
            .ValidateOnStart();
        builder.Services.Configure<PasswordHasherOptions>(options => options.IterationCount = PasswordHashIterations);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<SessionStamps>();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SessionStamps>((bearer, stamps) => bearer.Events = new JwtBearerEvents { OnTokenValidated = stamps.OnTokenValidated });
        builder.Services.AddScoped<RefreshTokenStore>();
        builder.Services.AddScoped<SignInFailures>();
        builder.Services.AddStartupTask<AdminAccountSeeder>();
        builder.Services.AddHostedService<RefreshTokenPurge>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentity(this IEndpointRouteBuilder app)
    {
        app.MapAuth();
        app.MapUsers();
        return app;
    }
}
