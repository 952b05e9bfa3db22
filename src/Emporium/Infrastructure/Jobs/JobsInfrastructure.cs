using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Emporium.Infrastructure.Jobs;

public static class JobsInfrastructure
{
    /// <summary>The in-process transport (the only one so far), the after-commit signal and the claim SQL.</summary>
    public static IServiceCollection AddJobsInfrastructure(this IServiceCollection services)
    {
        services.AddSingleton<IJobTransport, InProcessJobTransport>();
        services.AddSingleton<JobSignalInterceptor>();
        services.AddSingleton<IInterceptor>(provider => provider.GetRequiredService<JobSignalInterceptor>());
        services.AddScoped<JobStore>();
        return services;
    }
}
