using System.ComponentModel.DataAnnotations;

namespace Emporium.Infrastructure.Storage;

/// <summary>Storage settings (section Storage); S3_* environment variables fill the S3 ones that are not set.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.Local;

    public LocalStorageOptions Local { get; set; } = new();

    public S3StorageOptions S3 { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider != StorageProvider.S3)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(S3.Bucket))
        {
            yield return new ValidationResult("Storage:S3:Bucket (or S3_BUCKET_NAME) is required when Storage:Provider is S3.", ["Storage:S3:Bucket"]);
        }

        if (string.IsNullOrEmpty(S3.AccessKey) != string.IsNullOrEmpty(S3.SecretKey))
        {
            yield return new ValidationResult(
                "Storage:S3:AccessKey and Storage:S3:SecretKey (S3_ACCESS_KEY, S3_SECRET_KEY) go together; leave both out to use the AWS credential chain.",
                ["Storage:S3:AccessKey"]);
        }

        if (S3.Endpoint is { Length: > 0 } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"Storage:S3:Endpoint (S3_ENDPOINT) must be an absolute URL, not '{endpoint}'.", ["Storage:S3:Endpoint"]);
        }

        if (S3.PartSizeMegabytes is < 5 or > 1024)
        {
            yield return new ValidationResult("Storage:S3:PartSizeMegabytes must be between 5 (S3's smallest part) and 1024.", ["Storage:S3:PartSizeMegabytes"]);
        }
    }
}

public sealed class LocalStorageOptions
{
    /// <summary>The folder files live in; relative paths are under Emporium:DataDirectory. Default {DataDirectory}/files.</summary>
    public string? Root { get; set; }
}

public sealed class S3StorageOptions
{
    public string? Bucket { get; set; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>An S3-compatible server's URL (MinIO, s3rver, Ceph, R2); unset for AWS itself.</summary>
    public string? Endpoint { get; set; }

    /// <summary>bucket in the path (http://host/bucket/key) rather than in the host name; the default when Endpoint is set.</summary>
    public bool? ForcePathStyle { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Prepended to every key, so several deployments can share a bucket (e.g. "staging/").</summary>
    public string Prefix { get; set; } = "";

    /// <summary>
    /// Files larger than this go up as a multipart upload in parts of this size, one part in memory at a time: a 1 GB
    /// import upload holds 8 MB, not 1 GB.
    /// </summary>
    [Range(5, 1024)]
    public int PartSizeMegabytes { get; set; } = 8;
}

public enum StorageProvider
{
    Local,
    S3,
}
