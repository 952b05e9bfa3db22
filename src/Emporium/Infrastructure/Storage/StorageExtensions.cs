using Emporium.Platform.Health;
using Emporium.Platform.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Emporium.Infrastructure.Storage;

public static class StorageExtensions
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<StorageOptions>(StorageOptions.Section)
            .PostConfigure(storage =>
            {
                // The usual variables of S3-compatible deployments fill what configuration leaves unset.
                var s3 = storage.S3;
                s3.Bucket ??= configuration["S3_BUCKET_NAME"];
                s3.Endpoint ??= configuration["S3_ENDPOINT"];
                s3.AccessKey ??= configuration["S3_ACCESS_KEY"];
                s3.SecretKey ??= configuration["S3_SECRET_KEY"];
                if (configuration["S3_REGION"] is { Length: > 0 } region && configuration[$"{StorageOptions.Section}:S3:Region"] is null)
                {
                    s3.Region = region;
                }
            });

        services.AddSingleton<IFileStore>(provider =>
        {
            var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (storage.Provider == StorageProvider.S3)
            {
                return new S3FileStore(S3FileStore.CreateClient(storage.S3), storage.S3);
            }

            var dataDirectory = provider.GetRequiredService<IOptions<EmporiumOptions>>().Value.DataDirectory;
            return new LocalFileStore(Path.Combine(Path.GetFullPath(dataDirectory), storage.Local.Root ?? "files"));
        });
        services.AddHealthChecks().AddCheck<FileStoreHealthCheck>("storage", tags: [HealthEndpoints.Ready]);
        return services;
    }
}

/// <summary>Readiness: the store answers (S3: the bucket can be listed; a folder: a file can be written).</summary>
internal sealed class FileStoreHealthCheck(IFileStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await store.CheckAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The file store cannot be used: {exception.Message}");
        }
    }
}
