using Emporium.Features.Catalog.Caching;
using System.ComponentModel.DataAnnotations;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Events;
using Emporium.Features.Jobs;

namespace Emporium.Features.Import;

/// <summary>
/// catalog.bulk_delete (decision 0007): soft-deletes, one transaction per batch, the products that existed when the request
/// was accepted (id at most <see cref="Payload.MaxId"/>, the highest id committed then: <see cref="ICommittedProductIds"/>), that the
/// requester may change and that still match when the job reaches them. After each batch it saves a checkpoint (the last id,
/// or how many SKUs are settled, with the counts so far), so an attempt taken after a crash goes on from there; every
/// UPDATE also requires deleted_at IS NULL, so nothing is ever deleted twice.
/// </summary>
internal sealed partial class BulkDeleteJobHandler(
    EmporiumDbContext db,
    IProductSearch search,
    TimeProvider clock,
    IOptions<BulkDeleteSettings> settings,
    ILogger<BulkDeleteJobHandler> logger) : IJobHandler, IJobOutcomeEvents
{
    public const string KindName = "catalog.bulk_delete";

    /// <summary>SKUs not found that the result lists; the count stays exact beyond it.</summary>
    public const int NotFoundSampleSize = 100;

    /// <param name="RequestedBy">The caller's user id; with <paramref name="OwnProductsOnly"/> it decides which products may be deleted.</param>
    /// <param name="OwnProductsOnly">A seller's request: only its own products (decision 0013). Absent in jobs queued before it
    /// existed, which then reach the whole catalog, as staff do now.</param>
    /// <param name="Skus">Trimmed, one per SKU key, in the order sent.</param>
    public sealed record Payload(
        long RequestedBy,
        bool OwnProductsOnly,
        DateTime RequestedAt,
        long MaxId,
        bool All,
        IReadOnlyList<string>? Skus,
        BulkDeleteFilter? Filter);

    /// <param name="Position">The last id handled (all, filter) or the number of SKUs settled (skus).</param>
    /// <param name="Examined">Products (or SKUs) looked at so far: the progress.</param>
    public sealed record Checkpoint(
        long Position,
        long Total,
        long Examined,
        long Deleted,
        long AlreadyDeleted,
        long NotFound,
        IReadOnlyList<string> NotFoundSample);

    public sealed record Result(
        string Selector,
        long Deleted,
        long AlreadyDeleted,
        long NotFound,
        IReadOnlyList<string> NotFoundSample,
        DateTime RequestedAt);


    public string CompletedEventType => EventTypes.BulkDeleteCompleted;

    public string? FailedEventType => null;

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var payload = context.ReadPayload<Payload>();
        var user = Requester(payload);
        var resume = context.Checkpoint is { } json ? JsonSerializer.Deserialize<Checkpoint>(json, JobJson.Options) : null;

        // Existed when the request was accepted, and the requester may change it (the single DELETE's ownership rule).
        var existing = db.Set<Product>().AsNoTracking().ChangeableBy(user)
            .Where(p => p.Id <= payload.MaxId);

        Checkpoint done;
        string selector;
        if (payload.Skus is { } skus)
        {
            selector = "skus";
            done = await DeleteSkusAsync(context, existing, skus, resume, cancellationToken);
        }
        else
        {
            selector = payload.Filter is null ? "all" : "filter";
            var matching = payload.Filter is { } filter ? await MatchingAsync(filter, user, cancellationToken) : db.Set<Product>();
            var candidates = matching.ChangeableBy(user)
                .Where(p => p.DeletedAt == null && p.Id <= payload.MaxId);
            done = payload.Filter is null
                ? await DeleteAllAsync(context, candidates, payload.MaxId, resume, cancellationToken)
                : await DeleteMatchingAsync(context, candidates, resume, cancellationToken);
        }

        // A filter's total was counted before the first batch; products changed since then make the two differ slightly.
        var total = Math.Max(done.Total, done.Examined);
        await context.ReportProgressAsync(total, total, Message(done), cancellationToken);

        context.SetResult(new Result(selector, done.Deleted, done.AlreadyDeleted, done.NotFound, done.NotFoundSample, payload.RequestedAt));
        LogDone(logger, context.Id, selector, done.Deleted, done.AlreadyDeleted, done.NotFound);
    }

    /// <summary>The filter resolved again at run time; a brand or category deleted since the request fails the job.</summary>
    private async Task<IQueryable<Product>> MatchingAsync(BulkDeleteFilter filter, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var (resolved, denied) = await ProductEndpoints.ProductFilter.ResolveAsync(filter.ToQuery(), null, user, db, errors, cancellationToken);
        if (denied is not null || !errors.IsEmpty)
        {
            var reasons = string.Join(" ", errors.ToDictionary().SelectMany(pair => pair.Value));
            throw new PermanentJobFailure($"The filter no longer applies: {reasons}".TrimEnd());
        }

        if (string.IsNullOrWhiteSpace(filter.Search))
        {
            return resolved!.Apply(db.Set<Product>());
        }

        // Only punctuation: nothing can match, as in the list.
        return SearchTerms.Parse(filter.Search).Count == 0
            ? db.Set<Product>().Where(p => false)
            : resolved!.Apply(search.Matching(filter.Search, few: false));
    }

    /// <summary>Filters: id keyset batches over the candidates (which may include a search the UPDATE cannot express).</summary>
    private async Task<Checkpoint> DeleteMatchingAsync(
        JobContext context, IQueryable<Product> candidates, Checkpoint? resume, CancellationToken cancellationToken)
    {
        var batchSize = settings.Value.BatchSize;
        var state = resume ?? new Checkpoint(0, await candidates.LongCountAsync(cancellationToken), 0, 0, 0, 0, []);
        await context.ReportProgressAsync(state.Examined, state.Total, Message(state), cancellationToken);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var last = state.Position;
            List<long> ids;
            int deleted;
            await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
            {
                ids = await candidates.Where(p => p.Id > last).OrderBy(p => p.Id).Select(p => p.Id).Take(batchSize).ToListAsync(cancellationToken);
                if (ids.Count == 0)
                {
                    break;
                }

                deleted = await SoftDeleteAsync(ids, cancellationToken);
                state = state with
                {
                    Position = ids[^1],
                    Examined = state.Examined + ids.Count,
                    Deleted = state.Deleted + deleted,
                    // Matched when the batch was read, deleted by someone else before its UPDATE.
                    AlreadyDeleted = state.AlreadyDeleted + (ids.Count - deleted),
                };
                await SaveAsync(context, state, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }

        return state;
    }

    /// <summary>
    /// {"all": true}: the candidates are plain column conditions, so each batch is one UPDATE over the next id range of
    /// BatchSize ids, with no read of the ids first (half the statements of <see cref="DeleteMatchingAsync"/>). Ranges
    /// where few products qualify cost an index range scan each.
    /// </summary>
    private async Task<Checkpoint> DeleteAllAsync(
        JobContext context, IQueryable<Product> candidates, long maxId, Checkpoint? resume, CancellationToken cancellationToken)
    {
        var batchSize = settings.Value.BatchSize;
        var state = resume ?? new Checkpoint(0, await candidates.LongCountAsync(cancellationToken), 0, 0, 0, 0, []);
        await context.ReportProgressAsync(state.Examined, state.Total, Message(state), cancellationToken);
        while (state.Position < maxId)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (after, upTo) = (state.Position, Math.Min(maxId, state.Position + batchSize));
            var now = clock.GetUtcNow().UtcDateTime;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.CatalogChanged();
            var deleted = await candidates
                .Where(p => p.Id > after && p.Id <= upTo)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(p => p.DeletedAt, now)
                    .SetProperty(p => p.UpdatedAt, now)
                    .SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            state = state with { Position = upTo, Examined = state.Examined + deleted, Deleted = state.Deleted + deleted };
            await SaveAsync(context, state, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return state;
    }

    /// <summary>{"skus": [...]}: chunks of the list in the order sent.</summary>
    private async Task<Checkpoint> DeleteSkusAsync(
        JobContext context, IQueryable<Product> existing, IReadOnlyList<string> skus, Checkpoint? resume, CancellationToken cancellationToken)
    {
        var batchSize = settings.Value.BatchSize;
        var state = resume ?? new Checkpoint(0, skus.Count, 0, 0, 0, 0, []);
        await context.ReportProgressAsync(state.Examined, state.Total, Message(state), cancellationToken);
        while (state.Position < skus.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = skus.Skip((int)state.Position).Take(batchSize).ToList();
            var keys = chunk.ConvertAll(Product.KeyOf);
            int deleted;
            List<(long Id, string Key, bool Deleted)> found;
            await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
            {
                // EF.Parameter: one array parameter rather than one per key.
                found = (await existing.Where(p => EF.Parameter(keys).Contains(p.SkuKey))
                        .Select(p => new { p.Id, p.SkuKey, p.DeletedAt })
                        .ToListAsync(cancellationToken))
                    .ConvertAll(p => (p.Id, p.SkuKey, p.DeletedAt != null));
                var live = found.Where(p => !p.Deleted).Select(p => p.Id).ToList();
                deleted = live.Count == 0 ? 0 : await SoftDeleteAsync(live, cancellationToken);
                var foundKeys = found.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
                var missing = chunk.Where(sku => !foundKeys.Contains(Product.KeyOf(sku))).ToList();
                state = state with
                {
                    Position = state.Position + chunk.Count,
                    Examined = state.Examined + chunk.Count,
                    Deleted = state.Deleted + deleted,
                    AlreadyDeleted = state.AlreadyDeleted + (found.Count - deleted),
                    NotFound = state.NotFound + missing.Count,
                    NotFoundSample = [.. state.NotFoundSample, .. missing.Take(NotFoundSampleSize - state.NotFoundSample.Count)],
                };
                await SaveAsync(context, state, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }

        return state;
    }

    /// <summary>
    /// One set-based UPDATE; deleted_at IS NULL keeps a re-run (or a concurrent delete) from deleting twice. The id range
    /// lets the database walk the primary key once rather than probe it for every id.
    /// </summary>
    private Task<int> SoftDeleteAsync(List<long> ids, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var (first, last) = (ids.Min(), ids.Max());
        db.ProductsChanged(ids);
        return db.Set<Product>()
            .Where(p => p.Id >= first && p.Id <= last && EF.Parameter(ids).Contains(p.Id) && p.DeletedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(p => p.DeletedAt, now)
                .SetProperty(p => p.UpdatedAt, now)
                .SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
    }

    /// <summary>
    /// Checkpoint and progress in the batch's own transaction, just before it commits (lease-guarded: a worker that lost
    /// the job cannot commit), so after a crash the next attempt neither redoes nor miscounts a batch.
    /// </summary>
    private Task SaveAsync(JobContext context, Checkpoint state, CancellationToken cancellationToken) =>
        context.SaveCheckpointAsync(state.Examined, state.Total, Message(state), JsonSerializer.Serialize(state, JobJson.Options), db, cancellationToken);

    private static string Message(Checkpoint state) => $"{state.Deleted:N0} deleted, {state.Examined:N0} of {state.Total:N0} examined";

    /// <summary>The requester as the filter and ownership code expect a caller: their id, and staff or seller.</summary>
    private static ClaimsPrincipal Requester(Payload payload) =>
        new(new ClaimsIdentity(
            [
                new Claim("sub", payload.RequestedBy.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Role, payload.OwnProductsOnly ? Roles.Seller : Roles.Staff),
            ],
            authenticationType: "job"));

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Bulk delete {JobId} ({Selector}) finished: {Deleted} deleted, {AlreadyDeleted} already deleted, {NotFound} SKUs not found")]
    private static partial void LogDone(ILogger logger, long jobId, string selector, long deleted, long alreadyDeleted, long notFound);
}

/// <summary>Bulk delete settings (section BulkDelete).</summary>
public sealed class BulkDeleteSettings
{
    public const string Section = "BulkDelete";

    /// <summary>Products soft-deleted per transaction; each committed batch is a checkpoint.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5_000;

    /// <summary>Most SKUs one request may list (400 beyond it): the list travels in the job's payload.</summary>
    [Range(1, 1_000_000)]
    public int MaxSkus { get; set; } = 10_000;
}
