using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Statistics.Buckets;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Orders.Events;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// README "Schema versions": an order as the build before OrderPlaced version 2 stored it
/// (<c>Fixtures/order-log-v1.json</c>: every column of its five event rows, head, idempotency
/// record and snapshot at version 3, captured from that build's OrderGrain on Azurite) is read by
/// this build: folded with and without the snapshot, projected, served and continued by the grain.
/// </summary>
public sealed class SchemaVersionOneTests(OrderClusterFixture fixture, AzuriteFixture azurite) : IClassFixture<OrderClusterFixture>
{
    private const string OrderId = "order-v1-fixture";

    private const string Fixture = "order-log-v1.json";

    private static readonly DateTimeOffset PlacedAt = new(2026, 11, 20, 9, 30, 0, 123, TimeSpan.Zero);

    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task Version_1_rows_fold_with_and_without_their_snapshot_and_project()
    {
        var ct = TestContext.Current.CancellationToken;
        var table = TableNames.Unique("v1rows");
        var service = new TableServiceClient(azurite.ConnectionString);
        await StoredRows.LoadAsync(service.GetTableClient(table), Fixture, ct);
        var store = new TableEventStore(
            service,
            Microsoft.Extensions.Options.Options.Create(new EventStoreOptions { TableName = table, SnapshotInterval = OrderCluster.SnapshotInterval }),
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TableEventStore>.Instance);

        var events = await store.ReadEventsAsync(OrderId, 1, 100, ct);
        Assert.Equal([1, 1, 1, 1, 1], events.Select(e => e.SchemaVersion));
        var placed = Assert.IsType<OrderPlaced>(OrderEventSerializer.Deserialize(events[0].Type, events[0].SchemaVersion, events[0].Data));
        Assert.Null(placed.ShippingAddress);

        var latest = await store.LoadLatestAsync(OrderId, ct);
        Assert.Equal(3, latest.Snapshot?.Version);
        Assert.Equal([4, 5], latest.Events.Select(e => e.Version));
        AssertIsTheRecordedOrder(OrderState.Fold(latest).ToView(5));
        AssertIsTheRecordedOrder(OrderCluster.Fold(events).ToView(5));

        var envelopes = await OrderEventEnvelopes.ReadAfterAsync(store, OrderId, 0);
        var bucket = new StatsBucket();
        foreach (var envelope in envelopes)
        {
            bucket.Add(envelope);
        }

        Assert.Equal(
            [(OrderCancelled.StoredName, 0L), (OrderDelivered.StoredName, 1L), (OrderPaid.StoredName, 1L), (OrderPlaced.StoredName, 1L), (OrderRefunded.StoredName, 1L), (OrderShipped.StoredName, 1L)],
            EventTypesCounted(bucket));
        Assert.Equal(Total, bucket.Revenue["EUR"]);
        Assert.Equal(3.25m, bucket.Refunds["EUR"]);
        Assert.Equal(["delivered", "paid", "placed", "shipped"], bucket.Entered.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((1, 1, 1), (bucket.PlacedToPaid.Count, bucket.PaidToShipped.Count, bucket.ShippedToDelivered.Count));
        Assert.Equal([300d], envelopes.Select(e => e.SecondsSincePlaced).OfType<double>());
    }

    [Fact]
    public async Task The_grain_serves_a_version_1_order_answers_its_retry_and_continues_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await StoredRows.LoadAsync(cluster.Table, Fixture, ct);
        var grain = cluster.Grain(OrderId);

        AssertIsTheRecordedOrder(await grain.Get());
        AssertIsTheRecordedOrder(await grain.GetAsOf(PlacedAt.AddDays(3)));
        Assert.Equal(OrderStatus.Placed, (await grain.GetAtVersion(1))?.Status);

        // The idempotency record of the version 1 placement still answers its retry.
        var retry = await grain.Execute(Place(OrderId, PlacedAt), new CommandMetadata(IdempotencyKey: "place-v1-fixture"));
        Assert.True(retry.Replayed);

        // A refund recorded by the earlier build (no refund row) is still recognised when repeated.
        var repeated = await grain.Execute(Refund("refund-1", 3.25m, PlacedAt.AddDays(3)), CommandMetadata.None);
        Assert.Null(repeated.Error);
        Assert.Equal(5, repeated.Order?.Version);

        var refunded = await grain.Succeeds(Refund("refund-2", Total - 3.25m, PlacedAt.AddDays(4)));
        Assert.Equal((6, OrderStatus.Refunded, Total), (refunded.Version, refunded.Status, refunded.Refunded));
        var stored = await cluster.EventsAsync(OrderId, ct);
        Assert.Equal([1, 1, 1, 1, 1, 1], stored.Select(e => e.SchemaVersion));
        SameView(OrderCluster.Fold(stored).ToView(6), OrderState.Fold(await cluster.Store.LoadLatestAsync(OrderId, ct)).ToView(6));
    }

    private static IEnumerable<(string, long)> EventTypesCounted(StatsBucket bucket) =>
        OrderFlow.EventTypes.EventTypeRegistry<OrderEvent>.All.Select(type => (type.StoredName, bucket.Events.GetValueOrDefault(type.StoredName)));

    private static void AssertIsTheRecordedOrder(OrderView? view)
    {
        Assert.NotNull(view);
        Assert.Equal(
            (OrderId, "customer-1", OrderStatus.Delivered, "EUR", Total, Total, 3.25m, 5),
            (view.OrderId, view.CustomerId, view.Status, view.Currency, view.Total, view.Paid, view.Refunded, view.Version));
        Assert.Equal((PlacedAt, PlacedAt.AddDays(2)), (view.PlacedAt, view.UpdatedAt));
        Assert.Equal([new OrderLine("sku-a", 2, 10.50m), new OrderLine("sku-b", 1, 3.25m)], view.Items);
        Assert.Null(view.ShippingAddress);
    }
}
