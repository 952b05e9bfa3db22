namespace Emporium.Tests.Infrastructure;

/// <summary>
/// The S3-compatible server scripts/test starts (s3rver, EMPORIUM_TEST_S3) with its bucket "emporium". Never silently
/// skipped. Every app or store gets a key prefix of its own, so tests never see each other's files.
/// </summary>
public static class S3Server
{
    public const string Bucket = "emporium";

    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    public static string Endpoint =>
        Environment.GetEnvironmentVariable("EMPORIUM_TEST_S3") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("EMPORIUM_TEST_S3 is not set: run the suite with scripts/test, which starts s3rver for it.");

    public static string NewPrefix() => $"test-{Guid.NewGuid():N}/";

    /// <summary>Switches an app's file store to the S3 adapter on the test server, under a prefix of its own.</summary>
    public static EmporiumApp UseS3(this EmporiumApp app) =>
        app.With("Storage:Provider", "S3")
            .With("Storage:S3:Endpoint", Endpoint)
            .With("Storage:S3:Bucket", Bucket)
            .With("Storage:S3:AccessKey", AccessKey)
            .With("Storage:S3:SecretKey", SecretKey)
            .With("Storage:S3:Prefix", NewPrefix());
}
