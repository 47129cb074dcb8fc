using System.Globalization;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>What an order stores and redoes must not grow with its history (snapshot interval 3 here).</summary>
public sealed class OrderHistoryCostTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task A_cold_load_of_an_order_whose_events_were_all_published_publishes_nothing_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay(), Cancel()); // versions 1–4: the cancellation appends two events

        // A load publishes again exactly the versions after the marker of the last row it reads.
        var slice = await cluster.Store.LoadLatestAsync(id, ct);
        Assert.Equal((4, 4), (slice.Version, slice.PublishedThrough));

        // An activation made by a cold load knows how far the order was published: its append's marker covers it too.
        var other = NewOrderId();
        await cluster.Grain(other).SucceedAll(Place(other), Pay());
        await cluster.DeactivateAsync(other);
        Assert.Equal(2, (await cluster.Grain(other).Get())?.Version);
        await cluster.Grain(other).Succeeds(Ship());
        slice = await cluster.Store.LoadLatestAsync(other, ct);
        Assert.Equal((3, 3), (slice.Version, slice.PublishedThrough));
    }

    [Fact]
    public async Task Refund_ids_stay_exact_while_the_snapshot_stays_the_same_size()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay(), Ship(), Deliver());
        for (var i = 0; i < 30; i++)
        {
            await grain.Succeeds(Refund(RefundId(i), 0.25m));
        }

        // Versions 5–34 are refunds; snapshots every 3 versions. Before refund rows, each refund id grew every later snapshot.
        var early = await SnapshotAsync(id, 6, ct);
        var late = await SnapshotAsync(id, 33, ct);
        Assert.Equal(OrderEventSerializer.SnapshotSchemaVersion, late.SchemaVersion);
        Assert.InRange(late.Data.Length, early.Data.Length - 8, early.Data.Length + 8); // only the event times' fractional digits may differ
        Assert.Equal(30, (await cluster.RowsAsync(id, ct)).Count(r => r.RowKey.StartsWith(KeyEncoding.UniqueKeyPrefix + "refund-", StringComparison.Ordinal)));

        // A cold activation recognises every refund id by its row, the first included.
        await cluster.DeactivateAsync(id);
        var rows = await cluster.RowFingerprintAsync(id, ct);
        var repeat = await grain.Execute(Refund(RefundId(0), 0.25m), CommandMetadata.None);
        Assert.True(repeat.Replayed);
        Assert.Equal(34, repeat.Order?.Version);
        var changed = await grain.Execute(Refund(RefundId(1), 0.5m), CommandMetadata.None);
        Assert.Equal(CommandErrorCode.Unprocessable, changed.Error?.Code);
        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));

        // The whole paid amount refunded with an id already used: a replay, not "nothing left to refund".
        var rest = Total - 30 * 0.25m;
        var all = await grain.Succeeds(Refund("refund-rest", rest));
        Assert.Equal(OrderStatus.Refunded, all.Status);
        await cluster.DeactivateAsync(id);
        Assert.True((await grain.Execute(Refund("refund-rest", rest), CommandMetadata.None)).Replayed);
        Assert.Equal(35, (await cluster.EventsAsync(id, ct)).Count);
    }

    [Fact]
    public async Task An_order_written_before_refund_rows_keeps_its_refund_ids()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var t0 = Ago(TimeSpan.FromHours(1));
        OrderEvent[] events =
        [
            new OrderPlaced(t0, id, "customer-1", "EUR", [new OrderLine("sku-a", 1, 10m)], 10m),
            new OrderPaid(t0, "pay-1", 10m, "card"),
            new OrderShipped(t0, "dhl", "t"),
            new OrderDelivered(t0),
            new OrderRefunded(t0, "old-1", 1m, "damaged"),
            new OrderRefunded(t0, "old-2", 2m, "damaged"),
        ];

        // As the earlier build wrote it: no refund rows, a schema-1 snapshot at 5 holding every refund id, then version 6.
        var atFive = new OrderState();
        foreach (var @event in events[..5])
        {
            atFive.Apply(@event);
        }

        var snapshotData = OrderEventSerializer.SerializeState(atFive).Replace("\"refunds\":{}", "\"refunds\":{\"old-1\":1}", StringComparison.Ordinal);
        await cluster.Store.AppendAsync(id, 0, [.. events[..5].Select(ToAppend)], new Snapshot(5, OrderEventSerializer.SnapshotType, 1, t0, snapshotData), publishedThrough: 5, cancellationToken: ct);
        await cluster.Store.AppendAsync(id, 5, [ToAppend(events[5])], publishedThrough: 6, cancellationToken: ct);

        var grain = cluster.Grain(id);
        Assert.True((await grain.Execute(Refund("old-1", 1m), CommandMetadata.None)).Replayed);
        Assert.True((await grain.Execute(Refund("old-2", 2m), CommandMetadata.None)).Replayed);
        Assert.Equal(CommandErrorCode.Unprocessable, (await grain.Execute(Refund("old-2", 3m), CommandMetadata.None)).Error?.Code);

        // This build's first snapshot (at 9) carries the ids that have no rows, so they are still known after it.
        await grain.SucceedAll(Refund("new-1", 1m), Refund("new-2", 1m), Refund("new-3", 1m));
        var snapshot = await SnapshotAsync(id, 9, ct);
        Assert.Equal(OrderEventSerializer.SnapshotSchemaVersion, snapshot.SchemaVersion);
        await cluster.DeactivateAsync(id);
        Assert.True((await grain.Execute(Refund("old-1", 1m), CommandMetadata.None)).Replayed);
        Assert.True((await grain.Execute(Refund("old-2", 2m), CommandMetadata.None)).Replayed);
        Assert.True((await grain.Execute(Refund("new-1", 1m), CommandMetadata.None)).Replayed);
        Assert.Equal(9, (await grain.Get())?.Version);
    }

    private static string RefundId(int i) => "refund-" + i.ToString("D3", CultureInfo.InvariantCulture);

    private async Task<Snapshot> SnapshotAsync(string orderId, int version, CancellationToken ct)
    {
        var slice = await cluster.Store.LoadAtVersionAsync(orderId, version, ct);
        var snapshot = Assert.IsType<Snapshot>(slice.Snapshot);
        Assert.Equal(version, snapshot.Version);
        return snapshot;
    }

    private static EventToAppend ToAppend(OrderEvent @event) => new(
        Guid.CreateVersion7(), OrderEventSerializer.TypeName(@event), OrderEventSerializer.SchemaVersionOf(@event), @event.OccurredAt, null, null, OrderEventSerializer.Serialize(@event));
}
