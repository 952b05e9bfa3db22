using Microsoft.AspNetCore.Identity;

namespace Emporium.Features.Identity;

/// <summary>Register, log in, refresh, log out, and who am I.</summary>
public static class AuthEndpoints
{
    /// <summary>
    /// The one answer to a refused sign-in: a wrong password, an unknown email and a locked account read the same (and take
    /// the same hashing time), so the answer never tells whether an account exists.
    /// </summary>
    private const string InvalidCredentialsDetail =
        "The email or password is incorrect, or the account is locked for a while after repeated failed sign-ins.";

    /// <summary>A hash of a random password, made with the configured hasher on first use.</summary>
    private static string? _decoyHash;

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        // What takes a password or a refresh token to guess is rate-limited per client address; signing out and who-am-I
        // are not, so a user who mistyped their password a few times can still sign in and out (the admin UI asks
        // /me right after signing in, and a refused sign-out left the refresh token valid).
        var open = app.MapGroup("/api/auth").WithTags("Auth");
        var auth = open.MapGroup("")
            .RequireRateLimiting(SecurityExtensions.AuthRateLimitPolicy)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        auth.MapPost("/register", Register)
            .Documented("Create a customer account", "Creates a user with the customer role. The password must be at least 10 characters. " +
                "An email already registered, in any letter case, answers 409.", 409);

        auth.MapPost("/login", Login)
            .Documented("Exchange email and password for tokens", "Answers a short-lived JWT access token and a single-use refresh token. A wrong email or " +
                "password answers one generic 401; repeated failures from one client address (an IPv4 address, an IPv6 /64) lock that " +
                "address out of the account for a while (Identity:Lockout:*), with the same 401, so no answer tells whether an account " +
                "exists; other addresses still sign in.", 401);

        auth.MapPost("/refresh", Refresh)
            .Documented("Rotate a refresh token", "Exchanges a refresh token for a new access/refresh pair; the presented token stops working. " +
                "Roles are read again, so role changes take effect here. A login lasts at most Auth:SessionLifetime (90 days) from its " +
                "sign-in, however often it is rotated; then the answer is 401 and the user signs in again. Presenting a token that was " +
                "already rotated revokes every token of that login and answers 401.", 401);

        open.MapPost("/logout", Logout)
            .Documented("Revoke a refresh token and its family", "Revokes the presented refresh token and every token rotated from the same login. " +
                "Always 204, also for unknown or already revoked tokens. Access tokens already issued " +
                "stay valid until they expire (Auth:AccessTokenLifetime); POST /api/auth/logout-all ends them too.");

        auth.MapPost("/password", ChangePassword)
            .RequireAuthorization()
            .Documented("Change the signed-in user's password", "Takes the current password and a new one (at least 10 characters). Every " +
                "refresh token of the account is revoked and every access token issued before is refused (401 invalid_token, within " +
                "Auth:SessionCheckInterval), so each other session ends (a stolen one with it), and a new pair is answered for this one. A wrong current password answers 400 and counts as a failed sign-in " +
                "(Identity:Lockout:*); the password is not changed.", 401, 409);

        open.MapPost("/logout-all", LogoutEverywhere)
            .RequireAuthorization()
            .Documented("Sign out everywhere", "Revokes every refresh token of the signed-in user: each session, on any device, ends at " +
                "its next refresh, and every access token of the user, this one included, is refused (401 invalid_token) within " +
                "Auth:SessionCheckInterval.", 401, 409);

        open.MapGet("/me", Me)
            .RequireAuthorization()
            .Documented("The signed-in user", "The user the access token was issued to, with their current roles.");
        return app;
    }

    public static Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterRequest request, UserManager<User> users, [AsParameters] RequestScope scope) =>
        UserAccounts.CreateAsync(request.Email, request.Password, [Roles.Customer], users, scope);

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        LoginRequest request,
        UserManager<User> users,
        TokenService tokens,
        RefreshTokenStore refreshTokens,
        SignInFailures failures,
        EmporiumDbContext db,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors()
            .When(string.IsNullOrWhiteSpace(request.Email), "email", "email is required.");
        Credentials.CheckPasswordPresent(request.Password, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var client = SecurityExtensions.ClientOf(http.Connection.RemoteIpAddress);
        var user = await users.FindByEmailAsync(request.Email!.Trim());
        if (user is null || await users.IsLockedOutAsync(user) || await failures.IsLockedOutAsync(user.Id, client, cancellationToken))
        {
            // Spend the same hashing time as for a real account, so response time does not reveal addresses or locks.
            var decoy = _decoyHash ??= users.PasswordHasher.HashPassword(new User(), Guid.NewGuid().ToString());
            users.PasswordHasher.VerifyHashedPassword(new User(), decoy, request.Password!);
            return InvalidCredentials();
        }

        if (!await users.CheckPasswordAsync(user, request.Password!))
        {
            await failures.CountAsync(user.Id, client, cancellationToken);
            return InvalidCredentials();
        }

        // A lock that landed while the password was being checked stops this sign-in too.
        await db.Entry(user).ReloadAsync(cancellationToken);
        if (await users.IsLockedOutAsync(user))
        {
            return InvalidCredentials();
        }

        await failures.SucceededAsync(user.Id, client, cancellationToken);
        var refreshToken = await refreshTokens.IssueAsync(user.Id, cancellationToken);
        return TypedResults.Ok(await TokensAsync(user, refreshToken, users, tokens));
    }

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Refresh(
        RefreshRequest request,
        UserManager<User> users,
        TokenService tokens,
        RefreshTokenStore refreshTokens,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken))
        {
            return Problems.Validation("refresh_token", "refresh_token is required.");
        }

        var rotation = await refreshTokens.RotateAsync(request.RefreshToken, cancellationToken);
        if (!rotation.Succeeded)
        {
            return Unauthorized(rotation.Failure == RotationFailure.Reused
                ? "The refresh token was already used. Every session of that login has been signed out; log in again."
                : "The refresh token is invalid or expired; log in again.");
        }

        var user = await users.FindByIdAsync(rotation.UserId.ToString(CultureInfo.InvariantCulture));
        if (user is null)
        {
            return Unauthorized("The account no longer exists.");
        }

        if (UserAccounts.IsLockedByAdmin(user))
        {
            return Unauthorized("The account is locked; ask an admin to unlock it.");
        }

        return TypedResults.Ok(await TokensAsync(user, rotation.Token!, users, tokens));
    }

    public static async Task<Results<NoContent, ValidationProblem>> Logout(
        RefreshRequest request,
        RefreshTokenStore refreshTokens,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RefreshToken))
        {
            return Problems.Validation("refresh_token", "refresh_token is required.");
        }

        await refreshTokens.RevokeFamilyOfAsync(request.RefreshToken, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request,
        ClaimsPrincipal principal,
        UserManager<User> users,
        TokenService tokens,
        RefreshTokenStore refreshTokens,
        SignInFailures failures,
        SessionStamps stamps,
        [AsParameters] RequestScope scope)
    {
        var errors = new ValidationErrors();
        Credentials.CheckPasswordPresent(request.CurrentPassword, errors, "current_password");
        Credentials.CheckPasswordPresent(request.NewPassword, errors, "new_password");
        if (principal.UserId() is not { } id || await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } user)
        {
            return Unauthorized("The account no longer exists.");
        }

        await Credentials.CheckPasswordRulesAsync(users, user, request.NewPassword, errors, "new_password");
        errors.When(request.NewPassword is { Length: > 0 } && request.NewPassword == request.CurrentPassword, "new_password",
            "new_password must differ from the current password.");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        // As at sign-in: a locked account (or address) is refused, and a wrong password counts towards the address's lockout,
        // so a stolen access token cannot be used to guess the password it would need to take the account over.
        var client = SecurityExtensions.ClientOf(scope.Http.Connection.RemoteIpAddress);
        var locked = await users.IsLockedOutAsync(user) || await failures.IsLockedOutAsync(user.Id, client, scope.Aborted);
        if (locked || !await users.CheckPasswordAsync(user, request.CurrentPassword!))
        {
            if (!locked)
            {
                await failures.CountAsync(user.Id, client, scope.Aborted);
            }

            return Problems.Validation("current_password",
                "The current password is incorrect, or the account is locked for a while after repeated failed sign-ins.");
        }

        await using var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        var changed = await UserAccounts.ChangeAsync(scope.Db, user, () => UserAccounts.SetPasswordAsync(users, user, request.NewPassword!));
        if (!changed.Succeeded)
        {
            return Problems.Conflict("The account kept changing while its password was being changed; nothing changed. Try again.");
        }

        await refreshTokens.RevokeAllOfAsync(user.Id, scope.Aborted);
        var refreshToken = await refreshTokens.IssueAsync(user.Id, scope.Aborted);
        await transaction.CommitAsync(scope.Aborted);
        stamps.Forget(user.Id);
        return TypedResults.Ok(await TokensAsync(user, refreshToken, users, tokens));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> LogoutEverywhere(
        ClaimsPrincipal principal, UserManager<User> users, RefreshTokenStore refreshTokens, SessionStamps stamps, EmporiumDbContext db,
        CancellationToken cancellationToken)
    {
        if (principal.UserId() is not { } id || await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture)) is not { } user)
        {
            return Unauthorized("The account no longer exists.");
        }

        // Access tokens end too: a new stamp refuses every one issued before (SessionStamps).
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var stamped = await UserAccounts.ChangeAsync(db, user, () => users.UpdateSecurityStampAsync(user));
        if (!stamped.Succeeded)
        {
            return Problems.Conflict("The account kept changing while its sessions were being ended; nothing changed. Try again.");
        }

        await refreshTokens.RevokeAllOfAsync(id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        stamps.Forget(id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Me(ClaimsPrincipal principal, UserManager<User> users)
    {
        var user = principal.UserId() is { } id
            ? await users.FindByIdAsync(id.ToString(CultureInfo.InvariantCulture))
            : null;
        if (user is null)
        {
            return Unauthorized("The account no longer exists.");
        }

        return TypedResults.Ok(UserResponse.From(user, await users.GetRolesAsync(user)));
    }

    private static async Task<TokenResponse> TokensAsync(User user, string refreshToken, UserManager<User> users, TokenService tokens)
    {
        var roles = await users.GetRolesAsync(user);
        return new TokenResponse(
            tokens.CreateAccessToken(user, roles),
            refreshToken,
            (int)tokens.AccessTokenLifetime.TotalSeconds);
    }

    private static ProblemHttpResult InvalidCredentials() => Unauthorized(InvalidCredentialsDetail);

    private static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized.", detail: detail);
}
