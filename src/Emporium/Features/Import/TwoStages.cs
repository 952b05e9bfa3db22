using System.Threading.Channels;

namespace Emporium.Features.Import;

/// <summary>
/// A producer on its own task handing items in order to a consumer in the caller's flow, through a bounded channel.
/// If the consumer fails, the producer is cancelled and awaited before the failure goes on; if the producer fails, the
/// consumer sees the channel end early, finishes what it took, and the producer's exception is rethrown after it.
/// </summary>
internal static class TwoStages
{
    public static async Task RunAsync<T>(
        int capacity,
        Func<ChannelWriter<T>, CancellationToken, Task> produce,
        Func<T, Task> consume,
        Func<Task> finish,
        CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    await produce(channel.Writer, stop.Token);
                }
                finally
                {
                    channel.Writer.Complete();
                }
            },
            CancellationToken.None);
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(stop.Token))
            {
                await consume(item);
            }

            await finish();
        }
        catch
        {
            await stop.CancelAsync();
            await producer.ContinueWith(static _ => { }, TaskScheduler.Default);
            throw;
        }

        // Rethrows a producing failure: the channel then ended without the items after it.
        await producer;
    }
}
