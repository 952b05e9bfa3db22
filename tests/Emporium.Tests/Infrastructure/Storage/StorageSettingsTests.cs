using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Infrastructure.Storage;

public sealed class StorageSettingsTests
{
    [Theory]
    [InlineData("Storage:S3:Bucket", "--Storage:Provider=S3")]
    [InlineData("Storage:S3:AccessKey", "--Storage:Provider=S3", "--Storage:S3:Bucket=b", "--Storage:S3:AccessKey=only-the-key")]
    [InlineData("Storage:S3:Endpoint", "--Storage:Provider=S3", "--Storage:S3:Bucket=b", "--Storage:S3:Endpoint=not a url")]
    [InlineData("Storage:Provider", "--Storage:Provider=Ftp")]
    public Task A_wrong_storage_setting_stops_the_service_with_one_line_naming_it(string named, params string[] arguments) =>
        RealBinary.RefusesToStartAsync(named, arguments);
}
