using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Features.Import;

/// <summary>
/// The second pass's writing stage, in the import's own flow: takes the reading stage's segments in file order and does
/// everything with a side effect (errors.csv, the database, progress, checkpoints). Complete batches go to the
/// <see cref="IProductBulkUpsert"/> inside one transaction, which takes batches until Import:CommitInterval has passed and
/// then commits with its checkpoint (or, on a dry run, rolls back).
/// </summary>
internal sealed class BatchWriter(
    EmporiumDbContext db,
    IProductBulkUpsert bulkUpsert,
    VariantRows variantRows,
    ImportSettings settings,
    TimeProvider clock,
    ImportHeader header,
    ImportOptions options,
    ImportReferences references,
    long totalRows,
    long totalBytes,
    Platform.Telemetry.EmporiumMetrics metrics) : IAsyncDisposable
{
    // Unique by SKU key: only the last valid row of a SKU is ever added.
    private readonly List<ImportRow> _batch = [];
    private readonly List<RejectedRow> _rejections = [];
    private readonly List<ProductChange> _changes = [];
    private int _created;
    private int _updated;
    private int _unchanged;
    private int _rejected;
    private int _duplicates;
    private long _processed;
    private long _checkpointLine;
    private long _bytesRead;
    // Batches committed (or, in a dry run, rolled back); the reading stage reads it.
    private long _batchesCommitted;
    private IDbContextTransaction? _transaction;
    private long _transactionStarted;
    private int _batchesInTransaction;
    private ImportCounts _countedInMetrics = new(0, 0, 0, 0, 0);

    public long BatchesCommitted => Interlocked.Read(ref _batchesCommitted);

    public ImportCounts Counts => new(_created, _updated, _unchanged, _rejected, _duplicates);

    public ImportResult Result() =>
        new(ImportOutcome.Completed, null, Counts, _rejections, header.Unknown, _changes, options.DryRun);

    /// <summary>Takes one segment's rejections, duplicates and rows, and writes the batch it ends.</summary>
    public async Task ApplyAsync(Segment segment, CancellationToken cancellationToken)
    {
        foreach (var rejection in segment.Rejections)
        {
            await RejectAsync(rejection);
        }

        _duplicates += segment.Duplicates;
        _batch.AddRange(segment.Rows);
        _processed = segment.Processed;
        _bytesRead = segment.BytesRead;
        _checkpointLine = segment.CheckpointLine;
        if (segment.EndsBatch)
        {
            await FlushAsync(segment.EndsFile, cancellationToken);
        }
        else if (_transaction is null && options.OnProgress is { } onProgress)
        {
            // Between commits: no checkpoint, since the rows read since the last commit are not settled yet. Not while a
            // transaction is open: on SQLite a write on another connection would wait for it to commit, and it waits on this.
            await onProgress(Progress(checkpoint: false), cancellationToken);
        }
    }

    /// <summary>Rolls back the batches of a transaction that a failure left open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync();
            _transaction = null;
        }
    }

    /// <summary>
    /// Writes a complete batch into the open transaction (opening one if needed), and ends the transaction once
    /// Import:CommitInterval has passed since it began, or at the end of the file.
    /// </summary>
    private async Task FlushAsync(bool endOfFile, CancellationToken cancellationToken)
    {
        if (_batch.Count > 0)
        {
            if (_transaction is null)
            {
                _transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                _transactionStarted = clock.GetTimestamp();
                // An import reaches too many products to supersede one by one: the whole catalog's reads go when it commits.
                db.CatalogChanged();
            }

            await WriteBatchAsync(cancellationToken);
            _batch.Clear();
        }

        if (_transaction is not null && !endOfFile && clock.GetElapsedTime(_transactionStarted) < settings.CommitInterval)
        {
            return;
        }

        await EndTransactionAsync(cancellationToken);
        if (options.OnProgress is { } onProgress)
        {
            await onProgress(Progress(checkpoint: true), cancellationToken);
        }
    }

    /// <summary>
    /// Commits the open transaction with its checkpoint, or rolls it back on a dry run. With no transaction open (the rows
    /// since the last commit were all rejected or superseded) the checkpoint is saved on its own.
    /// </summary>
    private async Task EndTransactionAsync(CancellationToken cancellationToken)
    {
        if (options.DryRun)
        {
            if (_transaction is not null)
            {
                await _transaction.RollbackAsync(cancellationToken);
            }
        }
        else
        {
            if (options.OnCheckpoint is { } onCheckpoint)
            {
                await onCheckpoint(Progress(checkpoint: true), cancellationToken);
            }

            if (_transaction is not null)
            {
                await _transaction.CommitAsync(cancellationToken);
            }

            var (counts, before) = (Counts, _countedInMetrics);
            metrics.ImportRows(counts.Created - before.Created, counts.Updated - before.Updated, counts.Unchanged - before.Unchanged, counts.Rejected - before.Rejected);
            _countedInMetrics = counts;
        }

        await DisposeAsync();
        references.TransactionEnded(committed: !options.DryRun);
        // The reading stage's connection sees these batches now (or, after a rollback, knows they are gone).
        Interlocked.Add(ref _batchesCommitted, _batchesInTransaction);
        _batchesInTransaction = 0;
    }

    private async Task WriteBatchAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var rows = new List<ImportRow>(_batch.Count);
        foreach (var row in _batch)
        {
            if (row.Rejection is { } rejection)
            {
                await RejectAsync(rejection with { Cells = row.Cells });
            }
            else
            {
                rows.Add(row);
            }
        }

        // Variant rows follow their batch's products, in the same transaction (decision 0016).
        var variants = rows.Where(row => row.IsVariantRow).ToList();
        rows.RemoveAll(row => row.IsVariantRow);

        // Only a dry run shows before/after values.
        var diff = options.DryRun ? await DryRunDiff.ReadAsync(db, rows, header.Columns, references, cancellationToken) : null;
        await references.CreateMissingAsync(db, rows, now, cancellationToken);
        var written = (await bulkUpsert.UpsertAsync(rows, header.Columns, options.Scope, now, cancellationToken))
            .ToDictionary(w => w.SkuKey, w => w.Outcome, StringComparer.Ordinal);
        var variantOutcome = await variantRows.WriteAsync(rows, variants, now, cancellationToken);
        foreach (var (row, rejection) in variantOutcome.Rejected)
        {
            await RejectAsync(rejection with { Cells = row.Cells });
        }

        foreach (var (key, outcome) in variantOutcome.Written)
        {
            // A product row whose stock alone changed is updated; a variant row is what its variant became.
            written.TryAdd(key, outcome);
        }

        var rejected = variantOutcome.Rejected.Select(rejection => rejection.Row.SkuKey).ToHashSet(StringComparer.Ordinal);
        foreach (var row in rows.Concat(variants).Where(row => !rejected.Contains(row.SkuKey)))
        {
            switch (written.TryGetValue(row.SkuKey, out var outcome) ? outcome : (UpsertOutcome?)null)
            {
                case null:
                    _unchanged++;
                    break;
                case UpsertOutcome.Created:
                    _created++;
                    break;
                case UpsertOutcome.Updated:
                    _updated++;
                    if (_changes.Count < settings.DryRunChangeSample && diff?.Of(row) is { } change)
                    {
                        _changes.Add(change);
                    }

                    break;
                case UpsertOutcome.OutOfReach:
                    await RejectAsync(ReadingStage.NotOwned(row) with { Cells = row.Cells });
                    break;
            }
        }

        _batchesInTransaction++;
        db.ChangeTracker.Clear();
    }

    private async Task RejectAsync(RejectedRow rejection)
    {
        _rejected++;
        if (_rejections.Count < settings.MaxRejectionsKept)
        {
            _rejections.Add(rejection with { Cells = null });
        }

        if (options.OnRejected is { } onRejected)
        {
            await onRejected(rejection);
        }
    }

    private ImportProgress Progress(bool checkpoint) =>
        new(ImportPhase.Importing, _processed, totalRows, _bytesRead, totalBytes, checkpoint ? _checkpointLine : null, Counts);
}
