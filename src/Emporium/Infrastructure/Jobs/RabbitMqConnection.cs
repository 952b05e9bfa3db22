using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The process's one connection to RabbitMQ, opened on first use. The client's automatic recovery reconnects
/// it (and re-opens its channels and consumers) after a network failure; only the very first connection
/// has to be retried by the callers, which all treat a failure as "later".
/// </summary>
public sealed partial class RabbitMqConnection(IOptions<JobTransportOptions> options, ILogger<RabbitMqConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public RabbitMqJobOptions Settings => options.Value.RabbitMq;

    /// <summary>Shown by the broker (rabbitmqctl list_connections client_properties: connection_name); unique per connection.</summary>
    public string Name { get; } = $"emporium {Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(Settings.Url!),
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
                    ClientProvidedName = Name,
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
                LogConnected(factory.HostName, factory.Port);
            }

            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Declares (idempotently) the durable direct exchange and queue, and the dead-letter exchange and queue that
    /// rejected messages go to. Publisher and consumer both declare it, so either may start first.
    /// </summary>
    public async Task DeclareTopologyAsync(IChannel channel, CancellationToken cancellationToken)
    {
        var settings = Settings;
        await channel.ExchangeDeclareAsync(settings.DeadLetterExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(settings.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        // Dead-lettered messages keep their routing key (the queue's name).
        await channel.QueueBindAsync(settings.DeadLetterQueue, settings.DeadLetterExchange, settings.Queue, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(settings.Exchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(
            settings.Queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-dead-letter-exchange"] = settings.DeadLetterExchange },
            cancellationToken: cancellationToken);
        await channel.QueueBindAsync(settings.Queue, settings.Exchange, settings.Queue, cancellationToken: cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception)
            {
                LogCloseFailed(exception);
            }

            connection.Dispose();
        }

        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to RabbitMQ at {Host}:{Port}")]
    private partial void LogConnected(string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the RabbitMQ connection failed")]
    private partial void LogCloseFailed(Exception exception);
}

/// <summary>Readiness (tag ready) when RabbitMQ is the transport: a job enqueued now could not be announced.</summary>
public sealed class RabbitMqHealthCheck(RabbitMqConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var open = await connection.GetAsync(timeout.Token);
            return open.IsOpen
                ? HealthCheckResult.Healthy("connected to RabbitMQ")
                : HealthCheckResult.Unhealthy("the connection to RabbitMQ is lost; reconnecting");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ is unreachable: {exception.Message}");
        }
    }
}
