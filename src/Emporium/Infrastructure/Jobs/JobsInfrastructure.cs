using Emporium.Features.Jobs;
using Emporium.Platform.Health;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Emporium.Infrastructure.Jobs;

public static class JobsInfrastructure
{
    /// <summary>The transport chosen by Jobs:Transport, the after-commit signal and the claim SQL.</summary>
    public static IServiceCollection AddJobsInfrastructure(this IServiceCollection services)
    {
        services.AddSettings<JobTransportOptions>(JobTransportOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.RabbitMq.Url) && configuration["RABBITMQ_URL"] is { Length: > 0 } url)
                {
                    options.RabbitMq.Url = url;
                }
            });

        services.AddSingleton<InProcessJobTransport>();
        services.AddSingleton<RabbitMqJobTransport>();
        services.AddSingleton<IJobTransport>(provider =>
            provider.GetRequiredService<IOptions<JobTransportOptions>>().Value.UsesRabbitMq
                ? provider.GetRequiredService<RabbitMqJobTransport>()
                : provider.GetRequiredService<InProcessJobTransport>());
        services.AddSingleton<RabbitMqConnection>();
        // Idle unless the transport is RabbitMq; registered before the runner, so it stops after it.
        services.AddHostedService<RabbitMqJobService>();
        services.AddSingleton<RabbitMqHealthCheck>();
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<JobTransportOptions>>((health, transport) =>
        {
            if (transport.Value.UsesRabbitMq)
            {
                health.Registrations.Add(new HealthCheckRegistration(
                    "rabbitmq", provider => provider.GetRequiredService<RabbitMqHealthCheck>(), HealthStatus.Unhealthy, [HealthEndpoints.Ready]));
            }
        });

        services.AddSingleton<OutboxSignalInterceptor>();
        services.AddSingleton<IInterceptor>(provider => provider.GetRequiredService<OutboxSignalInterceptor>());
        services.AddScoped<IJobStore, JobStore>();
        return services;
    }
}
