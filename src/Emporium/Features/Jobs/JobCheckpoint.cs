using System.Text.Json.Nodes;

namespace Emporium.Features.Jobs;

/// <summary>
/// A handler's checkpoint travels inside the job's progress JSON (property "checkpoint", which the API does not show),
/// so it needs no column of its own.
/// </summary>
internal static class JobCheckpoint
{
    public const string Property = "checkpoint";

    /// <summary>The checkpoint JSON inside <paramref name="progress"/>, or null.</summary>
    public static string? Read(string? progress)
    {
        if (progress is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(progress)?[Property]?.ToJsonString();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary><paramref name="progress"/> with <paramref name="checkpoint"/> as its checkpoint (unchanged when null).</summary>
    public static string With(string progress, string? checkpoint)
    {
        if (checkpoint is null)
        {
            return progress;
        }

        var node = JsonNode.Parse(progress)!.AsObject();
        node[Property] = JsonNode.Parse(checkpoint);
        return node.ToJsonString();
    }

    /// <summary>
    /// What a manual retry keeps of a stopped job's progress: with a checkpoint, the counts and message (so the job shows
    /// where it resumes from) and the checkpoint, without the rate and ETA of the old attempt; without one, nothing.
    /// </summary>
    public static string? ForRetry(string? progress)
    {
        if (Read(progress) is null)
        {
            return null;
        }

        var node = JsonNode.Parse(progress!)!.AsObject();
        node.Remove("rows_per_second");
        node.Remove("eta_seconds");
        return node.ToJsonString();
    }
}
