using Emporium.Features.Import;
using Emporium.Infrastructure.Storage;
using Emporium.Platform.Storage;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// errors.csv parts when two attempts of one import overlap: the one whose lease ran out keeps writing for a while after
/// another attempt resumed from the last checkpoint.
/// </summary>
public sealed class ErrorReportTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("emporium-errors-");

    private LocalFileStore Store => new(_root.FullName);

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task A_stale_attempt_neither_overwrites_nor_adds_to_the_parts_the_resumed_attempt_records()
    {
        const long job = 42;
        string[] header = ["sku", "name"];
        var first = await ErrorReport.OpenAsync(Store, job, header, committedKeys: null, committedParts: 0, CancellationToken.None);
        await first.AppendAsync(new RejectedRow(2, "name", null, "name is required") { Cells = ["A", ""] }, CancellationToken.None);
        var checkpoint = await first.FlushAsync(CancellationToken.None);

        // Its lease runs out; a second attempt resumes from the checkpoint and settles the next rows.
        var second = await ErrorReport.OpenAsync(Store, job, header, checkpoint, committedParts: checkpoint.Count, CancellationToken.None);
        await second.AppendAsync(new RejectedRow(3, "name", null, "name is required") { Cells = ["B", ""] }, CancellationToken.None);
        var resumed = await second.FlushAsync(CancellationToken.None);

        // The first attempt, not yet stopped, stores the rows it had read past the checkpoint.
        await first.AppendAsync(new RejectedRow(3, "name", null, "stale") { Cells = ["B", ""] }, CancellationToken.None);
        await first.AppendAsync(new RejectedRow(4, "name", null, "stale") { Cells = ["C", ""] }, CancellationToken.None);
        await first.FlushAsync(CancellationToken.None);

        resumed.Should().HaveCount(3).And.StartWith(checkpoint);
        var recorded = string.Concat(await Task.WhenAll(resumed.Select(ReadAsync)));
        recorded.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "error,sku,name", "\"line 2, column name: name is required\",A,", "\"line 3, column name: name is required\",B,");
        (await ErrorReport.PartsAsync(Store, job, CancellationToken.None)).Should().HaveCount(4, "the stale part is stored beside, not over, the resumed one");

        // A third attempt from the second's checkpoint removes what is not recorded.
        await ErrorReport.OpenAsync(Store, job, header, resumed, committedParts: resumed.Count, CancellationToken.None);
        (await ErrorReport.PartsAsync(Store, job, CancellationToken.None)).Should().Equal(resumed);
    }

    [Fact]
    public async Task A_checkpoint_written_before_parts_had_writers_resumes_with_its_numbered_parts()
    {
        const long job = 7;
        foreach (var part in new[] { 0, 1, 2 })
        {
            await using var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"part {part}\r\n"));
            await Store.PutAsync(ImportFiles.ErrorsPartKey(job, part, writer: null), content, "text/csv", CancellationToken.None);
        }

        var report = await ErrorReport.OpenAsync(Store, job, ["sku"], committedKeys: null, committedParts: 2, CancellationToken.None);
        await report.AppendAsync(new RejectedRow(9, null, null, "bad") { Cells = ["Z"] }, CancellationToken.None);
        var keys = await report.FlushAsync(CancellationToken.None);

        keys.Take(2).Should().Equal(ImportFiles.ErrorsPartKey(job, 0, null), ImportFiles.ErrorsPartKey(job, 1, null));
        string.Concat(await Task.WhenAll(keys.Select(ReadAsync))).Should().StartWith("part 0\r\npart 1\r\n").And.Contain("line 9: bad");
        (await ErrorReport.PartsAsync(Store, job, CancellationToken.None)).Should().Equal(keys, "part 2 was written after the checkpoint");
    }

    private async Task<string> ReadAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(key, CancellationToken.None);
        using var reader = new StreamReader(stream!);
        return await reader.ReadToEndAsync();
    }
}
