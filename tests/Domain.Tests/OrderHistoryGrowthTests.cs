using System.Globalization;
using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;

namespace OrderFlow.Domain.Tests;

/// <summary>What must not grow with an order's history: its snapshot, and the work of a command.</summary>
public sealed class OrderHistoryGrowthTests
{
    /// <summary>Refund ids of the longest length the API accepts: the worst case for a snapshot that held them.</summary>
    private static string RefundId(int i) => i.ToString(CultureInfo.InvariantCulture).PadLeft(Identifiers.MaxLength, 'r');

    private static OrderBuilder DeliveredWithRefunds(int refunds)
    {
        var order = new OrderBuilder().Delivered(unitPrice: 1_000_000m, quantity: 1);
        for (var i = 0; i < refunds; i++)
        {
            Assert.Empty(order.Send(new RefundOrder(RefundId(i), 0.01m, "part")).Events.Where(e => e is not OrderRefunded));
        }

        return order;
    }

    private static int SnapshotBytes(OrderState state)
    {
        var entity = new TableEntity(KeyEncoding.Encode(OrderBuilder.OrderId), KeyEncoding.SnapshotRowKey(1));
        ChunkedPayload.Write(entity, OrderEventSerializer.SerializeState(state));
        return EntitySize.Of(entity);
    }

    [Fact]
    public void A_snapshot_stays_the_same_size_however_many_refunds_the_order_has()
    {
        var few = SnapshotBytes(DeliveredWithRefunds(10).State);

        // 40,000 refunds of 64-character ids: some 5 MiB as refund id → amount, five times the row limit.
        var many = DeliveredWithRefunds(40_000);

        Assert.Equal(400m, many.State.Refunded);
        Assert.InRange(SnapshotBytes(many.State), few, few + 16); // only the refunded total's digits may differ
        Assert.True(few < TableLimits.MaxEntityBytes / 100);

        // Refund ids stay exact: the order's refund rows recognise the first and the last.
        Assert.True(many.Send(new RefundOrder(RefundId(0), 0.01m, "part")).AlreadyApplied);
        Assert.Equal(CommandErrorCode.Unprocessable, many.Send(new RefundOrder(RefundId(39_999), 0.02m, "part")).Error?.Code);
    }

    [Fact]
    public void A_snapshot_written_before_refund_rows_loads_and_keeps_its_refund_ids()
    {
        var order = DeliveredWithRefunds(3);
        var earlier = OrderEventSerializer.SerializeState(order.State).Replace("\"refunds\":{}", "\"refunds\":{\"" + RefundId(0) + "\":0.01,\"" + RefundId(1) + "\":0.01,\"" + RefundId(2) + "\":0.01}", StringComparison.Ordinal);
        Assert.Contains(RefundId(2), earlier, StringComparison.Ordinal); // the shape a snapshot of schema 1 has
        var refundAfter = new OrderRefunded(order.State.UpdatedAt, RefundId(3), 0.01m, "part");

        var state = OrderState.Fold(new StreamSlice(
            new Snapshot(7, OrderEventSerializer.SnapshotType, 1, order.State.UpdatedAt, earlier),
            [Stored(8, refundAfter)]));

        // Neither the snapshot's refunds nor those after it have rows: the state knows them itself.
        Assert.Equal([RefundId(0), RefundId(1), RefundId(2), RefundId(3)], state.RefundsWithoutRows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.04m, state.Refunded);
        Assert.True(OrderDecider.Decide(state, OrderBuilder.OrderId, new RefundOrder(RefundId(3), 0.01m, "part"), order.Now).AlreadyApplied);
        Assert.True(OrderDecider.Decide(state, OrderBuilder.OrderId, new RefundOrder(RefundId(1), 0.01m, "part"), order.Now).AlreadyApplied);

        // After a snapshot of this build's schema, refunds have rows and the state does not hold them.
        var current = OrderState.Fold(new StreamSlice(
            new Snapshot(7, OrderEventSerializer.SnapshotType, OrderEventSerializer.SnapshotSchemaVersion, order.State.UpdatedAt, OrderEventSerializer.SerializeState(order.State)),
            [Stored(8, refundAfter)]));
        Assert.Empty(current.RefundsWithoutRows);
        Assert.Equal(0.04m, current.Refunded);
    }

    [Fact]
    public void Building_envelopes_allocates_the_same_whatever_the_order_history()
    {
        var order = DeliveredWithRefunds(1);
        var refund = new OrderRefunded(order.State.UpdatedAt, "next", 0.01m, "part");
        var withHistory = order.State.Copy();
        withHistory.RefundsWithoutRows = Enumerable.Range(0, 50_000).ToDictionary(RefundId, _ => 0.01m);

        var small = AllocatedBy(() => OrderEventEnvelopes.Build(order.State, [refund], 6, [Guid.NewGuid()]));
        var large = AllocatedBy(() => OrderEventEnvelopes.Build(withHistory, [refund], 6, [Guid.NewGuid()]));

        Assert.InRange(large, 0, small + 1024);
        Assert.Empty(order.State.RefundsWithoutRows); // building folds a copy, never the state it was given
        Assert.Equal(0.01m, order.State.Refunded);
    }

    private static long AllocatedBy(Action action)
    {
        action(); // first call: JIT and static initialisation
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static StoredEvent Stored(int version, OrderEvent @event) => new(
        version, Guid.NewGuid(), OrderEventSerializer.TypeName(@event), OrderEventSerializer.SchemaVersionOf(@event), @event.OccurredAt, @event.OccurredAt, null, null, OrderEventSerializer.Serialize(@event));
}
