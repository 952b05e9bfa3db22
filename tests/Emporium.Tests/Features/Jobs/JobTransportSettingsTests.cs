using System.Diagnostics;

namespace Emporium.Tests.Features.Jobs;

public sealed class JobTransportSettingsTests
{
    [Theory]
    [InlineData(new[] { "--Jobs:Transport=Kafka" }, "Jobs:Transport")]
    [InlineData(new[] { "--Jobs:Transport=RabbitMq" }, "Jobs:RabbitMq:Url (or RABBITMQ_URL) is required")]
    [InlineData(new[] { "--Jobs:Transport=RabbitMq", "--RABBITMQ_URL=http://guest:secret-password@localhost/" }, "Jobs:RabbitMq:Url (or RABBITMQ_URL) must look like amqp://")]
    [InlineData(new[] { "--Jobs:Transport=RabbitMq", "--Jobs:RabbitMq:Url=amqp://localhost/", "--Jobs:RabbitMq:SweepInterval=00:00:00" }, "Jobs:RabbitMq:SweepInterval")]
    [InlineData(new[] { "--Jobs:Transport=RabbitMq", "--Jobs:RabbitMq:Url=amqp://localhost/", "--Jobs:RabbitMq:Queue=amq.jobs" }, "Jobs:RabbitMq:Queue")]
    public async Task A_wrong_transport_setting_stops_the_service_with_one_line_naming_it(string[] arguments, string named)
    {
        var data = Directory.CreateTempSubdirectory("emporium-transport-settings-");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Emporium.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add($"--Emporium:DataDirectory={data.FullName}");
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        start.Environment.Remove("DATABASE_URL");
        start.Environment.Remove("RABBITMQ_URL");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        data.Delete(recursive: true);

        process.ExitCode.Should().Be(2, "stdout: {0}", await stdout);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle().Which.Should().StartWith("Emporium cannot start: invalid setting:").And.Contain(named)
            .And.NotContain("secret-password", "a broker URL's password is never printed");
    }
}
