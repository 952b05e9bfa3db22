namespace Emporium.Platform;

/// <summary>
/// Lets flags be written bare (`--seed-demo`): .NET's command-line configuration expects a value after
/// every switch and would otherwise swallow the next argument or ignore the flag.
/// </summary>
public static class CommandLineSwitches
{
    private static readonly string[] Flags = ["--seed-demo", "--schema-script"];

    public static string[] Expand(string[] args)
    {
        var expanded = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var flag = Flags.FirstOrDefault(f => string.Equals(args[i], f, StringComparison.OrdinalIgnoreCase));
            var hasValue = i + 1 < args.Length && (args[i + 1] is "true" or "false");
            expanded.Add(flag is not null && !hasValue ? $"{flag}=true" : args[i]);
        }

        return [.. expanded];
    }
}
