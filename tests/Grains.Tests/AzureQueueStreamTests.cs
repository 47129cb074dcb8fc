using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Silo;
using OrderFlow.Statistics;
using OrderFlow.Testing;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// With <c>Streams:Provider=AzureQueue</c>, order events travel through Azure Storage queues
/// (Azurite's queue service here) to the statistics projections.
/// </summary>
public sealed class AzureQueueStreamTests(AzuriteFixture tables)
{
    [Fact]
    public async Task Events_published_through_azure_queues_reach_the_statistics()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var queues = await Azurite.StartQueuesAsync(ct);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:" + OrderFlowSiloExtensions.TablesConnectionName] = tables.ConnectionString,
                ["ConnectionStrings:Queues"] = queues.ConnectionString,
                [OrderFlowSiloExtensions.StreamsProviderKey] = "AzureQueue",
                ["EventStore:TableName"] = TableNames.Unique("queued"),
                ["Statistics:TableName"] = TableNames.Unique("queuedstats"),
                ["Dashboard:Enabled"] = "false",
            })
            .Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddOrderFlow(configuration));
        await using var cluster = builder.Build();
        await cluster.DeployAsync(ct);

        var at = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
        var order = cluster.Client.GetGrain<IOrderGrain>("queued-1");
        var placed = await order.Execute(new PlaceOrder("queued-1", "queue-customer", "EUR", [new OrderLineRequest("Q-1", 2, 7.5m)], at), new());
        Assert.Null(placed.Error);
        Assert.Null((await order.Execute(new PayOrder("pay-q", 15m, "card", at.AddMinutes(3)), new())).Error);

        var statistics = cluster.Client.GetGrain<IStatisticsGrain>(0);
        SummaryReport summary;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(250, ct);
            summary = await statistics.Summary(at, at.AddHours(1));
        }
        while (summary.Orders["paid"] == 0 && DateTime.UtcNow < deadline);

        Assert.Equal(1, summary.Orders["placed"]);
        Assert.Equal(1, summary.Orders["paid"]);
        Assert.Equal(15m, summary.Revenue);
        Assert.Equal(180, summary.Latency["placedToPaid"].P50!.Value, 0.1);
        Assert.Equal(15m, (await statistics.Customer("queue-customer"))?.Spend);

        // They really went through the queues.
        var names = new List<string>();
        await foreach (var queue in new Azure.Storage.Queues.QueueServiceClient(queues.ConnectionString).GetQueuesAsync(cancellationToken: ct))
        {
            names.Add(queue.Name);
        }

        Assert.Contains("orderflow-events-0", names);
    }
}
