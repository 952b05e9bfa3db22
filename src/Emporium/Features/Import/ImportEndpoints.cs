using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Platform.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Emporium.Features.Import;

public sealed record UploadQuery(
    [property: Description("Validate and count every row, write nothing.")]
    [FromQuery(Name = "dry_run")] bool? DryRun);

public static class ImportEndpoints
{
    private const string Multipart = "multipart/form-data";
    private const string Csv = "text/csv";
    private const string FileField = "file";

    // Boundaries and part headers around the file in a multipart body.
    private const long MultipartOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapImport(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/products/upload", UploadProducts)
            .WithTags("Import")
            .RequireAuthorization(Policies.ManageProducts)
            // The body is read by hand (streamed to the file store); its two shapes, for OpenAPI.
            .AcceptsFileUpload(FileField, "The CSV file (UTF-8).", alsoAsBody: Csv)
            .ProducesProblems(413, 415)
            .WithSummary("Import products from a CSV file")
            .WithDescription("Send the CSV as multipart/form-data (field `file`) or as a text/csv body. The file is stored and a "
                + "catalog.import job is queued; the answer is 202 at once with the job's status and events URLs. Columns: sku and "
                + "name required; description, price, currency, active, brand, categories optional; for variants (decision 0016) product_sku "
                + "(a row naming another product's SKU there is a variant of it: sku is the variant's, price its own), attribute:{slug} "
                + "columns (value slugs) and stock (the level to set, recorded as a movement). Bad rows are listed in "
                + "GET /api/jobs/{id}/errors.csv; ?dry_run=true counts without writing. Larger than Import:MaxUploadBytes: 413. "
                + "Staff and admins import into the whole catalog; a seller's rows create products it owns and may update only "
                + "those (a row naming another owner's SKU is rejected with that reason), and may name only existing brands.");

        app.MapGet("/api/jobs/{id:long}/errors.csv", GetImportErrors)
            .WithTags("Import")
            .RequireAuthorization(Policies.ManageProducts)
            .Produces<string>(StatusCodes.Status200OK, Csv)
            .Documented("Download an import's rejected rows", "An `error` column followed by the file's header, then every rejected row: its line, column and reason, "
                + "then its original cells; cells are neutralised against formula injection like the export's. 404 when the job is not an import "
                + "or has not started; 410 once the file was deleted, Import:RetainFilesFor (default 30 days) after the job finished. "
                + "Staff and admins, or the seller whose import it is.", 404, 410);

        app.MapProductExport();
        app.MapBulkDelete();
        return app;
    }

    public static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult, ValidationProblem>> UploadProducts(
        [AsParameters] UploadQuery query,
        HttpContext http,
        EmporiumDbContext db,
        IJobQueue queue,
        IFileStore store,
        IOptions<ImportSettings> settings,
        CancellationToken cancellationToken)
    {
        var request = http.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            || !(media.MediaType.Equals(Multipart, StringComparison.OrdinalIgnoreCase) || media.MediaType.Equals(Csv, StringComparison.OrdinalIgnoreCase)))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type.",
                detail: $"Send the CSV as {Multipart} (field '{FileField}') or as a {Csv} body, not '{request.ContentType}'.");
        }

        var multipart = media.MediaType.Equals(Multipart, StringComparison.OrdinalIgnoreCase);
        var max = settings.Value.MaxUploadBytes;
        var bodyLimit = multipart ? max + MultipartOverhead : max;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = bodyLimit;
        }

        if (request.ContentLength > bodyLimit)
        {
            return TooLarge(max);
        }

        Stream source = request.Body;
        string? fileName = null;
        if (multipart)
        {
            var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
            if (string.IsNullOrWhiteSpace(boundary))
            {
                return Problems.Validation(FileField, "The multipart body has no boundary.");
            }

            if (boundary.Length > 70)
            {
                // RFC 2046's limit; the reader refuses longer ones with an exception.
                return Problems.Validation(FileField, "The multipart boundary is longer than 70 characters (RFC 2046).");
            }

            // Our own byte count enforces the limit; the reader's default cap (128 MB) would be lower.
            var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
            MultipartSection? section;
            try
            {
                while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null
                    && !(ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                        && disposition.Name.Equals(FileField, StringComparison.OrdinalIgnoreCase)
                        && (fileName = FileNameOf(disposition)) is var _))
                {
                }
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(max);
            }
            catch (InvalidDataException exception)
            {
                return Problems.Validation(FileField, $"The multipart body is malformed: {exception.Message}");
            }
            catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
            {
                return CutShort();
            }

            if (section is null)
            {
                return Problems.Validation(FileField, $"The multipart body has no field named '{FileField}'.");
            }

            source = section.Body;
        }

        // Streamed through to the file store (Storage:Provider), never held whole: API and worker processes share no disk.
        var key = ImportFiles.UploadKey(Guid.NewGuid());
        long bytes;
        try
        {
            bytes = await FileStoreException.Guard(new LengthLimitedStream(source, max), body => store.PutAsync(key, body, Csv, cancellationToken));
        }
        catch (ContentTooLargeException)
        {
            return TooLarge(max);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(max);
        }
        catch (IOException) when (multipart && !http.RequestAborted.IsCancellationRequested)
        {
            // The multipart reader found the body's end before the part's closing boundary.
            return CutShort();
        }

        var kept = false;
        try
        {
            var dryRun = query.DryRun ?? false;
            var scope = CatalogScope.Of(http.User);
            var job = queue.Enqueue(
                CatalogImportJobHandler.KindName,
                new CatalogImportJobHandler.Payload(key, dryRun, fileName, bytes, scope.UserId, scope.OwnProductsOnly),
                requestedBy: scope.UserId);
            await db.SaveChangesAsync(cancellationToken);
            kept = true;
            return JobAccepted.For(job);
        }
        finally
        {
            if (!kept)
            {
                await store.DeleteAsync(key, CancellationToken.None);
            }
        }
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> GetImportErrors(
        long id,
        ClaimsPrincipal user,
        EmporiumDbContext db,
        IFileStore store,
        IOptions<ImportSettings> settings,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var job = await JobEndpoints.VisibleJobs(db, user)
            .Where(j => j.Id == id && j.Kind == CatalogImportJobHandler.KindName)
            .Select(j => new { j.FinishedAt, j.Progress })
            .FirstOrDefaultAsync(cancellationToken);
        if (job is null)
        {
            return Problems.NotFound("Import job");
        }

        var parts = await ErrorReport.PartsAsync(store, id, cancellationToken);
        // The parts the latest checkpoint records: a part an attempt stored after its lease ran out is not among them.
        if (JobCheckpoint.Read(job.Progress) is { } json
            && JsonSerializer.Deserialize<CatalogImportJobHandler.Checkpoint>(json, JobJson.Options)?.ErrorPartKeys is { } recorded)
        {
            parts = [.. parts.Where(part => recorded.Contains(part, StringComparer.Ordinal))];
        }

        if (parts.Count == 0)
        {
            var retention = settings.Value.RetainFilesFor;
            return job.FinishedAt < clock.GetUtcNow().UtcDateTime - retention
                ? TypedResults.Problem(
                    statusCode: StatusCodes.Status410Gone,
                    title: "The rejected rows are no longer kept.",
                    detail: $"errors.csv is deleted {retention} after its import finishes (Import:RetainFilesFor); this one finished at {job.FinishedAt:u}.")
                : Problems.NotFound("The job's errors.csv");
        }

        // The parts written so far, in order: a running import's report grows by whole checkpoints.
        return TypedResults.Stream(
            async body =>
            {
                foreach (var part in parts)
                {
                    await using var stream = await store.OpenReadAsync(part, CancellationToken.None);
                    if (stream is not null)
                    {
                        await stream.CopyToAsync(body, cancellationToken);
                    }
                }
            },
            "text/csv; charset=utf-8",
            $"job-{id}-errors.csv");
    }

    private static string? FileNameOf(ContentDispositionHeaderValue disposition)
    {
        var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
        // Only for display: control characters (NUL included) have no place in it.
        name = name is null ? null : new string(Path.GetFileName(name).Where(c => !char.IsControl(c)).ToArray());
        return string.IsNullOrWhiteSpace(name) ? null : name[..Math.Min(name.Length, 255)];
    }

    private static ValidationProblem CutShort() =>
        Problems.Validation(FileField, "The multipart body ends before its closing boundary: the upload was cut short or is empty; send it again.");

    private static ProblemHttpResult TooLarge(long max) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "The file is too large.",
            detail: $"Uploads are limited to {max:N0} bytes (Import:MaxUploadBytes).");
}
