using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OrderFlow.Silo;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Cluster;

/// <summary>
/// A standalone silo in this process, built by <see cref="SiloApplication.Build"/> exactly as the
/// <c>Silo</c> program builds it, on free ports, configured only by settings.
/// </summary>
public sealed class TableClusterSilo : IAsyncDisposable
{
    private readonly IHost host;

    private TableClusterSilo(IHost host, int siloPort, FakeLogCollector log)
    {
        this.host = host;
        SiloPort = siloPort;
        Log = log;
    }

    public int SiloPort { get; }

    /// <summary>Warnings and errors the silo logged.</summary>
    public FakeLogCollector Log { get; }

    /// <summary>The silo's own grain factory: calls made through it start in this silo.</summary>
    public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// Settings of a cluster of its own on the assembly's Azurite: table clustering in a membership
    /// table and under a cluster id no other test uses, advertised on loopback, with its own event and
    /// statistics tables (<paramref name="name"/> starts each name).
    /// </summary>
    public static Dictionary<string, string?> OwnClusterSettings(string name) => new()
    {
        ["Orleans:Clustering"] = "AzureTable",
        ["Orleans:ClusteringTable"] = TableNames.Unique(name + "members"),
        ["Orleans:ClusterId"] = name + "-" + Guid.NewGuid().ToString("N")[..12],
        ["Orleans:AdvertisedAddress"] = "127.0.0.1",
        ["EventStore:TableName"] = TableNames.Unique(name + "ev"),
        ["Statistics:TableName"] = TableNames.Unique(name + "st"),
    };

    public static Task<TableClusterSilo> StartAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken) =>
        PortRetry.StartAsync(() => StartOnFreePortsAsync(settings, cancellationToken));

    private static async Task<TableClusterSilo> StartOnFreePortsAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var siloPort = Azurite.FreePort();
        var all = new Dictionary<string, string?>(settings)
        {
            ["Orleans:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = Azurite.FreePort().ToString(CultureInfo.InvariantCulture),
        };
        var log = LogCapture.WarningsAndErrors();
        var host = SiloApplication.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            builder.Logging.ClearProviders();
            builder.Logging.AddCapture(log);
        });
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TableClusterSilo(host, siloPort, log);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            host.Dispose();
        }
    }
}
