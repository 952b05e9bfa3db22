using System.Diagnostics;
using System.Net;
using Emporium.Features.Jobs;
using Emporium.Infrastructure.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Jobs;

/// <summary>Its own fixture: the test cuts this app's broker connection, which no other test should see.</summary>
public sealed class RabbitMqRecoveryTests(RabbitMqJobsApp app) : IClassFixture<RabbitMqJobsApp>
{
    [Fact]
    public async Task After_the_broker_closes_the_connection_the_service_reconnects_and_jobs_flow_again()
    {
        _ = app.Services;
        await RabbitMqTransportTests.WaitForConsumersAsync(app.Name, 1);
        var name = app.Services.GetRequiredService<RabbitMqConnection>().Name;

        var connections = await RabbitMqCtlAsync("list_connections", "--no-table-headers", "pid", "client_properties");
        var pid = connections.Split('\n').Where(line => line.Contains(name, StringComparison.Ordinal))
            .Select(line => line.Split('\t')[0].Trim()).Should().ContainSingle().Subject;
        await RabbitMqCtlAsync("close_connection", pid, "test: a network failure");

        // The consumer comes back (automatic recovery), and so does readiness.
        await Task.Delay(500);
        await RabbitMqTransportTests.WaitForConsumersAsync(app.Name, 1);
        var deadline = TestTime.Deadline(20);
        while ((await app.Anonymous().GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "readiness should recover with the connection");
            await Task.Delay(100);
        }

        var key = Guid.NewGuid().ToString("N");
        var id = await app.EnqueueAsync("test.flaky", new TestPayload(key));
        // The poll is ten minutes, so the recovered publisher and consumer carried it.
        await RabbitMqTransportTests.WaitForAsync(app, id, JobStatus.COMPLETED, seconds: 60);
        Executions.Of(key).Should().Be(1);
    }

    private static async Task<string> RabbitMqCtlAsync(params string[] arguments)
    {
        var ctl = Environment.GetEnvironmentVariable("EMPORIUM_TEST_RABBITMQCTL") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("EMPORIUM_TEST_RABBITMQCTL is not set: run the suite with scripts/test, which starts RabbitMQ for it.");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{ctl} -q \"$@\"");
        start.ArgumentList.Add("rabbitmqctl");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TestTime.Of(60));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, "rabbitmqctl {0}: {1}", string.Join(' ', arguments), await stderr);
        return await stdout;
    }
}
