using OrderFlow.Grains.Projections;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Statistics.Tests.Infrastructure;
using OrderFlow.Testing;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// The average order value is money shown to the cent: a half cent rounds away from zero, as in
/// commerce (and a spreadsheet's ROUND), not to the even cent.
/// </summary>
public sealed class AverageOrderValueTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_half_cent_of_average_rounds_up()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await StatsCluster.StartAsync(azurite.ConnectionString, ClusterTables.Unique("averagevalue"), ct, LiveBatchTests.Settings);
        var generation = await cluster.Client.GetGrain<IProjectionControl>(0).Active();

        // 10.00 + 10.25 over two payments: 10.125, which rounding to the even cent made 10.12.
        await ProjectionRegistry.DeliverAsync(cluster.Client,
            [LiveBatchTests.Paid("average-a", "c") with { Amount = 10.00m }, LiveBatchTests.Paid("average-b", "c") with { Amount = 10.25m }], [generation]);

        var summary = await cluster.Reader.Summary(null, null, ct);
        Assert.Equal(20.25m, summary.Revenue);
        Assert.Equal(10.13m, summary.AverageOrderValue);
        Assert.Equal(10.13m, summary.ByCurrency["EUR"].AverageOrderValue);
    }
}
