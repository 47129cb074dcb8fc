using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

public sealed class OrderCancellationTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task CancellingAPlacedOrderWritesOneEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id));

        var cancelled = await grain.Succeeds(Cancel(), new CommandMetadata("corr-cancel", "req-cancel"));

        Assert.Equal(OrderStatus.Cancelled, cancelled.Status);
        Assert.Equal(2, cancelled.Version);
        Assert.Equal(0m, cancelled.Paid);
        Assert.Equal(0m, cancelled.Refunded);

        var events = await cluster.EventsAsync(id, ct);
        Assert.Equal(["OrderPlaced", "OrderCancelled"], events.Select(e => e.Type));
        Assert.Equal(("corr-cancel", "req-cancel"), (events[1].CorrelationId, events[1].CausationId));
        var cancellation = Assert.IsType<OrderCancelled>(OrderEventSerializer.Deserialize(events[1].Type, events[1].SchemaVersion, events[1].Data));
        Assert.Equal("changed my mind", cancellation.Reason);
        SameView(cancelled, await grain.Get());
    }

    [Fact]
    public async Task CancellingAPaidOrderRefundsItInFullInTheSameCommand()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var paid = await grain.SucceedAll(Place(id), Pay());
        Assert.Equal(2, paid.Version);

        var cancelled = await grain.Succeeds(Cancel(), new CommandMetadata("corr-cancel", "req-cancel"));

        Assert.Equal(OrderStatus.Cancelled, cancelled.Status);
        Assert.Equal(4, cancelled.Version);
        Assert.Equal(Total, cancelled.Paid);
        Assert.Equal(Total, cancelled.Refunded);

        var page = Assert.IsType<EventPage>(await grain.GetEvents(3, 10));
        Assert.Equal([3, 4], page.Events.Select(e => e.Version));
        Assert.Equal(["OrderCancelled", "OrderRefunded"], page.Events.Select(e => e.Type));
        var (cancellationEvent, refundEvent) = (page.Events[0], page.Events[1]);
        Assert.Equal("corr-cancel", cancellationEvent.CorrelationId);
        Assert.Equal("corr-cancel", refundEvent.CorrelationId);
        Assert.Equal("req-cancel", cancellationEvent.CausationId);
        Assert.Equal(cancellationEvent.EventId.ToString(), refundEvent.CausationId);
        Assert.Equal(cancellationEvent.OccurredAt, refundEvent.OccurredAt);
        Assert.Equal(cancellationEvent.RecordedAt, refundEvent.RecordedAt); // one transaction

        var refund = Assert.IsType<OrderRefunded>(OrderEventSerializer.Deserialize(refundEvent.Type, refundEvent.SchemaVersion, refundEvent.Data));
        Assert.Equal(paid.Paid, refund.Amount);
        Assert.Equal(OrderDecider.CancellationRefundId, refund.RefundId);

        // The state before the cancellation's refund never existed on its own: version 3 is cancelled, not yet refunded.
        var atThree = Assert.IsType<OrderView>(await grain.GetAtVersion(3));
        Assert.Equal((OrderStatus.Cancelled, 0m), (atThree.Status, atThree.Refunded));

        Assert.Equal(4, (await cluster.EventsAsync(id, ct)).Count);
        await cluster.DeactivateAsync(id);
        SameView(cancelled, await grain.Get());
    }
}
