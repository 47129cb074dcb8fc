using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrderFlow.Silo;
using OrderFlow.Streams;

namespace OrderFlow.Testing.Hosts;

/// <summary>
/// In-process Orleans clusters whose silos are configured exactly as a real silo is
/// (<see cref="OrderFlowSiloExtensions.AddOrderFlow"/>), by settings only; the one way tests build them.
/// </summary>
public static class TestClusters
{
    /// <summary>The settings every test cluster starts from: the tables' storage, its event table, no dashboard.</summary>
    public static Dictionary<string, string?> Settings(string connectionString, string eventsTable) => new()
    {
        ["ConnectionStrings:" + OrderFlowSiloExtensions.TablesConnectionName] = connectionString,
        ["EventStore:TableName"] = eventsTable,
        ["Dashboard:Enabled"] = "false",
    };

    /// <summary>Starts <paramref name="silos"/> silos (and a client) configured by <paramref name="settings"/>.</summary>
    /// <param name="serviceId">Orleans' service id; projection state is keyed by it, so a restarted deployment passes the same one.</param>
    /// <param name="replaceServices">Runs before the product's registrations: what it registers replaces the product's defaults (which are TryAdd).</param>
    /// <param name="configureSilo">Runs after the product's registrations, e.g. a grain call filter that injects faults.</param>
    public static async Task<InProcessTestCluster> StartAsync(
        IReadOnlyDictionary<string, string?> settings,
        CancellationToken cancellationToken,
        int silos = 1,
        string? serviceId = null,
        Action<IServiceCollection>? replaceServices = null,
        Action<ISiloBuilder>? configureSilo = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.ConfigureSilo((_, silo) =>
        {
            replaceServices?.Invoke(silo.Services);
            silo.AddOrderFlow(configuration);
            configureSilo?.Invoke(silo);
        });

        // With memory streams the client can publish onto the order-event stream as the silos do.
        if (configuration[OrderFlowSiloExtensions.StreamsProviderKey] is null or "Memory")
        {
            builder.ConfigureClient(client => client.AddMemoryStreams(OrderEventStreams.ProviderName));
        }

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(cancellationToken);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }
}
