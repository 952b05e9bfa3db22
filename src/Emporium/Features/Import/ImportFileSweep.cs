using System.Globalization;
using System.Text.Json;
using Emporium.Features.Jobs;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Emporium.Features.Import;

/// <summary>
/// Deletes import files past Import:RetainFilesFor, every Import:SweepInterval, in worker processes: the errors.csv of
/// jobs that finished before the cut-off (or no longer exist), and uploads that no waiting, running or recently finished
/// import needs (those of DEAD or CANCELLED jobs, kept for a manual retry, and any left by a crash before their job was
/// written). Several workers sweeping at once is harmless.
/// </summary>
internal sealed partial class ImportFileSweep(
    IServiceScopeFactory scopes,
    IOptions<ImportSettings> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<ImportFileSweep> logger) : PeriodicSweep(emporium, clock)
{
    private const string ErrorsSuffix = "-errors.csv";

    protected override TimeSpan Interval => settings.Value.SweepInterval;

    protected override void OnSwept(int count) => LogSwept(count, settings.Value.RetainFilesFor);

    protected override void OnFailed(Exception exception) => LogSweepFailed(exception);

    /// <summary>Deletes what is past retention; answers how many files went.</summary>
    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var directory = ImportFiles.Directory(HostSettings);
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var cutoff = Clock.GetUtcNow().UtcDateTime - settings.Value.RetainFilesFor;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        return await SweepErrorsAsync(db, directory, cutoff, cancellationToken) + await SweepUploadsAsync(db, directory, cutoff, cancellationToken);
    }

    private static async Task<int> SweepErrorsAsync(EmporiumDbContext db, string directory, DateTime cutoff, CancellationToken cancellationToken)
    {
        var files = new Dictionary<long, string>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + ErrorsSuffix))
        {
            var name = Path.GetFileName(path);
            if (long.TryParse(name.AsSpan(0, name.Length - ErrorsSuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                files[id] = path;
            }
        }

        var deleted = 0;
        foreach (var chunk in files.Keys.Chunk(1_000))
        {
            var kept = (await db.Set<Job>().AsNoTracking()
                    .Where(j => chunk.Contains(j.Id) && (j.FinishedAt == null || j.FinishedAt >= cutoff))
                    .Select(j => j.Id)
                    .ToListAsync(cancellationToken))
                .ToHashSet();
            foreach (var id in chunk.Where(id => !kept.Contains(id)))
            {
                deleted += Delete(files[id]);
            }
        }

        return deleted;
    }

    private static async Task<int> SweepUploadsAsync(EmporiumDbContext db, string directory, DateTime cutoff, CancellationToken cancellationToken)
    {
        var old = Directory.EnumerateFiles(directory, "*.csv")
            .Where(path => !path.EndsWith(ErrorsSuffix, StringComparison.Ordinal) && File.GetLastWriteTimeUtc(path) < cutoff)
            .ToList();
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
            .Select(payload => JsonSerializer.Deserialize<CatalogImportJobHandler.Payload>(payload, JobJson.Options)?.Path)
            .OfType<string>()
            .Select(Path.GetFileName)
            .ToHashSet(StringComparer.Ordinal);
        return old.Where(path => !needed.Contains(Path.GetFileName(path))).Sum(Delete);
    }

    private static int Delete(string path)
    {
        try
        {
            File.Delete(path);
            return 1;
        }
        catch (IOException)
        {
            // Open elsewhere (a download in progress on Windows); the next sweep takes it.
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} import files older than {Retention} after their job")]
    private partial void LogSwept(int count, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping import files failed; the next run tries again")]
    private partial void LogSweepFailed(Exception exception);
}
