namespace Emporium.Tests.Infrastructure;

/// <summary>The repository the tests run from (scripts, deploy files).</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Emporium.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository (Emporium.slnx) was not found above the test binaries.");
    }
}
