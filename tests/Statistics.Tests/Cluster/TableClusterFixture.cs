using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Cluster;

/// <summary>
/// README "Cluster mode" in one process: two standalone silos with Azure Table clustering on the
/// assembly's Azurite (their own membership table and cluster id), Azure Queue streams (the default
/// with table clustering) on an Azurite queue service of their own, and the API as an Orleans client.
/// </summary>
public sealed class TableClusterFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private Azurite? queues;
    private readonly List<TableClusterSilo> silos = [];
    private StatsApiHost? api;

    /// <summary>Settings shared by the silos and the API: storage, clustering, cluster identity, tables.</summary>
    public Dictionary<string, string?> Settings { get; } = new(TableClusterSilo.OwnClusterSettings("table"))
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Error",
    };

    public IReadOnlyList<TableClusterSilo> Silos => silos;

    public StatsApiHost Api => api ?? throw new InvalidOperationException("The API has not started.");

    public string TablesConnectionString => azurite.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        queues = await Azurite.StartQueuesAsync(ct);
        Settings["ConnectionStrings:Tables"] = azurite.ConnectionString;
        Settings["ConnectionStrings:Queues"] = queues.ConnectionString;
        silos.Add(await TableClusterSilo.StartAsync(Settings, ct));
        silos.Add(await TableClusterSilo.StartAsync(Settings, ct));
        api = await StatsApiHost.StartAsync(azurite.ConnectionString, ct, new Dictionary<string, string?>(Settings) { ["Orleans:ApiHost"] = "Client" });
    }

    public async ValueTask DisposeAsync()
    {
        if (api is not null)
        {
            await api.DisposeAsync();
        }

        foreach (var silo in silos)
        {
            await silo.DisposeAsync();
        }

        if (queues is not null)
        {
            await queues.DisposeAsync();
        }
    }
}
