using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Emporium.Platform.Storage;

namespace Emporium.Infrastructure.Storage;

/// <summary>
/// Files in an S3 bucket (AWS, or an S3-compatible server with an endpoint and path-style addressing). A put of up to one
/// part is one PUT; a larger one is a multipart upload of Storage:S3:PartSizeMegabytes parts, read one at a time into a
/// pooled buffer, so memory stays at one part whatever the file size; a failed one is aborted, storing nothing. Payloads
/// go unchunked and without the SDK's default trailing checksums: S3-compatible servers (s3rver among them) would store
/// the aws-chunked framing inside the object.
/// </summary>
internal sealed class S3FileStore(IAmazonS3 client, S3StorageOptions options) : IFileStore
{
    private readonly int _partSize = options.PartSizeMegabytes * 1024 * 1024;

    public static AmazonS3Client CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.Endpoint is { Length: > 0 } endpoint)
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = options.ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        return options.AccessKey is { Length: > 0 } accessKey
            ? new AmazonS3Client(new BasicAWSCredentials(accessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public async Task<long> PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        var objectKey = ObjectKey(key);
        var buffer = ArrayPool<byte>.Shared.Rent(_partSize);
        try
        {
            var filled = await FillAsync(content, buffer, cancellationToken);
            if (filled < _partSize)
            {
                await client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = options.Bucket,
                    Key = objectKey,
                    ContentType = contentType,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                    UseChunkEncoding = false,
                    AutoCloseStream = false,
                }, cancellationToken);
                return filled;
            }

            return await PutInPartsAsync(objectKey, content, contentType, buffer, filled, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetObjectAsync(options.Bucket, ObjectKey(key), cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception missing) when (missing.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        client.DeleteObjectAsync(options.Bucket, ObjectKey(key), cancellationToken);

    public async IAsyncEnumerable<StoredFile> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = options.Bucket, Prefix = options.Prefix + prefix };
        do
        {
            var page = await client.ListObjectsV2Async(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                yield return new StoredFile(item.Key[options.Prefix.Length..], item.Size ?? 0, item.LastModified?.ToUniversalTime() ?? DateTime.UtcNow);
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
    }

    public Uri? DirectUrl(string key, TimeSpan lifetime) =>
        new(client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = options.Bucket,
            Key = ObjectKey(key),
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + lifetime,
            Protocol = options.Endpoint is { } endpoint && endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS,
        }));

    public Task CheckAsync(CancellationToken cancellationToken) =>
        client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket, MaxKeys = 1, Prefix = options.Prefix }, cancellationToken);

    private async Task<long> PutInPartsAsync(
        string objectKey, Stream content, string contentType, byte[] buffer, int filled, CancellationToken cancellationToken)
    {
        var upload = await client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = options.Bucket, Key = objectKey, ContentType = contentType }, cancellationToken);
        try
        {
            var parts = new List<PartETag>();
            long total = 0;
            while (filled > 0)
            {
                var part = await client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = options.Bucket,
                    Key = objectKey,
                    UploadId = upload.UploadId,
                    PartNumber = parts.Count + 1,
                    PartSize = filled,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                    UseChunkEncoding = false,
                }, cancellationToken);
                parts.Add(new PartETag(parts.Count + 1, part.ETag));
                total += filled;
                filled = await FillAsync(content, buffer, cancellationToken);
            }

            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = options.Bucket,
                Key = objectKey,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken);
            return total;
        }
        catch
        {
            try
            {
                await client.AbortMultipartUploadAsync(options.Bucket, objectKey, upload.UploadId, CancellationToken.None);
            }
            catch (AmazonS3Exception)
            {
                // The upload was never completed, so no object exists either way; servers without abort (s3rver) keep the
                // parts until their own clean-up (on AWS, a lifecycle rule for incomplete multipart uploads: docs/operations.md).
            }

            throw;
        }
    }

    /// <summary>Reads until the part buffer is full or the content ends; answers how many bytes it holds.</summary>
    private async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < _partSize && (read = await content.ReadAsync(buffer.AsMemory(filled, _partSize - filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    private string ObjectKey(string key) => options.Prefix + FileKeys.Check(key);
}
