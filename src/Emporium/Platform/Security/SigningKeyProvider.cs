using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Emporium.Platform.Security;

/// <summary>Resolves the token signing key once: configured, or generated and kept under the data directory.</summary>
public sealed class SigningKeyProvider(IOptions<JwtOptions> jwt, IOptions<EmporiumOptions> emporium)
{
    private readonly Lazy<SymmetricSecurityKey> _key = new(() => Load(jwt.Value, emporium.Value));

    public SymmetricSecurityKey Key => _key.Value;

    private static SymmetricSecurityKey Load(JwtOptions jwt, EmporiumOptions emporium)
    {
        if (!string.IsNullOrEmpty(jwt.SigningKey))
        {
            return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey));
        }

        var path = Path.Combine(emporium.DataDirectory, "jwt-signing.key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(emporium.DataDirectory);
            try
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(64))));
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first; use theirs.
            }
        }

        return new SymmetricSecurityKey(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }
}
