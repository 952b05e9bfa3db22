using System.Data.Common;
using Emporium.Features.Catalog.Caching;
using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>
/// The second pass's writing stage, in the import's own flow: takes the reading stage's segments in file order and does
/// everything with a side effect (errors.csv, the database, progress, checkpoints). Complete batches go to the
/// <see cref="IProductBulkUpsert"/> of a <see cref="WriterLane"/>. With one lane, a transaction takes batches until
/// Import:CommitInterval has passed and then commits with its checkpoint (or, on a dry run, rolls back). With several
/// (PostgreSQL), each batch is a transaction of its own and the lanes take them in turn, so the next batch is written while
/// the one before it is still being written; batches are still settled in file order (counted, their rejected rows
/// reported, then committed with their checkpoint), so every checkpoint covers exactly the batches before it.
/// </summary>
internal sealed class BatchWriter(
    IReadOnlyList<WriterLane> lanes,
    ImportSettings settings,
    TimeProvider clock,
    ImportHeader header,
    ImportOptions options,
    ImportReferences references,
    long totalRows,
    long totalBytes,
    Platform.Telemetry.EmporiumMetrics metrics,
    CancellationToken cancellationToken) : IAsyncDisposable
{
    // The batch the next segments add to. Unique by SKU key: only the last valid row of a SKU is ever added.
    private Pending _pending = new();
    // Batches handed to a lane and not settled yet, oldest first: at most one per lane.
    private readonly Queue<InFlight> _inFlight = [];
    // The lanes' writes stop with the import, or when a failure leaves them unsettled.
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private int _nextLane;
    private readonly List<RejectedRow> _rejections = [];
    private readonly List<ProductChange> _changes = [];

    /// <summary>
    /// A dry run's products created in transactions it rolled back, with their currencies (kept only when the file has
    /// variant rows: about 100 bytes a product).
    /// </summary>
    private readonly Dictionary<string, string> _rolledBack = new(StringComparer.Ordinal);
    private int _created;
    private int _updated;
    private int _unchanged;
    private int _rejected;
    private int _duplicates;
    // Batches committed (or, in a dry run, rolled back); the reading stage reads it.
    private long _batchesCommitted;
    private ImportCounts _countedInMetrics = new(0, 0, 0, 0, 0);

    public long BatchesCommitted => Interlocked.Read(ref _batchesCommitted);

    public ImportCounts Counts => new(_created, _updated, _unchanged, _rejected, _duplicates);

    public ImportResult Result() =>
        new(ImportOutcome.Completed, null, Counts, _rejections, header.Unknown, _changes, options.DryRun);

    /// <summary>Takes one segment's rejections, duplicates and rows, and hands over the batch it ends.</summary>
    public async Task ApplyAsync(Segment segment, CancellationToken cancellationToken)
    {
        _pending.Add(segment);
        if (segment.EndsBatch)
        {
            var batch = _pending;
            _pending = new Pending();
            await DispatchAsync(batch, cancellationToken);
        }
        else if (_inFlight.Count == 0 && lanes.All(lane => lane.Transaction is null) && options.OnProgress is { } onProgress)
        {
            // Between commits: no checkpoint, since the rows read since the last commit are not settled yet. Not while a
            // transaction is open: on SQLite a write on another connection would wait for it to commit, and it waits on this.
            await onProgress(Progress(segment.Processed, segment.BytesRead, checkpointLine: null), cancellationToken);
        }
    }

    /// <summary>
    /// Settles the batches still being written once the segments end. At the end of the file there are none; when reading
    /// fails, the batches already handed to a lane are whole, and they commit as they would have (with several lanes, each
    /// on its own), while a single lane's transaction still open for Import:CommitInterval rolls back when the writer is
    /// disposed. Either way the checkpoints say what committed.
    /// </summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        while (_inFlight.Count > 0)
        {
            await SettleOldestAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Rolls back the batches that a failure left unsettled, once their lanes have stopped writing. Their own failures
    /// are not the import's: the one that ended it goes on.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stop.CancelAsync();
            foreach (var batch in _inFlight)
            {
                // Observed here, so that a write that failed after the import did is not reported as unobserved.
                await batch.Write.ContinueWith(static write => _ = write.Exception, TaskScheduler.Default);
            }

            _inFlight.Clear();
            foreach (var lane in lanes)
            {
                if (lane.Transaction is { } transaction)
                {
                    lane.Transaction = null;
                    try
                    {
                        await transaction.DisposeAsync();
                    }
                    catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException)
                    {
                        // A broken connection cannot roll back, and the server ends its transaction when it goes.
                    }
                }
            }
        }
        finally
        {
            _stop.Dispose();
        }
    }

    /// <summary>
    /// Starts writing a complete batch on the next lane (opening a transaction there if needed), then settles the oldest
    /// batch if every lane has one (with one lane, this one), or every batch at the end of the file. So a lane's previous
    /// batch is always settled by the time it takes the next.
    /// </summary>
    private async Task DispatchAsync(Pending batch, CancellationToken cancellationToken)
    {
        var lane = lanes[_nextLane];
        _nextLane = (_nextLane + 1) % lanes.Count;
        var rows = batch.Rows.Where(row => row.Rejection is null).ToList();
        // A batch of rejected rows joins the open transaction too, so that with one lane a run of them commits once an
        // interval, not once a batch.
        if (batch.Rows.Count > 0 && lane.Transaction is null)
        {
            lane.Transaction = await lane.Db.Database.BeginTransactionAsync(cancellationToken);
            lane.TransactionStarted = clock.GetTimestamp();
            if (lanes.Count == 1 && header.Columns.ProductSku && header.Columns.Attributes.Count > 0)
            {
                // One lane's transaction spans batches: its attribute locks come first, before the rows of any batch, in
                // the order the API and the other lanes take them (locks, then rows).
                await lane.HoldAttributesAsync(header.Columns.Attributes, cancellationToken);
            }
            // An import reaches too many products to supersede one by one: the whole catalog's reads go when it commits.
            lane.Db.CatalogChanged();
        }

        var write = WriterLane.Written.Nothing;
        DryRunDiff? diff = null;
        if (rows.Count > 0)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            // Variant rows follow their batch's products, in the same transaction (decision 0016).
            var variants = rows.Where(row => row.IsVariantRow).ToList();
            rows.RemoveAll(row => row.IsVariantRow);
            if (lanes.Count > 1 && variants.Count > 0 && header.Columns.Attributes.Count > 0)
            {
                // Their attributes' locks come first, as in the API's variant writes, once every batch before them has
                // settled (so no other lane holds one). A single lane took them when its transaction began.
                while (_inFlight.Count > 0)
                {
                    await SettleOldestAsync(cancellationToken);
                }

                await lane.HoldAttributesAsync(header.Columns.Attributes, cancellationToken);
            }

            // Only a dry run shows before/after values. Both steps run here, in the import's flow, as they change what the
            // import knows (the brands it created).
            diff = options.DryRun ? await DryRunDiff.ReadAsync(lane.Db, rows, header.Columns, references, cancellationToken) : null;
            lane.CreatedBrands.UnionWith(await references.CreateMissingAsync(lane.Db, rows, now, cancellationToken));

            // What another connection's open transaction wrote is invisible here: a row may name a brand an unsettled batch
            // created, and a variant row may name a product one created. Such a batch waits for every batch before it to
            // commit.
            if (_inFlight.Count > 0 && (variants.Count > 0 || rows.Any(row => row.BrandId is { } brand
                && lanes.Any(other => other != lane && other.CreatedBrands.Contains(brand)))))
            {
                while (_inFlight.Count > 0)
                {
                    await SettleOldestAsync(cancellationToken);
                }
            }

            write = lane.WriteAsync(rows, variants, header.Columns, options.Scope, now, options.DryRun ? _rolledBack : null, _stop.Token);
        }

        lane.BatchesInTransaction++;

        _inFlight.Enqueue(new InFlight(batch, lane, write, diff));
        while (_inFlight.Count >= lanes.Count || (batch.EndsFile && _inFlight.Count > 0))
        {
            await SettleOldestAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits for the oldest batch's write and accounts for it: its rejected rows, its counts, and then, on one lane once
    /// Import:CommitInterval has passed (or at the end of the file), on several lanes always, the commit.
    /// </summary>
    private async Task SettleOldestAsync(CancellationToken cancellationToken)
    {
        var (batch, lane, write, diff) = _inFlight.Peek();
        var (written, variantOutcome) = await write;
        _inFlight.Dequeue();
        // Each stage finds its own rejections (reading, the look-ahead, variant rows, ownership): errors.csv lists them in
        // the file's order all the same, as ErrorReport promises, once the batch is accounted for.
        var rejections = new List<RejectedRow>(batch.Rejections);
        rejections.AddRange(batch.Rows.Where(row => row.Rejection is not null).Select(row => row.Rejection! with { Cells = row.Cells }));
        _duplicates += batch.Duplicates;
        rejections.AddRange(variantOutcome.Rejected.Select(rejected => rejected.Rejection with { Cells = rejected.Row.Cells }));

        if (options.DryRun && header.Columns.ProductSku)
        {
            // Rolled back at the end of its transaction, unlike the real run's: later batches' variant rows must know.
            foreach (var row in batch.Rows.Where(row => !row.IsVariantRow && written.GetValueOrDefault(row.SkuKey) == UpsertOutcome.Created))
            {
                _rolledBack[row.SkuKey] = row.Currency ?? Money.DefaultCurrency;
            }
        }

        foreach (var (key, outcome) in variantOutcome.Written)
        {
            // A product row whose stock alone changed is updated; a variant row is what its variant became.
            written.TryAdd(key, outcome);
        }

        var rejected = variantOutcome.Rejected.Select(rejection => rejection.Row.SkuKey).ToHashSet(StringComparer.Ordinal);
        foreach (var row in batch.Rows.Where(row => row.Rejection is null && !rejected.Contains(row.SkuKey)))
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
                    rejections.Add(ReadingStage.NotOwned(row) with { Cells = row.Cells });
                    break;
            }
        }

        foreach (var rejection in rejections.OrderBy(rejection => rejection.Line))
        {
            await RejectAsync(rejection);
        }

        lane.Db.ChangeTracker.Clear();
        if (lanes.Count == 1 && lane.Transaction is not null && !batch.EndsFile
            && clock.GetElapsedTime(lane.TransactionStarted) < settings.CommitInterval)
        {
            return;
        }

        // Everything up to this batch's end is settled now: the batches before it committed, and this one commits here.
        var settled = Progress(batch.Processed, batch.BytesRead, batch.CheckpointLine);
        await EndTransactionAsync(lane, settled, cancellationToken);
        if (options.OnProgress is { } onProgress)
        {
            await onProgress(settled, cancellationToken);
        }
    }

    /// <summary>
    /// Commits the lane's open transaction with its checkpoint, or rolls it back on a dry run. With no transaction open (the
    /// rows since the last commit were all rejected or superseded) the checkpoint is saved on its own.
    /// </summary>
    private async Task EndTransactionAsync(WriterLane lane, ImportProgress settled, CancellationToken cancellationToken)
    {
        if (options.DryRun)
        {
            if (lane.Transaction is not null)
            {
                await lane.Transaction.RollbackAsync(cancellationToken);
            }
        }
        else
        {
            if (options.OnCheckpoint is { } onCheckpoint)
            {
                await onCheckpoint(settled, lane.Db, cancellationToken);
            }

            if (lane.Transaction is not null)
            {
                await lane.Transaction.CommitAsync(cancellationToken);
            }

            var (counts, before) = (Counts, _countedInMetrics);
            metrics.ImportRows(counts.Created - before.Created, counts.Updated - before.Updated, counts.Unchanged - before.Unchanged, counts.Rejected - before.Rejected);
            _countedInMetrics = counts;
        }

        if (lane.Transaction is { } transaction)
        {
            lane.Transaction = null;
            await transaction.DisposeAsync();
        }

        references.TransactionEnded(committed: !options.DryRun);
        lane.CreatedBrands.Clear();
        // The reading stage's connection sees these batches now (or, after a rollback, knows they are gone).
        Interlocked.Add(ref _batchesCommitted, lane.BatchesInTransaction);
        lane.BatchesInTransaction = 0;
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

    private ImportProgress Progress(long processed, long bytesRead, long? checkpointLine) =>
        new(ImportPhase.Importing, processed, totalRows, bytesRead, totalBytes, checkpointLine, Counts);

    /// <summary>The segments of one batch, as they came: what it settles, and up to where.</summary>
    private sealed class Pending
    {
        public List<RejectedRow> Rejections { get; } = [];

        public List<ImportRow> Rows { get; } = [];

        public int Duplicates { get; private set; }

        public long Processed { get; private set; }

        public long BytesRead { get; private set; }

        public long CheckpointLine { get; private set; }

        public bool EndsFile { get; private set; }

        public void Add(Segment segment)
        {
            Rejections.AddRange(segment.Rejections);
            Rows.AddRange(segment.Rows);
            Duplicates += segment.Duplicates;
            (Processed, BytesRead, CheckpointLine, EndsFile) = (segment.Processed, segment.BytesRead, segment.CheckpointLine, segment.EndsFile);
        }
    }

    private sealed record InFlight(Pending Batch, WriterLane Lane, Task<WriterLane.Written> Write, DryRunDiff? Diff);
}
