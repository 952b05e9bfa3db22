using System.ComponentModel.DataAnnotations;

namespace Emporium.Platform;

/// <summary>Which parts of the service this process runs (Emporium:Role).</summary>
public enum HostRole
{
    All,
    Api,
    Worker,
}

public sealed class EmporiumOptions
{
    public const string Section = "Emporium";

    /// <summary>api serves HTTP, worker runs background jobs (and maps only health), all does both.</summary>
    [EnumDataType(typeof(HostRole))]
    public HostRole Role { get; set; } = HostRole.All;

    /// <summary>Load the demo catalog (eShop's 101 products) at start; also `--seed-demo` on the command line.</summary>
    public bool SeedDemo { get; set; }

    /// <summary>Folder for the embedded profile's files (SQLite database, generated keys, uploads).</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public bool RunsApi => Role is HostRole.All or HostRole.Api;

    public bool RunsWorker => Role is HostRole.All or HostRole.Worker;
}
