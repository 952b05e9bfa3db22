using Emporium.Features.Jobs;
using Emporium.Platform.Storage;
using Emporium.Platform.Workers;

namespace Emporium.Features.Import;

/// <summary>
/// Deletes import files past Import:RetainFilesFor from the file store, every Import:SweepInterval, in worker processes: the
/// errors.csv parts of jobs that finished before the cut-off (or no longer exist), and uploads that no waiting, running or
/// recently finished import needs (those of DEAD or CANCELLED jobs, kept for a manual retry, and any left by a crash before
/// their job was written). Several workers sweeping at once is harmless.
/// </summary>
internal sealed class ImportFileSweep(
    IServiceScopeFactory scopes,
    IFileStore store,
    IOptions<ImportSettings> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<ImportFileSweep> logger) : PeriodicSweep(emporium, clock, logger, "import files past Import:RetainFilesFor")
{
    protected override TimeSpan Interval => settings.Value.SweepInterval;

    /// <summary>Deletes what is past retention; answers how many files went.</summary>
    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - settings.Value.RetainFilesFor;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        return await SweepErrorsAsync(db, cutoff, cancellationToken) + await SweepUploadsAsync(db, cutoff, cancellationToken);
    }

    private async Task<int> SweepErrorsAsync(EmporiumDbContext db, DateTime cutoff, CancellationToken cancellationToken)
    {
        // imports/errors/{job id}/{part}.csv
        var parts = new Dictionary<long, List<string>>();
        await foreach (var file in store.ListAsync(ImportFiles.ErrorsPrefix, cancellationToken))
        {
            var segment = file.Key[ImportFiles.ErrorsPrefix.Length..].Split('/')[0];
            if (long.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                (parts.TryGetValue(id, out var list) ? list : parts[id] = []).Add(file.Key);
            }
        }

        var deleted = 0;
        foreach (var chunk in parts.Keys.Chunk(1_000))
        {
            var kept = (await db.Set<Job>().AsNoTracking()
                    .Where(j => chunk.Contains(j.Id) && (j.FinishedAt == null || j.FinishedAt >= cutoff))
                    .Select(j => j.Id)
                    .ToListAsync(cancellationToken))
                .ToHashSet();
            foreach (var key in chunk.Where(id => !kept.Contains(id)).SelectMany(id => parts[id]))
            {
                await store.DeleteAsync(key, cancellationToken);
                deleted++;
            }
        }

        return deleted;
    }

    private async Task<int> SweepUploadsAsync(EmporiumDbContext db, DateTime cutoff, CancellationToken cancellationToken)
    {
        var old = new List<string>();
        await foreach (var file in store.ListAsync(ImportFiles.UploadsPrefix, cancellationToken))
        {
            if (file.LastModified.UtcDateTime < cutoff)
            {
                old.Add(file.Key);
            }
        }

        if (old.Count == 0)
        {
            return 0;
        }

        // Few imports wait, run or finished within the retention window; their uploads stay whatever their age.
        var payloads = await db.Set<Job>().AsNoTracking()
            .Where(j => j.Kind == CatalogImportJobHandler.KindName && (j.FinishedAt == null || j.FinishedAt >= cutoff))
            .Select(j => j.Payload)
            .ToListAsync(cancellationToken);
        var needed = payloads
            .Select(payload => JsonSerializer.Deserialize<CatalogImportJobHandler.Payload>(payload, JobJson.Options)?.Key)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        var deleted = 0;
        foreach (var key in old.Where(key => !needed.Contains(key)))
        {
            await store.DeleteAsync(key, cancellationToken);
            deleted++;
        }

        return deleted;
    }
}
