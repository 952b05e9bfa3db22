using Emporium.Features.Catalog.Caching;
using System.Linq.Expressions;
using Emporium.Platform.Persistence;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Features.Catalog;

/// <summary>The sort orders brand and category lists offer.</summary>
internal enum TaxonomySort
{
    Name,
    NameDescending,
    CreatedAt,
    CreatedAtDescending,
}

/// <summary>How a write changes a slug: take the one the client chose, keep the current one, or derive a fresh one from the name.</summary>
internal readonly record struct SlugEdit(string? Given, bool Regenerate);

/// <summary>The filters brand and category lists share (paging travels in <see cref="PageRequest"/>).</summary>
public sealed record TaxonomyListQuery(
    [property: Description("Only those whose name contains this text (case-insensitive).")]
    [FromQuery(Name = "name")] string? Name,
    [property: Description("Also list soft-deleted ones (staff and admins only).")]
    [FromQuery(Name = "include_deleted")] bool? IncludeDeleted,
    [property: Description("Sort order: " + Taxonomy.SortDescription)]
    [FromQuery(Name = "sort")] string? Sort);

/// <summary>An operation's OpenAPI summary and description.</summary>
internal readonly record struct OperationText(string Summary, string Description);

/// <summary>The OpenAPI text of each operation <see cref="TaxonomyKind{T, TRequest, TResponse}.MapOperations"/> maps.</summary>
internal sealed record TaxonomyTexts(
    OperationText List, OperationText Get, OperationText Create, OperationText Replace, OperationText Patch, OperationText Delete, OperationText Restore);

/// <summary>What a brand or category body has in common: a name and an optional slug.</summary>
public interface ITaxonomyRequest
{
    string? Name { get; }

    string? Slug { get; }
}

/// <summary>Rules brands and categories share: field checks and sorting.</summary>
internal static class Taxonomy
{
    public const string SortDescription = "name, -name, created_at or -created_at (default name).";

    /// <summary>The trimmed name, or null after recording why it is unacceptable.</summary>
    public static string? Name(string? name, ValidationErrors errors)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add("name", "name is required.");
            return null;
        }

        errors.When(trimmed.Length > CatalogLimits.NameLength, "name", $"name must be at most {CatalogLimits.NameLength} characters.");
        return trimmed;
    }

    public static void Description(string? description, ValidationErrors errors) =>
        errors.When(
            description?.Length > CatalogLimits.DescriptionLength,
            "description",
            $"description must be at most {CatalogLimits.DescriptionLength} characters.");

    public static TaxonomySort Sort(string? sort, ValidationErrors errors)
    {
        switch (sort)
        {
            case null or "" or "name":
                return TaxonomySort.Name;
            case "-name":
                return TaxonomySort.NameDescending;
            case "created_at":
                return TaxonomySort.CreatedAt;
            case "-created_at":
                return TaxonomySort.CreatedAtDescending;
            default:
                errors.Add("sort", $"sort must be one of {SortDescription}");
                return TaxonomySort.Name;
        }
    }
}

/// <summary>
/// The HTTP plumbing one kind of taxonomy row (brands, categories) needs, written once: the list skeleton, GET with its
/// ETag and 304, create with a generated slug that survives a race, PUT and merge-patch PATCH through the same path,
/// soft delete and restore, all guarded by If-Match and the row's version. What differs by kind comes in as arguments.
/// </summary>
/// <param name="What">The kind in messages ("brand").</param>
/// <param name="Path">The collection's URL ("/api/brands").</param>
/// <param name="blank">A new row created at the given time, before its fields are applied.</param>
/// <param name="current">The row as a PUT body: what a merge patch is applied to.</param>
/// <param name="applyMore">
/// Checks and applies the kind's own fields (name and slug are checked here): field mistakes go to the errors; the
/// answer is a problem that refuses the write (a category moved under itself), or null.
/// </param>
/// <param name="ReservedSlug">A slug no row may take because a route shadows it (categories: "tree").</param>
/// <param name="including">Adds what every read of a row loads with it (an attribute's values), or null.</param>
/// <param name="inUse">
/// For kinds a live row may not be deleted while something uses it (an attribute its variants): rows in use, and the 409
/// that names the use, or null. Checked again in the delete's own statement.
/// </param>
/// <param name="writeLock">
/// For kinds whose writes check other rows first (a category's parent and children; an attribute's values against the
/// variants that use them): the <see cref="IWriteLocks"/> lock each write holds from before its checks to its commit, and
/// the key of a row (every category takes one key: a move and a move can make a cycle anywhere in the tree).
/// </param>
internal sealed class TaxonomyKind<T, TRequest, TResponse>(
    string What,
    string Path,
    Func<T, TResponse> respond,
    Func<DateTime, T> blank,
    Func<T, TRequest> current,
    Func<EmporiumDbContext, T, TRequest, ValidationErrors, CancellationToken, Task<IResult?>>? applyMore = null,
    string? ReservedSlug = null,
    Func<IQueryable<T>, IQueryable<T>>? including = null,
    Func<EmporiumDbContext, (Expression<Func<T, bool>> Used, Func<T, Task<ProblemHttpResult?>> Refuse)>? inUse = null,
    (string Name, Func<T, long> KeyOf)? writeLock = null)
    where T : class, ITaxonomyRow
    where TRequest : class, ITaxonomyRequest
{
    private readonly string _title = char.ToUpperInvariant(What[0]) + What[1..];

    /// <summary>
    /// Maps the operations a kind without rules of its own offers (brands, attributes) on <paramref name="collection"/>:
    /// list and get for everyone; create, PUT, merge-patch PATCH, soft delete and restore for staff. Operation ids read
    /// as hand-written handlers' would (ListBrands, GetBrand, CreateBrand, ...); <paramref name="texts"/> gives each its
    /// summary and description. Categories add their own rules and map their handlers themselves.
    /// </summary>
    /// <param name="create">The kind's POST handler: it names the concrete body type, which ASP.NET Core's route handler
    /// analyzer cannot follow through this class's type parameter (it crashes).</param>
    /// <param name="replace">The kind's PUT handler, for the same reason.</param>
    public void MapOperations(RouteGroupBuilder collection, string singular, string plural, TaxonomyTexts texts, Delegate create, Delegate replace)
    {
        collection.MapGet("", ListHandler)
            .WithName($"List{plural}").Documented(texts.List.Summary, texts.List.Description, 403);
        collection.MapGet("/{ref}", GetHandler)
            .WithName($"Get{singular}").Produces(StatusCodes.Status304NotModified).Documented(texts.Get.Summary, texts.Get.Description, 404);

        var writes = collection.MapGroup("").RequireAuthorization(Policies.Staff);
        writes.MapPost("", create)
            .WithName($"Create{singular}").ProducesETag().Documented(texts.Create.Summary, texts.Create.Description, 409);
        writes.MapPut("/{ref}", replace)
            .WithName($"Replace{singular}").Documented(texts.Replace.Summary, texts.Replace.Description, 404, 409, 412);
        writes.MapPatch("/{ref}", PatchHandler)
            .WithName($"Patch{singular}").AcceptsMergePatch<TRequest>().Documented(texts.Patch.Summary, texts.Patch.Description, 404, 409, 412);
        writes.MapDelete("/{ref}", DeleteHandler)
            .WithName($"Delete{singular}").Documented(texts.Delete.Summary, texts.Delete.Description, inUse is null ? [404, 412] : [404, 409, 412]);
        writes.MapPost("/{ref}/restore", RestoreHandler)
            .WithName($"Restore{singular}").Documented(texts.Restore.Summary, texts.Restore.Description, 404, 412);
    }

    /// <summary>The query parameters every list of the kind binds (<see cref="TaxonomyListQuery"/> and <see cref="PageRequest"/>).</summary>
    private static readonly string[] ListParameters = ["name", "include_deleted", "sort", "page", "page_size"];

    private Task<Results<Ok<Paged<TResponse>>, ValidationProblem, ProblemHttpResult>> ListHandler(
        [AsParameters] TaxonomyListQuery query, [AsParameters] PageRequest paging, ListPager pager, CatalogCache cache, [AsParameters] RequestScope scope) =>
        ListAsync(scope, query, paging, pager, cache);

    private Task<Results<Ok<TResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetHandler(
        [FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        GetAsync(scope, reference);

    private Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> PatchHandler(
        [FromRoute(Name = "ref")] string reference, JsonElement patch, [AsParameters] RequestScope scope) =>
        PatchAsync(scope, reference, patch);

    private Task<Results<NoContent, ProblemHttpResult>> DeleteHandler([FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        inUse?.Invoke(scope.Db) is var (used, refuse)
            ? DeleteAsync(scope, reference, Expression.Lambda<Func<T, bool>>(Expression.Not(used.Body), used.Parameters), refuse)
            : DeleteAsync(scope, reference);

    private Task<Results<Ok<TResponse>, ProblemHttpResult>> RestoreHandler([FromRoute(Name = "ref")] string reference, [AsParameters] RequestScope scope) =>
        RestoreAsync(scope, reference);

    public void CheckSlug(string? slug, ValidationErrors errors)
    {
        if (slug is not null && Slugs.Problem(slug) is { } problem)
        {
            errors.Add("slug", problem);
        }

        errors.When(slug is not null && slug == ReservedSlug, "slug",
            $"slug '{ReservedSlug}' is reserved (it would clash with {Path}/{ReservedSlug}).");
    }

    /// <summary>
    /// Paged, filtered by name, sorted by name (case-insensitively on both databases) or creation. Deleted rows only for
    /// staff who ask; <paramref name="narrow"/> may filter further by what else the kind offers (a category's parent).
    /// </summary>
    public async Task<Results<Ok<Paged<TResponse>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        RequestScope scope,
        TaxonomyListQuery query,
        PageRequest paging,
        ListPager pager,
        CatalogCache cache,
        Func<IQueryable<T>, Task<(IQueryable<T>? Rows, ValidationProblem? Invalid)>>? narrow = null,
        string? narrowParameter = null)
    {
        var (db, _, http, cancellationToken) = scope;
        var all = Rows(db);
        var errors = new ValidationErrors();
        var page = pager.Resolve(paging, errors);
        var sort = Taxonomy.Sort(query.Sort, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var includeDeleted = query.IncludeDeleted == true;
        if (includeDeleted && !http.User.IsStaffOrAdmin())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.",
                detail: "include_deleted=true is reserved for staff and admins.");
        }

        var visible = includeDeleted ? all.AsNoTracking() : all.AsNoTracking().Where(r => r.DeletedAt == null);
        var rows = visible;
        if (narrow is not null)
        {
            var (narrowed, invalid) = await narrow(visible);
            if (invalid is not null)
            {
                return invalid;
            }

            rows = narrowed!;
        }

        // lower() on both sides is what both databases can translate; Contains(..., StringComparison) is not.
        var fragment = query.Name?.Trim().ToLowerInvariant();
#pragma warning disable CA1862
        rows = rows.WhereIf(!string.IsNullOrEmpty(fragment), r => r.Name.ToLower().Contains(fragment!));
#pragma warning restore CA1862

        // Names sort case-insensitively on both databases (their default collations disagree about case). The answer
        // depends on the request's URL alone (include_deleted is refused above to those who may not ask for it).
        return TypedResults.Ok(await cache.ListAsync(http.Request, narrowParameter is null ? ListParameters : [.. ListParameters, narrowParameter], token =>
            pager.PageAsync(rows, page, sort switch
            {
                TaxonomySort.NameDescending => r => r.OrderByDescending(x => x.Name.ToLower()).ThenByDescending(x => x.Name).ThenByDescending(x => x.Id),
                TaxonomySort.CreatedAt => r => r.OrderBy(x => x.CreatedAt).ThenBy(x => x.Id),
                TaxonomySort.CreatedAtDescending => r => r.OrderByDescending(x => x.CreatedAt).ThenByDescending(x => x.Id),
                _ => r => r.OrderBy(x => x.Name.ToLower()).ThenBy(x => x.Name).ThenBy(x => x.Id),
            }, respond, http.Request, token), cancellationToken));
    }

    /// <summary>By id or slug, with its ETag; 304 for If-None-Match naming it; deleted rows for staff only.</summary>
    public async Task<Results<Ok<TResponse>, StatusCodeHttpResult, ProblemHttpResult>> GetAsync(RequestScope scope, string reference)
    {
        var http = scope.Http;
        var row = await CatalogRows.FindAsync(Rows(scope.Db).AsNoTracking(), reference, scope.Aborted);
        if (row is null || (row.DeletedAt is not null && !http.User.IsStaffOrAdmin()))
        {
            return Problems.NotFound(_title);
        }

        var etag = ETags.For(row.Id, row.Version);
        ETags.Set(http.Response, etag);
        return ETags.IfNoneMatchSatisfied(http.Request, etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(respond(row));
    }

    /// <summary>Adds a row with the slug the client gave, or one made from its name that steps past any taken meanwhile.</summary>
    public async Task<Results<Created<TResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        RequestScope scope, TRequest request)
    {
        var (db, _, http, cancellationToken) = scope;
        var row = blank(scope.UtcNow);
        await using var transaction = await BeginLockedAsync(scope, row);
        switch (await ApplyAsync(db, row, request, cancellationToken))
        {
            case ValidationProblem invalid:
                return invalid;
            case ProblemHttpResult refused:
                return refused;
        }

        db.Add(row);
        var edit = new SlugEdit(request.Slug, Regenerate: true);
        for (var attempt = 1; ; attempt++)
        {
            if (await AssignSlugAsync(db, row, edit, cancellationToken) is { } taken)
            {
                return taken;
            }

            var problem = await SaveAsync(db, row, cancellationToken);
            if (problem is null)
            {
                break;
            }

            // A generated slug that a concurrent create took first: look again, never fail the request for it.
            if (request.Slug is not null || attempt == Slugs.GeneratedSlugAttempts)
            {
                return problem;
            }
        }

        await CommitAsync(transaction, cancellationToken);
        ETags.Set(http.Response, ETags.For(row.Id, row.Version));
        return TypedResults.Created($"{Path}/{row.Id}", respond(row));
    }

    /// <summary>PUT: every field replaced; an absent slug keeps the current one.</summary>
    public Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> ReplaceAsync(RequestScope scope, string reference, TRequest request) =>
        UpdateAsync(scope, reference, (_, _) => request, regenerateSlug: false);

    /// <summary>PATCH: the merge patch applied to the row's PUT body, then the PUT path; "slug": null derives a new slug.</summary>
    public Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> PatchAsync(RequestScope scope, string reference, JsonElement patch) =>
        UpdateAsync(
            scope,
            reference,
            (row, errors) => MergePatch.Apply(current(row), patch, errors, "name"),
            regenerateSlug: MergePatch.Clears(patch, "slug"));

    /// <summary>
    /// Soft delete, in one statement guarded by the version read (If-Match) and by <paramref name="still"/> (a condition that
    /// must hold at the moment of the write); <paramref name="refuse"/> explains why it may not go ahead (409).
    /// </summary>
    public Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        RequestScope scope, string reference, Expression<Func<T, bool>>? still = null, Func<T, Task<ProblemHttpResult?>>? refuse = null) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => DeleteOnceAsync(scope, reference, still, refuse));

    private async Task<Results<NoContent, ProblemHttpResult>> DeleteOnceAsync(
        RequestScope scope, string reference, Expression<Func<T, bool>>? still, Func<T, Task<ProblemHttpResult?>>? refuse)
    {
        var (db, _, _, cancellationToken) = scope;
        var target = await FindForWriteAsync(scope, reference, tracked: false);
        if (!target.Found)
        {
            return target.Problem;
        }

        var row = target.Row;
        if (row.DeletedAt is not null)
        {
            return TypedResults.NoContent();
        }

        await using var transaction = await BeginLockedAsync(scope, row);
        if (refuse is not null && await refuse(row) is { } refused)
        {
            return refused;
        }

        var now = scope.UtcNow;
        var rows = db.Set<T>().Where(r => r.Id == row.Id && r.Version == row.Version && r.DeletedAt == null);
        // A brand, category or attribute is embedded in many products' reads: all of them are superseded.
        db.CatalogChanged();
        var deleted = await (still is null ? rows : rows.Where(still)).ExecuteUpdateAsync(
            set => set.SetProperty(r => r.DeletedAt, now).SetProperty(r => r.UpdatedAt, now).SetProperty(r => r.Version, r => r.Version + 1),
            cancellationToken);
        if (deleted > 0)
        {
            await CommitAsync(transaction, cancellationToken);
            return TypedResults.NoContent();
        }

        // The guard failed: a condition that changed in between explains itself; otherwise the row did.
        return refuse is not null && await refuse(row) is { } raced ? raced : Problems.PreconditionFailed();
    }

    /// <summary>Undoes a soft delete (a no-op for a live row) unless <paramref name="refuse"/> says why not, guarded by If-Match.</summary>
    public Task<Results<Ok<TResponse>, ProblemHttpResult>> RestoreAsync(
        RequestScope scope, string reference, Func<T, Task<ProblemHttpResult?>>? refuse = null) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => RestoreOnceAsync(scope, reference, refuse));

    private async Task<Results<Ok<TResponse>, ProblemHttpResult>> RestoreOnceAsync(
        RequestScope scope, string reference, Func<T, Task<ProblemHttpResult?>>? refuse)
    {
        var target = await FindForWriteAsync(scope, reference);
        if (!target.Found)
        {
            return target.Problem;
        }

        var row = target.Row;
        if (row.DeletedAt is not null)
        {
            await using var transaction = await BeginLockedAsync(scope, row);
            if (refuse is not null && await refuse(row) is { } refused)
            {
                return refused;
            }

            row.DeletedAt = null;
            if (await SaveVersionAsync(scope, row) is { } problem)
            {
                return problem;
            }

            await CommitAsync(transaction, scope.Aborted);
        }

        return Answer(scope.Http, row);
    }

    /// <summary>
    /// The row If-Match allows, not deleted, given the body <paramref name="build"/> makes of it, checked and applied as
    /// on create, given its new slug and saved as a new version.
    /// </summary>
    private Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        RequestScope scope, string reference, Func<T, ValidationErrors, TRequest> build, bool regenerateSlug) =>
        VersionedRows.UnlessStaleAsync(scope.Http.Request, scope.Db, () => UpdateOnceAsync(scope, reference, build, regenerateSlug));

    private async Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> UpdateOnceAsync(
        RequestScope scope, string reference, Func<T, ValidationErrors, TRequest> build, bool regenerateSlug)
    {
        var target = await FindForWriteAsync(scope, reference);
        if (!target.Found)
        {
            return target.Problem;
        }

        var row = target.Row;
        if (row.DeletedAt is not null)
        {
            return Problems.Conflict($"The {What} is deleted; restore it first (POST .../restore).");
        }

        var errors = new ValidationErrors();
        var request = build(row, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var (db, _, http, cancellationToken) = scope;
        await using var transaction = await BeginLockedAsync(scope, row);
        switch (await ApplyAsync(db, row, request, cancellationToken))
        {
            case ValidationProblem invalid:
                return invalid;
            case ProblemHttpResult refused:
                return refused;
        }

        if (await AssignSlugAsync(db, row, new SlugEdit(request.Slug, regenerateSlug), cancellationToken) is { } taken)
        {
            return taken;
        }

        if (await SaveVersionAsync(scope, row) is { } problem)
        {
            return problem;
        }

        await CommitAsync(transaction, cancellationToken);
        return Answer(http, row);
    }

    /// <summary>
    /// For a kind with a write lock, the transaction the write runs in, holding the lock for <paramref name="row"/>: what
    /// the write checks from here on is what the last write under the lock committed. Null (no transaction) for the others.
    /// </summary>
    private async Task<IDbContextTransaction?> BeginLockedAsync(RequestScope scope, T row)
    {
        if (writeLock is not var (name, keyOf))
        {
            return null;
        }

        var transaction = await scope.Db.Database.BeginTransactionAsync(scope.Aborted);
        await scope.Http.RequestServices.GetRequiredService<IWriteLocks>().HoldAsync(name, keyOf(row), scope.Aborted);
        return transaction;
    }

    private static Task CommitAsync(IDbContextTransaction? transaction, CancellationToken cancellationToken) =>
        transaction?.CommitAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Saves the row's change as its next version (412 when another write got there first).</summary>
    private Task<ProblemHttpResult?> SaveVersionAsync(RequestScope scope, T row)
    {
        row.UpdatedAt = scope.UtcNow;
        row.Version++;
        return SaveAsync(scope.Db, row, scope.Aborted);
    }

    private Ok<TResponse> Answer(HttpContext http, T row)
    {
        ETags.Set(http.Response, ETags.For(row.Id, row.Version));
        return TypedResults.Ok(respond(row));
    }

    /// <summary>
    /// The row a write names (404, or 412 when If-Match names another version): tracked with what the kind loads with it,
    /// for a write that answers with the row; untracked and bare for one that only needs its id and version (delete).
    /// </summary>
    private Task<WriteTarget<T>> FindForWriteAsync(RequestScope scope, string reference, bool tracked = true) =>
        CatalogRows.FindForWriteAsync(
            tracked ? Rows(scope.Db) : scope.Db.Set<T>().AsNoTracking(), reference, _title, scope.Http.Request, scope.Aborted);

    /// <summary>The kind's rows with what its response shows besides their own columns (an attribute's values).</summary>
    private IQueryable<T> Rows(EmporiumDbContext db) => including is null ? db.Set<T>() : including(db.Set<T>());

    /// <summary>Checks the body (name and slug here, the rest by the kind) and copies it onto the row; a problem when refused.</summary>
    private async Task<IResult?> ApplyAsync(EmporiumDbContext db, T row, TRequest request, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = Taxonomy.Name(request.Name, errors);
        CheckSlug(request.Slug, errors);
        if (applyMore is not null && await applyMore(db, row, request, errors, cancellationToken) is { } refused)
        {
            return refused;
        }

        if (name is null || !errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        row.Name = name;
        return null;
    }

    /// <summary>
    /// The slug a write ends up with: the client's (409 when another row has it), the current one, or one made from the name
    /// (slug, slug-2, ...). Slugs stay unique across deleted rows too, so a restore can never collide.
    /// </summary>
    private async Task<ProblemHttpResult?> AssignSlugAsync(EmporiumDbContext db, T row, SlugEdit edit, CancellationToken cancellationToken)
    {
        var current = row.Id == 0 ? null : row.Slug;
        var id = row.Id;
        Task<bool> TakenAsync(string candidate) =>
            candidate == ReservedSlug
                ? Task.FromResult(true)
                : db.Set<T>().AnyAsync(other => other.Slug == candidate && other.Id != id, cancellationToken);

        if (edit.Given is { } given)
        {
            if (given != current && await TakenAsync(given))
            {
                return SlugTaken(given);
            }

            row.Slug = given;
        }
        else if (edit.Regenerate || current is null)
        {
            row.Slug = await Slugs.UniqueAsync(Slugs.FromName(row.Name, What), TakenAsync);
        }

        return null;
    }

    /// <summary>Saves; the one key this write can collide on is a slug a concurrent write took since it was checked.</summary>
    private Task<ProblemHttpResult?> SaveAsync(EmporiumDbContext db, T row, CancellationToken cancellationToken)
    {
        var (slug, id) = (row.Slug, row.Id);
        return VersionedRows.SaveAsync(
            db,
            async () => await db.Set<T>().AnyAsync(other => other.Slug == slug && other.Id != id, cancellationToken) ? SlugTaken(slug) : null,
            cancellationToken);
    }

    /// <summary>409 with a field error, so a form can show it next to the slug input.</summary>
    private ProblemHttpResult SlugTaken(string slug) =>
        Problems.OfField(
            StatusCodes.Status409Conflict,
            "Conflict.",
            $"The slug '{slug}' is already used by another {What} (deleted ones keep their slugs).",
            "slug",
            $"slug '{slug}' is already taken.");
}
