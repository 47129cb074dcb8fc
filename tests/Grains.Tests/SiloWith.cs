using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using OrderFlow.Silo;

namespace OrderFlow.Grains.Tests;

/// <summary>A one-silo in-process cluster configured as a real silo is, with the given settings (and no dashboard).</summary>
internal static class SiloWith
{
    /// <param name="serviceId">The Orleans service id (a new one when null): a cluster started again with the same one finds its stream queues.</param>
    public static async Task<InProcessTestCluster> StartAsync(Dictionary<string, string?> settings, CancellationToken ct, string? serviceId = null)
    {
        settings["Dashboard:Enabled"] = "false";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.Options.ServiceId = serviceId ?? "silo-with-" + Guid.NewGuid().ToString("N")[..8];
        builder.ConfigureSilo((_, silo) => silo.AddOrderFlow(configuration));
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(ct);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }
}
