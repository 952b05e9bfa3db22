using Emporium.Platform.Storage;
using Emporium.Platform.Workers;

namespace Emporium.Features.Catalog.Images;

/// <summary>
/// Deletes image files no image row owns, every Media:OrphanSweepInterval in worker processes: the files of an image whose
/// row was deleted while its files could not be (a crash between the two, a store that failed), and those of an upload cut
/// off after its files were stored and before its rows were (a process stopped mid-request). Only files older than
/// Media:OrphanFileAge go, so an upload in flight keeps its files. The store is read in chunks, never listed whole into
/// memory; several workers sweeping at once is harmless.
/// </summary>
internal sealed class ImageFileSweep(
    IServiceScopeFactory scopes,
    IFileStore store,
    IOptions<MediaOptions> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<ImageFileSweep> logger) : PeriodicSweep(emporium, clock, logger, "image files that no image owns")
{
    private const int ChunkSize = 1_000;

    protected override TimeSpan Interval => settings.Value.OrphanSweepInterval;

    /// <summary>Deletes old files of images that have no row; answers how many files went.</summary>
    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow() - settings.Value.OrphanFileAge;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var deleted = 0;
        var old = new List<(string Key, ImageFiles.Owner Owner)>(ChunkSize);
        await foreach (var file in store.ListAsync(ImageFiles.Root, cancellationToken))
        {
            if (file.LastModified < cutoff && ImageFiles.OwnerOf(file.Key) is { } owner)
            {
                old.Add((file.Key, owner));
            }

            if (old.Count == ChunkSize)
            {
                deleted += await DeleteUnownedAsync(db, old, cancellationToken);
                old.Clear();
            }
        }

        return deleted + await DeleteUnownedAsync(db, old, cancellationToken);
    }

    /// <summary>Deletes the files whose image prefix no row of their product holds.</summary>
    private async Task<int> DeleteUnownedAsync(EmporiumDbContext db, List<(string Key, ImageFiles.Owner Owner)> files, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            return 0;
        }

        var productIds = files.Select(f => f.Owner.ProductId).Distinct().ToList();
        var owned = (await db.Set<ProductImage>().AsNoTracking()
                .Where(i => productIds.Contains(i.ProductId))
                .Select(i => i.StoragePrefix)
                .ToListAsync(cancellationToken))
            .ToHashSet(StringComparer.Ordinal);
        var deleted = 0;
        foreach (var (key, _) in files.Where(f => !owned.Contains(f.Owner.Prefix)))
        {
            await store.DeleteAsync(key, cancellationToken);
            deleted++;
        }

        return deleted;
    }
}
