using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using OrderFlow.Cluster.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Cluster.Tests;

/// <summary>What run.sh does about its data folder and its terminal: nothing it acknowledged is lost, and nothing it started is left behind.</summary>
[Collection(LocalClusterCollection.Name)]
public sealed class RunShLifetimeTests(LocalCluster cluster)
{
    /// <summary>
    /// Found by an audit: a second run.sh on other ports with the running one's DATA_DIR started a
    /// second Azurite on the same files; each saves its whole database over the other's, and an
    /// order one of them acknowledged was gone after a restart. It is refused before it starts anything.
    /// </summary>
    [Fact]
    public async Task A_second_run_on_the_data_folder_of_a_running_one_is_refused()
    {
        var azurite = cluster.PidOf("azurite");
        var api = cluster.PidOf("api");

        var result = await cluster.RunOnOtherPortsToEndAsync("--no-build");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is in use: another ./run.sh keeps its data there", result.Output, StringComparison.Ordinal);
        Assert.Equal(azurite, cluster.PidOf("azurite"));
        Assert.True(cluster.IsAlive("azurite"));
        Assert.Equal(api, cluster.PidOf("api"));
        Assert.True(cluster.IsAlive("api"));
        // Still serving: asked until ready, as one probe may miss its check's budget on a busy machine.
        await LocalCluster.WaitUntilAsync("the API still answering /health/ready", TimeSpan.FromSeconds(30), async () =>
        {
            using var ready = await cluster.Http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
            return ready.IsSuccessStatusCode;
        });
    }

    /// <summary>
    /// Found by an audit: closing the terminal that ran run.sh (SIGHUP) left Azurite running on its
    /// ports: the cleanup's first message to the closed terminal failed, and under <c>set -e</c> that
    /// ended the cleanup. The terminal here is <c>script</c>'s; killing it closes it.
    /// </summary>
    [Fact]
    public async Task Closing_the_terminal_stops_everything_run_sh_started()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDir = Directory.CreateTempSubdirectory("orderflow-terminal-").FullName;
        var settings = LocalCluster.OwnPorts(dataDir);
        var start = new ProcessStartInfo("script") { WorkingDirectory = RepositoryRoot.Path, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { "-qec", "./run.sh --no-build", "/dev/null" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var terminal = Process.Start(start) ?? throw new InvalidOperationException("script did not start.");
        int azurite = 0;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(settings["ASPNETCORE_URLS"]), Timeout = TimeSpan.FromSeconds(5) };
            await LocalCluster.WaitUntilAsync("the API answering /health/live", TimeSpan.FromMinutes(3), async () =>
            {
                Assert.False(terminal.HasExited, $"run.sh ended with status {(terminal.HasExited ? terminal.ExitCode : 0)}");
                try
                {
                    using var live = await http.GetAsync("/health/live", ct);
                    return live.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested)
                {
                    return false;
                }
            });
            azurite = int.Parse(File.ReadAllText(Path.Combine(dataDir, "pids", "azurite.pid")).Trim(), CultureInfo.InvariantCulture);

            terminal.Kill(); // the terminal closes: run.sh, in its session, gets SIGHUP

            await LocalCluster.WaitUntilAsync("Azurite to stop", TimeSpan.FromSeconds(60), () => Task.FromResult(!LocalCluster.IsAlive(azurite)));
            Assert.False(Listens(int.Parse(settings["AZURITE_TABLE_PORT"], CultureInfo.InvariantCulture)), "Azurite's table port still listens.");
        }
        finally
        {
            if (azurite != 0 && LocalCluster.IsAlive(azurite))
            {
                Process.GetProcessById(azurite).Kill(entireProcessTree: true);
            }

            if (!terminal.HasExited)
            {
                terminal.Kill(entireProcessTree: true);
            }
        }
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
