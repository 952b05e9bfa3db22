namespace Emporium.Platform.Workers;

/// <summary>What the job runner and the webhook dispatcher share about the leases they hold on rows they work on.</summary>
public static class Leases
{
    /// <summary>
    /// A lease owner unique per worker instance (several hosts may share a process in tests) and readable in the table:
    /// machine, process and a random part, cut to the column's <paramref name="maxLength"/> from the left.
    /// </summary>
    public static string NewOwner(int maxLength)
    {
        var owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        return owner.Length <= maxLength ? owner : owner[^maxLength..];
    }

    /// <summary>Runs <paramref name="work"/> with a <typeparamref name="TStore"/> from a scope of its own (a fresh DbContext per write).</summary>
    public static async Task<T> WithScopedAsync<TStore, T>(this IServiceScopeFactory scopes, Func<TStore, Task<T>> work)
        where TStore : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TStore>());
    }

    /// <inheritdoc cref="WithScopedAsync{TStore, T}"/>
    public static async Task WithScopedAsync<TStore>(this IServiceScopeFactory scopes, Func<TStore, Task> work)
        where TStore : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<TStore>());
    }
}
