using Azure;
using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Orders;
using OrderFlow.Orders.Commands;
using OrderFlow.Testing;
using static OrderFlow.Grains.Tests.TestData;

namespace OrderFlow.Grains.Tests;

/// <summary>
/// Storage lost writes the order's activation had confirmed (a restore, or an account failover to
/// its recovery point) while the activation kept its cached view. The activation must not append
/// after versions storage no longer holds: it finds out, reloads, and judges the command against
/// what storage really holds.
/// </summary>
public sealed class StorageRollbackTests(OrderClusterFixture fixture) : IClassFixture<OrderClusterFixture>
{
    private readonly OrderCluster cluster = fixture.Cluster;

    [Fact]
    public async Task AShipmentOfAnOrderWhosePaymentWasLostIsRefusedAndAPaymentSucceedsWithoutAGap()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.Succeeds(Place(id));
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Pay());

        await RestoreAsync(id, saved, ct);

        // The activation still holds "paid": a shipment is decided, and its append fails on the head.
        var shipment = await grain.Execute(Ship(), new());
        Assert.Equal(CommandErrorCode.InvalidTransition, shipment.Error?.Code);
        Assert.Equal(["OrderPlaced"], (await cluster.EventsAsync(id, ct)).Select(e => e.Type));

        var paid = await grain.Succeeds(Pay("pay-2"));
        Assert.Equal((OrderStatus.Paid, 2), (paid.Status, paid.Version));
        var events = await cluster.EventsAsync(id, ct);
        Assert.Equal([(1, "OrderPlaced"), (2, "OrderPaid")], events.Select(e => (e.Version, e.Type)));
        Assert.Contains("pay-2", events[1].Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandTheCachedViewWouldRefuseIsJudgedAgainstWhatStorageHolds()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay());
        var saved = await cluster.RowsAsync(id, ct);
        await grain.SucceedAll(Ship(), Deliver());

        await RestoreAsync(id, saved, ct);

        // The cached view ("delivered") refuses a shipment and calls a repeated payment a replay; storage holds "paid".
        var replay = await grain.Execute(Pay(), new());
        Assert.True(replay.Replayed);
        Assert.Equal((OrderStatus.Paid, 2), (replay.Order?.Status, replay.Order?.Version));
        var shipped = await grain.Succeeds(Ship());
        Assert.Equal((OrderStatus.Shipped, 3), (shipped.Status, shipped.Version));
        Assert.Equal([1, 2, 3], (await cluster.EventsAsync(id, ct)).Select(e => e.Version));
    }

    /// <summary>
    /// An event time before the previous event's is refused against the state: a cached view whose
    /// latest event storage lost must not refuse a time that storage's own latest event allows.
    /// </summary>
    [Fact]
    public async Task AnEventTimeIsJudgedAgainstTheLatestEventStorageHolds()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var delivered = Ago(TimeSpan.FromMinutes(30));
        await grain.SucceedAll(Place(id, Ago(TimeSpan.FromHours(1))), Pay(at: delivered), Ship(delivered), Deliver(delivered));
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Refund("refund-lost", 5m, delivered.AddMinutes(2)));

        await RestoreAsync(id, saved, ct);

        // The cached view's latest event is the lost refund; storage's is the delivery.
        var refund = await grain.Succeeds(Refund("refund-kept", 5m, delivered.AddMinutes(1)));
        Assert.Equal((5, 5m), (refund.Version, refund.Refunded));
    }

    [Fact]
    public async Task AnOrderWhosePlacementWasLostIsPlacedAsNew()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay());

        await RestoreAsync(id, [], ct);

        Assert.Equal(CommandErrorCode.NotFound, (await grain.Execute(Ship(), new())).Error?.Code);
        var placed = await grain.Succeeds(Place(id));
        Assert.Equal((OrderStatus.Placed, 1), (placed.Status, placed.Version));
        var events = await cluster.EventsAsync(id, ct);
        Assert.Equal([(1, "OrderPlaced")], events.Select(e => (e.Version, e.Type)));
    }

    /// <summary>
    /// A partial restore (rows copied one by one, not as the transactions that wrote them) kept a
    /// command's idempotency record but not its events. Retried with that key, the command is
    /// applied again, on a cached activation and a fresh one alike; it was a 500 on every retry.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACommandWhoseRecordOutlivedItsEventsIsAppliedAgainWhenRetried(bool freshActivation)
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var payKey = new CommandMetadata(IdempotencyKey: "key-pay-" + freshActivation);
        await grain.Succeeds(Place(id));
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Pay(), payKey);
        var record = Assert.Single(await cluster.RowsAsync(id, ct), r => r.RowKey == KeyEncoding.IdempotencyRowKey(payKey.IdempotencyKey!));

        await RestoreAsync(id, [.. saved, record], ct);
        if (freshActivation)
        {
            await cluster.DeactivateAsync(id);
        }

        var paid = await grain.Execute(Pay(), payKey);
        Assert.Null(paid.Error);
        Assert.False(paid.Replayed);
        Assert.Equal((OrderStatus.Paid, 2), (paid.Order?.Status, paid.Order?.Version));
        Assert.Equal([(1, "OrderPlaced"), (2, "OrderPaid")], (await cluster.EventsAsync(id, ct)).Select(e => (e.Version, e.Type)));

        // The record now names the payment just appended: the next retry is a replay that writes nothing.
        var rows = await cluster.RowFingerprintAsync(id, ct);
        var again = await grain.Execute(Pay(), payKey);
        Assert.True(again.Replayed);
        Assert.Equal((OrderStatus.Paid, 2), (again.Order?.Status, again.Order?.Version));
        Assert.Equal(rows, await cluster.RowFingerprintAsync(id, ct));
    }

    /// <summary>
    /// As above, but another command has appended up to the record's version since: the record names
    /// the cancellation's version. A retry was answered as a replay of the payment, with the order
    /// cancelled; the record's event id tells it apart, and the payment is judged against the log.
    /// </summary>
    [Fact]
    public async Task ARecordWhoseVersionAnotherCommandHoldsSinceIsNotReplayed()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var payKey = new CommandMetadata(IdempotencyKey: "key-pay-overtaken");
        await grain.Succeeds(Place(id));
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Pay(), payKey);
        var record = Assert.Single(await cluster.RowsAsync(id, ct), r => r.RowKey == KeyEncoding.IdempotencyRowKey(payKey.IdempotencyKey!));
        await RestoreAsync(id, [.. saved, record], ct);
        await cluster.DeactivateAsync(id);
        await grain.Succeeds(Cancel());

        var retried = await grain.Execute(Pay(), payKey);

        Assert.False(retried.Replayed);
        Assert.Equal(CommandErrorCode.InvalidTransition, retried.Error?.Code);
        Assert.Null(await cluster.Store.FindIdempotencyRecordAsync(id, payKey.IdempotencyKey!, ct));
        Assert.Equal([(1, "OrderPlaced"), (2, "OrderCancelled")], (await cluster.EventsAsync(id, ct)).Select(e => (e.Version, e.Type)));
    }

    /// <summary>
    /// A partial restore kept a refund's row (its id and amount) without the refund's event. The
    /// refund retried was answered as already applied, with the log never holding it; it is applied.
    /// </summary>
    [Fact]
    public async Task ARefundWhoseRowOutlivedItsEventIsAppliedWhenRetried()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay(), Ship(), Deliver());
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Refund("refund-restored", 5m));
        var row = Assert.Single(await cluster.RowsAsync(id, ct), r => r.RowKey.StartsWith(KeyEncoding.UniqueKeyPrefix, StringComparison.Ordinal));
        await RestoreAsync(id, [.. saved, row], ct);
        await cluster.DeactivateAsync(id);

        var refunded = await grain.Execute(Refund("refund-restored", 5m), new());

        Assert.Null(refunded.Error);
        Assert.False(refunded.Replayed);
        Assert.Equal((5, 5m), (refunded.Order?.Version, refunded.Order?.Refunded));
        Assert.Equal("OrderRefunded", (await cluster.EventsAsync(id, ct))[^1].Type);
        Assert.True((await grain.Execute(Refund("refund-restored", 5m), new())).Replayed);
    }

    /// <summary>
    /// A cancellation of a paid order records its refund under one fixed id: a row of it that
    /// outlived the cancellation's events made every cancellation conflict until it gave up. A row
    /// written before rows named their event (<paramref name="olderRowFormat"/>) cannot be checked
    /// against the log; being of the id only a cancellation records, it is stale when the view,
    /// reloaded after the conflict, holds no cancellation and the log has not moved since (a review
    /// finding: it still made every cancellation conflict).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancellationWhoseRefundRowOutlivedItsEventsCancelsWhenSentAgain(bool olderRowFormat)
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay());
        var saved = await cluster.RowsAsync(id, ct);
        await grain.Succeeds(Cancel());
        var row = Assert.Single(await cluster.RowsAsync(id, ct), r => r.RowKey.StartsWith(KeyEncoding.UniqueKeyPrefix, StringComparison.Ordinal));
        if (olderRowFormat)
        {
            Assert.True(row.Remove("Version") && row.Remove("EventId"));
        }

        await RestoreAsync(id, [.. saved, row], ct);
        await cluster.DeactivateAsync(id);

        var cancelled = await grain.Execute(Cancel(), new());

        Assert.Null(cancelled.Error);
        Assert.Equal((OrderStatus.Cancelled, 4), (cancelled.Order?.Status, cancelled.Order?.Version));
        Assert.Equal(["OrderPlaced", "OrderPaid", "OrderCancelled", "OrderRefunded"], (await cluster.EventsAsync(id, ct)).Select(e => e.Type));
    }

    /// <summary>A placement retried on a fresh activation decides on the assumed-new view; its record's insert is what collides.</summary>
    [Fact]
    public async Task APlacementWhoseRecordAloneWasKeptIsPlacedAgainWhenRetried()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        var placeKey = new CommandMetadata(IdempotencyKey: "key-place");
        await grain.Succeeds(Place(id), placeKey);
        var record = Assert.Single(await cluster.RowsAsync(id, ct), r => r.RowKey == KeyEncoding.IdempotencyRowKey("key-place"));

        await RestoreAsync(id, [record], ct);
        await cluster.DeactivateAsync(id);

        var placed = await grain.Execute(Place(id), placeKey);
        Assert.Null(placed.Error);
        Assert.False(placed.Replayed);
        Assert.Equal((OrderStatus.Placed, 1), (placed.Order?.Status, placed.Order?.Version));
        Assert.Equal([(1, "OrderPlaced")], (await cluster.EventsAsync(id, ct)).Select(e => (e.Version, e.Type)));
        Assert.True((await grain.Execute(Place(id), placeKey)).Replayed);
    }

    [Fact]
    public async Task ALoadReadsTheHeadWithTheEventsAndARefusalCostsOneReadOfIt()
    {
        var requests = Assert.IsType<RequestCounter>(cluster.Requests);
        var id = NewOrderId();
        var grain = cluster.Grain(id);
        await grain.SucceedAll(Place(id), Pay());

        // A refusal by an activation that has appended: one point read of the head, which has not moved.
        requests.Reset();
        Assert.Equal(CommandErrorCode.InvalidTransition, (await grain.Execute(Deliver(), new())).Error?.Code);

        // Only this order's requests: a repair asked for by another test of this cluster may be scanning the table meanwhile.
        var sent = OfOrder(requests.SentWithQuery);
        Assert.True(sent.Count == 1 && sent[0].Contains("RowKey='" + TableEventStore.HeadRowKey + "'", StringComparison.Ordinal),
            "A refusal sent: " + string.Join(", ", sent));

        // A new activation loads the newest snapshot, then the events after it and the head in one query
        // (what follows in the background republishes the events after the stored publication marker).
        await cluster.DeactivateAsync(id);
        requests.Reset();
        Assert.NotNull(await grain.Get());
        sent = OfOrder(requests.SentWithQuery);
        Assert.True(sent.Count >= 2, "A load sent: " + string.Join(", ", sent));
        Assert.Contains("RowKey ge 'snapshot-' and", sent[0], StringComparison.Ordinal);
        Assert.Contains("RowKey le '" + TableEventStore.HeadRowKey + "'", sent[1], StringComparison.Ordinal);
        Assert.DoesNotContain(sent, r => r.Contains("RowKey='" + TableEventStore.HeadRowKey + "'", StringComparison.Ordinal));

        List<string> OfOrder(IReadOnlyList<string> all) => [.. all.Where(r => r.Contains(id, StringComparison.Ordinal))];
    }

    /// <summary>Puts the order's partition back as <paramref name="saved"/> had it: what a restore of the table does (rows get new ETags).</summary>
    private async Task RestoreAsync(string orderId, List<TableEntity> saved, CancellationToken ct)
    {
        var keep = saved.Select(e => e.RowKey).ToHashSet(StringComparer.Ordinal);
        foreach (var row in await cluster.RowsAsync(orderId, ct))
        {
            if (!keep.Contains(row.RowKey))
            {
                await cluster.Table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, ct);
            }
        }

        foreach (var row in saved)
        {
            await cluster.Table.UpsertEntityAsync(row, TableUpdateMode.Replace, ct);
        }
    }
}
