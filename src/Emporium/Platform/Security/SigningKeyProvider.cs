using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Emporium.Platform.Security;

/// <summary>Resolves the token signing key once: configured, or generated and kept under the data directory.</summary>
public sealed class SigningKeyProvider(IOptions<JwtOptions> jwt, IOptions<EmporiumOptions> emporium)
{
    /// <summary>Shortest generated key a key file may hold (the configured one has the same floor).</summary>
    private const int MinimumBytes = 32;

    private readonly Lazy<SymmetricSecurityKey> _key = new(() => Load(jwt.Value, emporium.Value));

    public SymmetricSecurityKey Key => _key.Value;

    private static SymmetricSecurityKey Load(JwtOptions jwt, EmporiumOptions emporium) =>
        !string.IsNullOrEmpty(jwt.SigningKey)
            ? new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey))
            : new SymmetricSecurityKey(ReadOrCreate(emporium.DataDirectory, out var problem) ?? throw new InvalidOperationException(problem));

    /// <summary>
    /// The generated key under <paramref name="dataDirectory"/>, created on first use; null with the reason when the file
    /// cannot be used. The file appears whole or not at all (written aside, then linked into place), so a process killed
    /// mid-write, or a second process reading meanwhile, never finds it empty.
    /// </summary>
    internal static byte[]? ReadOrCreate(string dataDirectory, out string? problem)
    {
        var path = Path.Combine(dataDirectory, "jwt-signing.key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dataDirectory);
            var aside = $"{path}.{Guid.NewGuid():N}.tmp";
            try
            {
                using (var stream = new FileStream(aside, FileMode.CreateNew, FileAccess.Write))
                {
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(aside, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    }

                    stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))));
                    stream.Flush(flushToDisk: true);
                }

                File.Move(aside, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process put its key in place first; use theirs.
            }
            finally
            {
                File.Delete(aside);
            }
        }

        return Read(path, out problem);
    }

    private static byte[]? Read(string path, out string? problem)
    {
        byte[]? key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            key = null;
        }

        problem = key is { Length: >= MinimumBytes }
            ? null
            : $"Auth:SigningKey is not set and the generated key in {path} is damaged (not base64 of at least {MinimumBytes} bytes): " +
              "delete the file to generate a new one (everyone signs in again), or set Auth:SigningKey.";
        return problem is null ? key : null;
    }

    /// <summary>
    /// Checks a generated key that is already there when the service starts, so a damaged file stops it with one line
    /// instead of failing every request (a missing one is made on first use, by a process that signs tokens).
    /// </summary>
    internal sealed class FileCheck(IOptions<EmporiumOptions> emporium) : IValidateOptions<JwtOptions>
    {
        public ValidateOptionsResult Validate(string? name, JwtOptions options)
        {
            var path = Path.Combine(emporium.Value.DataDirectory, "jwt-signing.key");
            return string.IsNullOrEmpty(options.SigningKey) && File.Exists(path) && Read(path, out var problem) is null
                ? ValidateOptionsResult.Fail(problem!)
                : ValidateOptionsResult.Success;
        }
    }
}
