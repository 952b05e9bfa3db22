using System.ComponentModel.DataAnnotations;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// How workers learn that a job is ready (Jobs:Transport and Jobs:RabbitMq:*, in the Jobs section beside the
/// engine's own settings). RABBITMQ_URL is accepted for Jobs:RabbitMq:Url.
/// </summary>
public sealed class JobTransportOptions : IValidatableObject
{
    public const string Section = "Jobs";

    public JobTransportKind Transport { get; set; } = JobTransportKind.InProcess;

    public RabbitMqJobOptions RabbitMq { get; set; } = new();

    public bool UsesRabbitMq => Transport == JobTransportKind.RabbitMq;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!UsesRabbitMq)
        {
            yield break;
        }

        var rabbit = RabbitMq;
        if (string.IsNullOrWhiteSpace(rabbit.Url))
        {
            yield return new ValidationResult(
                "Jobs:RabbitMq:Url (or RABBITMQ_URL) is required when Jobs:Transport is RabbitMq.", [nameof(RabbitMq)]);
        }
        else if (!Uri.TryCreate(rabbit.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps") || uri.Host.Length == 0)
        {
            // The URL holds a password: never echo it.
            yield return new ValidationResult(
                "Jobs:RabbitMq:Url (or RABBITMQ_URL) must look like amqp://user:password@host:port/vhost.", [nameof(RabbitMq)]);
        }

        foreach (var (name, value) in new[] { ("Exchange", rabbit.Exchange), ("Queue", rabbit.Queue) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 200 || value.StartsWith("amq.", StringComparison.Ordinal))
            {
                yield return new ValidationResult(
                    $"Jobs:RabbitMq:{name} must be a name of 1 to 200 characters that does not start with 'amq.'.", [nameof(RabbitMq)]);
            }
        }

        if (rabbit.SweepInterval < TimeSpan.FromMilliseconds(100) || rabbit.SweepInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Jobs:RabbitMq:SweepInterval must be between 00:00:00.1 and 01:00:00.", [nameof(RabbitMq)]);
        }

        if (rabbit.ConfirmTimeout < TimeSpan.FromMilliseconds(100) || rabbit.ConfirmTimeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Jobs:RabbitMq:ConfirmTimeout must be between 00:00:00.1 and 00:05:00.", [nameof(RabbitMq)]);
        }
    }
}

public sealed class RabbitMqJobOptions
{
    /// <summary>amqp://user:password@host:port/vhost (RABBITMQ_URL).</summary>
    public string? Url { get; set; }

    /// <summary>Durable direct exchange the job ids are published to; dead letters go to "{Exchange}.dead".</summary>
    public string Exchange { get; set; } = "emporium.jobs";

    /// <summary>Durable queue the workers consume (routing key = queue name); dead letters land in "{Queue}.dead".</summary>
    public string Queue { get; set; } = "emporium.jobs";

    /// <summary>How often a worker re-publishes PENDING jobs that have been due that long without being claimed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a publish waits for the broker's confirm before it counts as lost (the sweeper retries it).</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public string DeadLetterExchange => $"{Exchange}.dead";

    public string DeadLetterQueue => $"{Queue}.dead";
}

public enum JobTransportKind
{
    InProcess,
    RabbitMq,
}
