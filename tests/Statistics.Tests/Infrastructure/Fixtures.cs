using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests.Infrastructure;

/// <summary>One statistics cluster per test class, on the assembly's Azurite, with its own tables.</summary>
public sealed class StatsClusterFixture(AzuriteFixture azurite) : IAsyncLifetime
{
    private StatsCluster? cluster;

    public StatsCluster Cluster => cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public async ValueTask InitializeAsync() =>
        cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("sp"), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}

/// <summary>Times shared by the scenarios: whole UTC days in the past, so that every event time is allowed.</summary>
public static class TestClock
{
    /// <summary>Midnight (UTC) three days ago: scenarios spread their events over the three days after it.</summary>
    public static DateTimeOffset Day0 => new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-3);
}
