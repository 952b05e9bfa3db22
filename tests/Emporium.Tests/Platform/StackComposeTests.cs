using System.Text.RegularExpressions;
using Emporium.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Emporium.Tests.Platform;

/// <summary>
/// deploy/compose.yaml (containers, which cannot run here) and scripts/stack (the same stack from Debian and npm packages,
/// which does) describe one production profile: the same services, the same variables, the same kept data.
/// </summary>
public sealed class StackComposeTests
{
    /// <summary>What scripts/stack starts for each compose service.</summary>
    private static readonly Dictionary<string, string> StackFor = new()
    {
        ["postgres"] = "start_postgres",
        ["rabbitmq"] = "start_rabbitmq",
        ["redis"] = "start_redis",
        ["minio"] = "start_s3rver", // an S3-compatible store: MinIO in containers, s3rver from npm here
        ["api"] = "start_process \"api-$i\" api",
        ["worker"] = "start_process \"worker-$i\" worker",
        ["proxy"] = "start_proxy",
    };

    /// <summary>Where scripts/lib/services.sh keeps each server's data, for the services whose data compose keeps in a volume.</summary>
    private static readonly Dictionary<string, string> DataFolderFor = new()
    {
        ["postgres"] = "$EMPORIUM_STACK_DIR/postgres",
        ["rabbitmq"] = "$EMPORIUM_STACK_DIR/rabbitmq",
        ["minio"] = "$EMPORIUM_STACK_DIR/s3rver",
    };

    private static string Read(string path) => File.ReadAllText(Path.Combine(Repository.Root, path));

    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(Read("deploy/compose.yaml")));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Services() => (YamlMappingNode)Compose()["services"];

    /// <summary>A service's environment, with a YAML merge key (<c>&lt;&lt;: *anchor</c>) resolved: its own keys win.</summary>
    private static Dictionary<string, string> Environment(string service)
    {
        var mapping = (YamlMappingNode)((YamlMappingNode)Services()[service])["environment"];
        var environment = new Dictionary<string, string>();
        if (mapping.Children.TryGetValue("<<", out var merged))
        {
            foreach (var (key, value) in ((YamlMappingNode)merged).Children)
            {
                environment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value ?? "";
            }
        }

        foreach (var (key, value) in mapping.Children.Where(pair => ((YamlScalarNode)pair.Key).Value != "<<"))
        {
            environment[((YamlScalarNode)key).Value!] = ((YamlScalarNode)value).Value ?? "";
        }

        return environment;
    }

    [Fact]
    public void Compose_runs_the_services_scripts_stack_starts_two_apis_behind_a_proxy_and_two_workers()
    {
        var stack = Read("scripts/stack");
        var services = Services().Children.Keys.Select(key => ((YamlScalarNode)key).Value!).ToList();
        services.Should().BeEquivalentTo(StackFor.Keys.Append("minio-bucket"), "minio-bucket only creates the bucket, which s3rver is started with");
        foreach (var (service, start) in StackFor)
        {
            stack.Should().Contain(start, "scripts/stack starts what compose's {0} service runs", service);
        }

        foreach (var role in new[] { "api", "worker" })
        {
            var deploy = (YamlMappingNode)((YamlMappingNode)Services()[role])["deploy"];
            ((YamlScalarNode)deploy["replicas"]).Value.Should().Be("2");
        }

        stack.Should().Contain("local apis=2 workers=2", "scripts/stack run starts two of each by default, as compose does");
        Read("deploy/nginx.conf").Should().Contain("server api:8080").And.Contain("proxy_buffering off");
        stack.Should().Contain("proxy_buffering off", "both proxies pass job progress streams through");
    }

    [Fact]
    public void Every_process_gets_the_variables_scripts_stack_gives_it_and_env_example_explains_every_secret()
    {
        var api = Environment("api");
        var worker = Environment("worker");
        worker.Where(pair => pair.Key != "Emporium__Role").Should().BeEquivalentTo(api.Where(pair => pair.Key != "Emporium__Role"),
            "workers get the API's settings (imports and image jobs write the catalog, the cache and the files too)");
        (api["Emporium__Role"], worker["Emporium__Role"]).Should().Be(("api", "worker"));

        var stack = Read("scripts/stack");
        var heredoc = stack[stack.IndexOf("cat >\"$env_file\" <<EOF", StringComparison.Ordinal)..];
        var exported = Regex.Matches(heredoc[..heredoc.IndexOf("\nEOF", StringComparison.Ordinal)], @"^export (\w+)=", RegexOptions.Multiline)
            .Select(match => match.Groups[1].Value).ToList();
        exported.Should().Contain(["DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "S3_ENDPOINT", "Auth__SigningKey"]);
        foreach (var name in exported.Where(name => name != "Emporium__DataDirectory"))
        {
            api.Should().ContainKey(name, "scripts/stack gives every process {0}, so compose must too", name);
        }

        Read("deploy/Dockerfile").Should().Contain("Emporium__DataDirectory=/data", "the image sets the data folder scripts/stack sets");
        var composeOnly = api.Keys.Except(exported).ToList();
        composeOnly.Should().OnlyContain(name => name == "Emporium__Role" || name.StartsWith("Email__", StringComparison.Ordinal)
            || name == "Media__BaseUrl" || name == "Host__ShutdownTimeout" || name == "OTEL_EXPORTER_OTLP_ENDPOINT",
            "anything else compose sets is missing from scripts/stack: {0}", string.Join(", ", composeOnly));

        var example = Read("deploy/.env.example");
        foreach (var variable in Regex.Matches(Read("deploy/compose.yaml"), @"\$\{(\w+)").Select(match => match.Groups[1].Value).Distinct())
        {
            example.Should().MatchRegex($"(?m)^#? ?{variable}=", "deploy/.env.example explains {0}, which compose reads", variable);
        }
    }

    [Fact]
    public void What_compose_keeps_in_volumes_scripts_stack_keeps_in_its_folder()
    {
        var volumes = ((YamlMappingNode)Compose()["volumes"]).Children.Keys.Select(key => ((YamlScalarNode)key).Value!).ToList();
        var services = new HashSet<string>();
        foreach (var (name, node) in Services().Children)
        {
            if (((YamlMappingNode)node).Children.TryGetValue("volumes", out var mounts)
                && ((YamlSequenceNode)mounts).Any(mount => volumes.Contains(((YamlScalarNode)mount).Value!.Split(':')[0])))
            {
                services.Add(((YamlScalarNode)name).Value!);
            }
        }

        services.Should().BeEquivalentTo(DataFolderFor.Keys);
        volumes.Should().HaveCount(DataFolderFor.Count);
        var servers = Read("scripts/lib/services.sh");
        foreach (var folder in DataFolderFor.Values)
        {
            servers.Should().Contain($"local dir=\"{folder}\"");
        }
    }
}
