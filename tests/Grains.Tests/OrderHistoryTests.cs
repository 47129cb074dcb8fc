using OrderFlow.Orders;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>The order as it stood at a version, or at an event time (inclusive), through snapshots or not.</summary>
public sealed class OrderHistoryTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private static readonly OrderStatus[] StatusAfter =
    [
        OrderStatus.Placed, OrderStatus.Paid, OrderStatus.Shipped, OrderStatus.Delivered,
        OrderStatus.Delivered, OrderStatus.Delivered, OrderStatus.Refunded,
    ];

    private readonly OrderCluster cluster = fixture.Cluster;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StateAtAVersion(bool freshActivation)
    {
        var (id, times, views) = await SevenEvents();
        var grain = cluster.Grain(id);
        if (freshActivation)
        {
            await cluster.DeactivateAsync(id);
        }

        for (var version = 1; version <= 7; version++)
        {
            var view = await grain.GetAtVersion(version);
            Assert.Equal(StatusAfter[version - 1], view?.Status);
            SameView(views[version - 1], view);
            Assert.Equal(times[version - 1], view!.UpdatedAt);
        }

        Assert.Null(await grain.GetAtVersion(0));
        Assert.Null(await grain.GetAtVersion(-1));
        Assert.Null(await grain.GetAtVersion(8));
        Assert.Null(await grain.GetAtVersion(int.MaxValue));
        Assert.Null(await cluster.Grain(NewOrderId()).GetAtVersion(1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StateAsOfATime(bool freshActivation)
    {
        var (id, times, views) = await SevenEvents();
        var grain = cluster.Grain(id);
        if (freshActivation)
        {
            await cluster.DeactivateAsync(id);
        }

        Assert.Null(await grain.GetAsOf(times[0].AddMilliseconds(-1)));
        Assert.Null(await grain.GetAsOf(times[0].AddDays(-30)));
        for (var version = 1; version <= 7; version++)
        {
            // At the event's own time (inclusive) and just before the next one.
            SameView(views[version - 1], await grain.GetAsOf(times[version - 1]));
            SameView(views[version - 1], await grain.GetAsOf(times[version - 1].AddMinutes(9)));
            Assert.Equal(StatusAfter[version - 1], (await grain.GetAsOf(times[version - 1].AddSeconds(1)))?.Status);
        }

        SameView(views[^1], await grain.GetAsOf(DateTimeOffset.UtcNow));
        SameView(views[^1], await grain.GetAsOf(DateTimeOffset.MaxValue));

        // Offsets are instants: the same moment written in another zone gives the same answer.
        SameView(views[2], await grain.GetAsOf(times[2].ToOffset(TimeSpan.FromHours(-5))));
        Assert.Null(await cluster.Grain(NewOrderId()).GetAsOf(DateTimeOffset.UtcNow));
    }

    /// <summary>Seven events ten minutes apart, in the past; snapshots at 3 and 6.</summary>
    private async Task<(string Id, DateTimeOffset[] Times, List<OrderView> Views)> SevenEvents()
    {
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var t0 = Ago(TimeSpan.FromHours(5));
        var times = Enumerable.Range(0, 7).Select(i => t0.AddMinutes(10 * i)).ToArray();
        var views = new List<OrderView>
        {
            await grain.Succeeds(Place(id, times[0])),
            await grain.Succeeds(Pay(at: times[1])),
            await grain.Succeeds(Ship(times[2])),
            await grain.Succeeds(Deliver(times[3])),
            await grain.Succeeds(Refund("refund-1", 1m, times[4])),
            await grain.Succeeds(Refund("refund-2", 2m, times[5])),
            await grain.Succeeds(Refund("refund-3", Total - 3m, times[6])),
        };
        Assert.Equal(StatusAfter, views.Select(v => v.Status));
        return (id, times, views);
    }
}
