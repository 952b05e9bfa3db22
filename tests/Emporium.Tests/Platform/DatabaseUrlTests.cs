using Emporium.Infrastructure.Persistence;
using Npgsql;

namespace Emporium.Tests.Platform;

/// <summary>DATABASE_URL as hosted PostgreSQL providers hand it out: libpq's spellings, read into Npgsql's settings.</summary>
public sealed class DatabaseUrlTests
{
    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    [InlineData("VERIFY-FULL", SslMode.VerifyFull)]
    public void Every_libpq_sslmode_is_read(string sslmode, SslMode expected) =>
        new NpgsqlConnectionStringBuilder(DatabaseOptions.FromDatabaseUrl($"postgres://shop:s%40cret@db.example.com:6543/catalog?sslmode={sslmode}"))
            .SslMode.Should().Be(expected);

    [Fact]
    public void The_other_parameters_a_provider_gives_are_kept_not_dropped()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseOptions.FromDatabaseUrl(
            "postgresql://shop:s%40cret@db.example.com/catalog?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=emporium&connect_timeout=7&channel_binding=require"));

        (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password).Should().Be(("db.example.com", 5432, "catalog", "shop", "s@cret"));
        builder.RootCertificate.Should().Be("/etc/ca.pem");
        builder.ApplicationName.Should().Be("emporium");
        builder.Timeout.Should().Be(7);
        builder.ChannelBinding.Should().Be(ChannelBinding.Require);

        var more = new NpgsqlConnectionStringBuilder(DatabaseOptions.FromDatabaseUrl(
            "postgres://shop:secret@db/catalog?ssl=true&target_session_attrs=read-write&gssencmode=disable&sslrootcert=system"));
        (more.SslMode, more.TargetSessionAttributes, more.GssEncryptionMode, more.RootCertificate).Should().Be(
            (SslMode.Require, "read-write", GssEncryptionMode.Disable, (string?)null));
    }

    [Theory]
    [InlineData("sslmode=sideways", "sslmode=sideways")]
    [InlineData("sslmode=1", "sslmode=1")]
    [InlineData("connect_timeout=soon", "connect_timeout=soon")]
    [InlineData("target_session_attrs=sideways", "target_session_attrs=sideways")]
    [InlineData("keepalives=1", "keepalives is not supported")]
    public void A_parameter_it_cannot_honour_is_refused_by_name(string query, string message)
    {
        var refuse = () => DatabaseOptions.FromDatabaseUrl($"postgres://shop:secret@db/catalog?{query}");

        refuse.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should().Contain(message);
    }
}
