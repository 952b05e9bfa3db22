using System.Security.Cryptography;
using Emporium.Infrastructure.Storage;
using Emporium.Platform.Storage;

namespace Emporium.Tests.Infrastructure.Storage;

/// <summary>The file store's contract, held by both adapters: the local folder and S3 (on a real s3rver).</summary>
public abstract class FileStoreTests : IAsyncLifetime
{
    protected abstract IFileStore Store { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(3 * 1024 * 1024 + 17)]
    public async Task What_is_put_reads_back_byte_for_byte_and_lists_with_its_size(int size)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        var key = $"contract/{Guid.NewGuid():N}/file.bin";

        var stored = await Store.PutAsync(key, new MemoryStream(bytes), "application/octet-stream", default);

        stored.Should().Be(size);
        (await ReadAsync(key)).Should().Equal(bytes);
        var listed = await ListAsync(key[..key.LastIndexOf('/')]);
        listed.Should().ContainSingle().Which.Should().Match<StoredFile>(f => f.Key == key && f.Size == size);
        listed[0].LastModified.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task A_file_larger_than_one_part_goes_up_in_parts_and_reads_back_whole()
    {
        // 5 MB parts (the smallest S3 allows): 12 MB go as three parts, read from a stream that cannot seek.
        var bytes = RandomNumberGenerator.GetBytes(12 * 1024 * 1024 + 3);
        var key = $"contract/{Guid.NewGuid():N}/large.bin";

        (await Store.PutAsync(key, new ForwardOnlyStream(bytes), "application/octet-stream", default)).Should().Be(bytes.Length);

        (await ReadAsync(key)).Should().Equal(bytes);
    }

    [Fact]
    public async Task A_put_replaces_the_file_and_a_delete_removes_it_and_a_second_delete_is_fine()
    {
        var key = $"contract/{Guid.NewGuid():N}/replace.txt";
        await Store.PutAsync(key, new MemoryStream("first version, longer"u8.ToArray()), "text/plain", default);
        await Store.PutAsync(key, new MemoryStream("second"u8.ToArray()), "text/plain", default);

        (await ReadAsync(key)).Should().Equal("second"u8.ToArray());
        await Store.DeleteAsync(key, default);
        (await Store.OpenReadAsync(key, default)).Should().BeNull();
        await Store.DeleteAsync(key, default);
        (await ListAsync(key)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_put_whose_content_fails_midway_stores_nothing()
    {
        var key = $"contract/{Guid.NewGuid():N}/failed.bin";
        var source = new LengthLimitedStream(new MemoryStream(RandomNumberGenerator.GetBytes(11 * 1024 * 1024)), 7 * 1024 * 1024);

        var put = () => Store.PutAsync(key, source, "application/octet-stream", default);

        await put.Should().ThrowAsync<ContentTooLargeException>();
        (await Store.OpenReadAsync(key, default)).Should().BeNull();
        (await ListAsync(key[..key.LastIndexOf('/')])).Should().BeEmpty();
    }

    [Fact]
    public async Task Listing_by_prefix_finds_exactly_the_files_under_it()
    {
        var root = $"contract/{Guid.NewGuid():N}";
        foreach (var key in new[] { $"{root}/a/1.txt", $"{root}/a/2.txt", $"{root}/ab/3.txt", $"{root}/b/4.txt" })
        {
            await Store.PutAsync(key, new MemoryStream("x"u8.ToArray()), "text/plain", default);
        }

        (await ListAsync($"{root}/a/")).Select(f => f.Key).Should().BeEquivalentTo($"{root}/a/1.txt", $"{root}/a/2.txt");
        (await ListAsync($"{root}/a")).Should().HaveCount(3);
        (await ListAsync($"{root}/")).Should().HaveCount(4);
        (await ListAsync($"{root}/c/")).Should().BeEmpty();
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/absolute.txt")]
    [InlineData("a//b.txt")]
    [InlineData("a/./b.txt")]
    [InlineData("space in key.txt")]
    public async Task Keys_that_could_leave_the_store_or_are_malformed_are_refused(string key)
    {
        var put = () => Store.PutAsync(key, new MemoryStream("x"u8.ToArray()), "text/plain", default);

        await put.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task The_readiness_check_passes_on_a_working_store()
    {
        await Store.CheckAsync(default);
    }

    protected async Task<byte[]> ReadAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(key, default);
        stream.Should().NotBeNull();
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy);
        return copy.ToArray();
    }

    private async Task<List<StoredFile>> ListAsync(string prefix)
    {
        var files = new List<StoredFile>();
        await foreach (var file in Store.ListAsync(prefix, default))
        {
            files.Add(file);
        }

        return files;
    }

    /// <summary>An upload's body: readable once, length unknown.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

public sealed class LocalFileStoreTests : FileStoreTests
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("emporium-files-");

    protected override IFileStore Store => new LocalFileStore(_root.FullName);

    public override Task DisposeAsync()
    {
        _root.Delete(recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Files_land_under_the_root_and_a_failed_put_leaves_no_temporary_file_behind()
    {
        await Store.PutAsync("deep/er/file.txt", new MemoryStream("x"u8.ToArray()), "text/plain", default);
        var failing = new LengthLimitedStream(new MemoryStream(new byte[100]), 10);
        await ((Func<Task>)(() => Store.PutAsync("deep/er/failed.txt", failing, "text/plain", default))).Should().ThrowAsync<ContentTooLargeException>();

        Directory.GetFiles(_root.FullName, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Should().Equal("file.txt");

        var refused = new LengthLimitedStream(new MemoryStream(new byte[100]), 10);
        await ((Func<Task>)(() => Store.PutAsync("fresh/folder/refused.txt", refused, "text/plain", default))).Should().ThrowAsync<ContentTooLargeException>();
        Directory.Exists(Path.Combine(_root.FullName, "fresh")).Should().BeFalse("a refused put leaves no folder made for it");
    }

    [Fact]
    public async Task A_temporary_file_a_killed_put_left_behind_is_deleted_by_a_listing_once_it_is_old()
    {
        await Store.PutAsync("images/9/c3/original.png", new MemoryStream("x"u8.ToArray()), "image/png", default);
        var folder = Path.Combine(_root.FullName, "images", "9", "c3");
        var abandoned = Path.Combine(folder, ".put-0123456789abcdef");
        var writing = Path.Combine(folder, ".put-fedcba9876543210");
        var orphanFolder = Path.Combine(_root.FullName, "images", "9", "d4");
        Directory.CreateDirectory(orphanFolder);
        var alone = Path.Combine(orphanFolder, ".put-00000000000000000000000000000000");
        foreach (var file in new[] { abandoned, writing, alone })
        {
            await File.WriteAllBytesAsync(file, new byte[1024]);
        }

        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddDays(-2));
        File.SetLastWriteTimeUtc(alone, DateTime.UtcNow.AddDays(-2));

        (await Store.ListAsync("images/", default).Select(f => f.Key).ToListAsync()).Should().Equal("images/9/c3/original.png");

        File.Exists(abandoned).Should().BeFalse("a put two days old was killed mid-way");
        File.Exists(writing).Should().BeTrue("a put in progress keeps its temporary file");
        Directory.Exists(orphanFolder).Should().BeFalse("the folder the killed put made is removed with it");
    }

    [Fact]
    public async Task Deleting_the_last_files_of_a_folder_removes_the_folders_it_leaves_empty_and_no_others()
    {
        await Store.PutAsync("images/7/a1/original.png", new MemoryStream("x"u8.ToArray()), "image/png", default);
        await Store.PutAsync("images/7/a1/thumb.webp", new MemoryStream("x"u8.ToArray()), "image/webp", default);
        await Store.PutAsync("images/7/b2/original.png", new MemoryStream("x"u8.ToArray()), "image/png", default);

        await Store.DeleteAsync("images/7/a1/original.png", default);
        Directory.Exists(Path.Combine(_root.FullName, "images", "7", "a1")).Should().BeTrue("a file is still in it");
        await Store.DeleteAsync("images/7/a1/thumb.webp", default);
        Directory.Exists(Path.Combine(_root.FullName, "images", "7", "a1")).Should().BeFalse("a deleted image leaves no empty folder behind");
        Directory.Exists(Path.Combine(_root.FullName, "images", "7")).Should().BeTrue("another image of the product is in it");

        await Store.DeleteAsync("images/7/b2/original.png", default);
        Directory.Exists(Path.Combine(_root.FullName, "images")).Should().BeFalse();
        Directory.Exists(_root.FullName).Should().BeTrue("the root stays");
        await Store.PutAsync("images/7/c3/original.png", new MemoryStream("x"u8.ToArray()), "image/png", default);
        (await Store.OpenReadAsync("images/7/c3/original.png", default)).Should().NotBeNull();
    }
}

public sealed class S3FileStoreTests : FileStoreTests
{
    private readonly S3StorageOptions _options = new()
    {
        Endpoint = S3Server.Endpoint,
        Bucket = S3Server.Bucket,
        AccessKey = S3Server.AccessKey,
        SecretKey = S3Server.SecretKey,
        Prefix = S3Server.NewPrefix(),
        PartSizeMegabytes = 5,
    };

    protected override IFileStore Store => new S3FileStore(S3FileStore.CreateClient(_options), _options);

    [Fact]
    public async Task A_direct_url_serves_the_file_without_the_api_until_it_expires()
    {
        var bytes = RandomNumberGenerator.GetBytes(4096);
        var key = $"contract/{Guid.NewGuid():N}/direct.bin";
        await Store.PutAsync(key, new MemoryStream(bytes), "application/octet-stream", default);

        using var http = new HttpClient();
        var url = Store.DirectUrl(key, TimeSpan.FromMinutes(5))!;

        (await http.GetByteArrayAsync(url)).Should().Equal(bytes);
        url.Query.Should().Contain("Signature", "the URL is signed, so a private bucket can serve it");
    }

    [Fact]
    public async Task Readiness_fails_when_the_bucket_does_not_exist()
    {
        var missing = new S3StorageOptions
        {
            Endpoint = S3Server.Endpoint, Bucket = "no-such-bucket", AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey,
        };

        var check = () => new S3FileStore(S3FileStore.CreateClient(missing), missing).CheckAsync(default);

        await check.Should().ThrowAsync<Exception>();
    }
}
