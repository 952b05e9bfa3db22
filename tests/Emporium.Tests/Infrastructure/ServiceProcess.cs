using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Emporium.Tests.Infrastructure;

/// <summary>
/// The built service (Emporium.dll) as a real process serving HTTP on a free loopback port, started as a person starts it:
/// <see cref="StartAsync"/> returns once /health/ready answers 200. Disposing kills it.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public HttpClient Http { get; }

    public int ProcessId => _process.Id;

    /// <summary>Everything the process wrote so far, stdout and stderr.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="arguments">Command-line arguments after the listen address.</param>
    /// <param name="environment">Variables to set; a null value removes the variable (e.g. one the test runner set).</param>
    /// <param name="workingDirectory">The folder it starts in, which is its content root; the test's own by default.</param>
    public static async Task<ServiceProcess> StartAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, string? workingDirectory = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Emporium.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DATABASE_URL");
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var service = new ServiceProcess(Process.Start(start)!, port);
        service._process.OutputDataReceived += (_, line) => service.Append(line.Data);
        service._process.ErrorDataReceived += (_, line) => service.Append(line.Data);
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        try
        {
            await service.AwaitReadyAsync();
            return service;
        }
        catch
        {
            // A process that did not become ready is not left running.
            await service.DisposeAsync();
            throw;
        }
    }

    private async Task AwaitReadyAsync()
    {
        var deadline = TestTime.Deadline(60);
        while (true)
        {
            _process.HasExited.Should().BeFalse("the service should keep running: {0}", Output);
            try
            {
                if ((await Http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the service should become ready: {0}", Output);
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
