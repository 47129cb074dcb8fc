using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

public sealed class OrderLifecycleTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task WholeLifecycleEndsRefundedWithEveryEventInTheLog()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var t0 = Ago(TimeSpan.FromHours(2));
        var at = Enumerable.Range(0, 6).Select(i => t0.AddMinutes(10 * i)).ToArray();
        var correlations = Enumerable.Range(1, 6).Select(i => $"corr-{id}-{i}").ToArray();

        var placed = await grain.Succeeds(Place(id, at[0]), new CommandMetadata(correlations[0], "request-1"));
        Assert.Equal(id, placed.OrderId);
        Assert.Equal("customer-1", placed.CustomerId);
        Assert.Equal("EUR", placed.Currency);
        Assert.Equal(OrderStatus.Placed, placed.Status);
        Assert.Equal([new OrderLine("sku-a", 2, 10.50m), new OrderLine("sku-b", 1, 3.25m)], placed.Items);
        Assert.Equal(Items.Sum(i => i.Quantity!.Value * i.UnitPrice!.Value), placed.Total);
        Assert.Equal(Total, placed.Total);
        Assert.Equal(0m, placed.Paid);
        Assert.Equal(0m, placed.Refunded);
        Assert.Equal(1, placed.Version);
        Assert.Equal(at[0], placed.PlacedAt);
        Assert.Equal(at[0], placed.UpdatedAt);

        var paid = await grain.Succeeds(Pay("pay-1", Total, at[1]), new CommandMetadata(correlations[1]));
        Assert.Equal((OrderStatus.Paid, Total, 0m, 2, at[0], at[1]), (paid.Status, paid.Paid, paid.Refunded, paid.Version, paid.PlacedAt, paid.UpdatedAt));

        var shipped = await grain.Succeeds(Ship(at[2]), new CommandMetadata(correlations[2]));
        Assert.Equal((OrderStatus.Shipped, 3, at[2]), (shipped.Status, shipped.Version, shipped.UpdatedAt));

        var delivered = await grain.Succeeds(Deliver(at[3]), new CommandMetadata(correlations[3]));
        Assert.Equal((OrderStatus.Delivered, 4, at[3]), (delivered.Status, delivered.Version, delivered.UpdatedAt));

        var partly = await grain.Succeeds(Refund("refund-1", 10m, at[4]), new CommandMetadata(correlations[4]));
        Assert.Equal((OrderStatus.Delivered, Total, 10m, 5, at[4]), (partly.Status, partly.Paid, partly.Refunded, partly.Version, partly.UpdatedAt));

        var refunded = await grain.Succeeds(Refund("refund-2", Total - 10m, at[5]), new CommandMetadata(correlations[5]));
        Assert.Equal(OrderStatus.Refunded, refunded.Status);
        Assert.Equal(Total, refunded.Total);
        Assert.Equal(Total, refunded.Paid);
        Assert.Equal(Total, refunded.Refunded);
        Assert.Equal(6, refunded.Version);
        Assert.Equal(at[0], refunded.PlacedAt);
        Assert.Equal(at[5], refunded.UpdatedAt);
        SameView(refunded, await grain.Get());

        // The log through the grain: versions 1..6, types, event times, correlation ids.
        var page = Assert.IsType<EventPage>(await grain.GetEvents(1, 100));
        Assert.Null(page.NextFromVersion);
        Assert.Equal([1, 2, 3, 4, 5, 6], page.Events.Select(e => e.Version));
        Assert.Equal(
            ["OrderPlaced", "OrderPaid", "OrderShipped", "OrderDelivered", "OrderRefunded", "OrderRefunded"],
            page.Events.Select(e => e.Type));
        Assert.Equal(at, page.Events.Select(e => e.OccurredAt));
        Assert.Equal(correlations, page.Events.Select(e => e.CorrelationId));
        Assert.Equal("request-1", page.Events[0].CausationId);
        Assert.Equal([2, 1, 1, 1, 1, 1], page.Events.Select(e => e.SchemaVersion));
        Assert.Equal(6, page.Events.Select(e => e.EventId).Distinct().Count());
        Assert.DoesNotContain(Guid.Empty, page.Events.Select(e => e.EventId));

        var placedEvent = Assert.IsType<OrderPlaced>(OrderEventSerializer.Deserialize(page.Events[0].Type, page.Events[0].SchemaVersion, page.Events[0].Data));
        Assert.Equal((id, "customer-1", "EUR", Total), (placedEvent.OrderId, placedEvent.CustomerId, placedEvent.Currency, placedEvent.Total));
        var lastRefund = Assert.IsType<OrderRefunded>(OrderEventSerializer.Deserialize(page.Events[5].Type, page.Events[5].SchemaVersion, page.Events[5].Data));
        Assert.Equal(("refund-2", Total - 10m), (lastRefund.RefundId, lastRefund.Amount));

        // The same log as stored, read independently of the grain.
        var stored = await cluster.EventsAsync(id, ct);
        Assert.Equal(page.Events.Select(e => (e.Version, e.EventId, e.Type)), stored.Select(e => (e.Version, e.EventId, e.Type)));

        // Paging.
        var first = Assert.IsType<EventPage>(await grain.GetEvents(1, 4));
        Assert.Equal([1, 2, 3, 4], first.Events.Select(e => e.Version));
        Assert.Equal(5, first.NextFromVersion);
        var second = Assert.IsType<EventPage>(await grain.GetEvents(first.NextFromVersion!.Value, 4));
        Assert.Equal([5, 6], second.Events.Select(e => e.Version));
        Assert.Null(second.NextFromVersion);
        var exact = Assert.IsType<EventPage>(await grain.GetEvents(1, 6));
        Assert.Equal(6, exact.Events.Count);
        Assert.Null(exact.NextFromVersion);
        var middle = Assert.IsType<EventPage>(await grain.GetEvents(3, 2));
        Assert.Equal([3, 4], middle.Events.Select(e => e.Version));
        Assert.Equal(5, middle.NextFromVersion);
        var beyond = Assert.IsType<EventPage>(await grain.GetEvents(7, 10));
        Assert.Empty(beyond.Events);
        Assert.Null(beyond.NextFromVersion);
    }

    [Fact]
    public async Task DefaultEventTimeIsTheServersClock()
    {
        var id = NewOrderId();
        var before = DateTimeOffset.UtcNow.AddMilliseconds(-1);
        var placed = await cluster.Grain(id).Succeeds(Place(id));
        var after = DateTimeOffset.UtcNow;

        Assert.InRange(placed.PlacedAt, before, after);
        Assert.Equal(placed.PlacedAt, placed.UpdatedAt);
        Assert.Equal(TimeSpan.Zero, placed.PlacedAt.Offset);
        Assert.Equal(0, placed.PlacedAt.Ticks % TimeSpan.TicksPerMillisecond);
    }

    [Fact]
    public async Task UnknownOrderReadsAsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);

        Assert.Null(await grain.Get());
        Assert.Null(await grain.GetEvents(1, 10));
        Assert.Null(await grain.GetAtVersion(1));
        Assert.Null(await grain.GetAsOf(DateTimeOffset.UtcNow));
        Assert.Empty(await cluster.RowsAsync(id, ct));
    }

    [Fact]
    public async Task PlacingANewOrderCostsItsAnnouncementAndOneAppend()
    {
        var requests = Assert.IsType<RequestCounter>(cluster.Requests);

        // Warm up: the silo creates the tables (once per process) and opens a connection.
        var warmUp = NewOrderId();
        await cluster.Grain(warmUp).Succeeds(Place(warmUp));

        var id = NewOrderId();
        var minute = DateTime.UtcNow.Minute;
        requests.Reset();
        await cluster.Grain(id).Succeeds(Place(id));

        // The change-index row, then the append: no read. The reconciliation's timer queries the
        // change index on its own schedule, whatever the grain does: its queries are left out; so
        // are the statistics, whose grains read and write their own table as the events reach them.
        List<string> GrainRequests() => [.. requests.SentTo(cluster.TableName, cluster.TableName + "changes")
            .Where(r => !(r.StartsWith("GET ", StringComparison.Ordinal) && r.EndsWith(cluster.TableName + "changes()", StringComparison.Ordinal)))];
        var sent = GrainRequests();
        Assert.True(sent.Count == 2, "A placement sent: " + string.Join(", ", sent));
        Assert.Contains(cluster.TableName + "changes(", sent[0], StringComparison.Ordinal);
        Assert.EndsWith("$batch", sent[1], StringComparison.Ordinal);

        // The next command of the same activation within the same change bucket (a minute) is one append.
        requests.Reset();
        await cluster.Grain(id).Succeeds(Pay());
        if (DateTime.UtcNow.Minute == minute)
        {
            sent = GrainRequests();
            Assert.True(sent.Count == 1, "A payment sent: " + string.Join(", ", sent));
            Assert.EndsWith("$batch", sent[0], StringComparison.Ordinal);
        }

        // With an Idempotency-Key too: the record goes in with the events, and its insert is the
        // check that the key is new (it read the record first before 2026-12-02).
        requests.Reset();
        await cluster.Grain(id).Succeeds(Ship(), new CommandMetadata(IdempotencyKey: "key-ship"));
        if (DateTime.UtcNow.Minute == minute)
        {
            sent = GrainRequests();
            Assert.True(sent.Count == 1, "A shipment with an Idempotency-Key sent: " + string.Join(", ", sent));
            Assert.EndsWith("$batch", sent[0], StringComparison.Ordinal);
        }
    }
}
