using Emporium.Features;
using Emporium.Infrastructure;
using Emporium.Infrastructure.Persistence;

ConfigurationReload.PollInsteadOfWatching();
var builder = WebApplication.CreateBuilder(CommandLineSwitches.Expand(args));

builder.AddPlatform();
builder.AddInfrastructure();
builder.AddFeatures();

var app = builder.Build();

if (!app.SettingsAreValid() || app.TryRunSchemaScript())
{
    return;
}

await app.PrepareAsync(args);

app.UsePlatform();
app.MapPlatform();
app.MapFeatures();

await app.RunAsync();

/// <summary>Entry point, made public so tests can host the app with WebApplicationFactory.</summary>
public partial class Program;
