using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Emporium.Features.Jobs;

public static class JobsFeature
{
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<JobsOptions>(JobsOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddScoped<IJobQueue, JobQueue>();
        builder.Services.AddScoped<JobOutcomes>();
        builder.Services.AddJobHandler<SleepJobHandler>(SleepJobHandler.KindName);
        // Registered in every process; it returns at once unless Emporium:Role includes the worker.
        builder.Services.AddHostedService<JobRunner>();
        builder.Services.AddHostedService<JobQueueMetrics>();
        builder.Services.AddSettings<Workers.WorkersOptions>(Workers.WorkersOptions.Section);
        builder.Services.AddSingleton<Workers.WorkerActivity>();
        builder.Services.AddHostedService<Workers.WorkerRegistry>();
        builder.Services.AddSingleton<JobRetention>();
        builder.Services.AddHostedService(services => services.GetRequiredService<JobRetention>());
        return builder;
    }
}
