using Emporium.Tests.Infrastructure;

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
        var line = await RealBinary.RefusesToStartAsync(named, arguments);
        line.Should().NotContain("secret-password", "a broker URL's password is never printed");
    }
}
