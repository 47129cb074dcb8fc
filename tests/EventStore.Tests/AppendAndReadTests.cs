using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

public sealed class AppendAndReadTests(AzuriteFixture azurite) : EventStoreTestBase(azurite)
{
    [Fact]
    public async Task Appended_events_read_back_in_order_with_their_metadata()
    {
        var first = Event(1, """{"a":1}""");
        var second = Event(2, """{"b":"two"}""");
        await Store.AppendAsync("s-1", 0, [first, second], cancellationToken: Cancel);
        await Store.AppendAsync("s-1", 2, [Event(3)], cancellationToken: Cancel);

        var events = await Store.ReadEventsAsync("s-1", 1, 10, Cancel);

        Assert.Equal([1, 2, 3], events.Select(e => e.Version));
        var read = events[0];
        Assert.Equal(first.EventId, read.EventId);
        Assert.Equal("TestEvent", read.Type);
        Assert.Equal(1, read.SchemaVersion);
        Assert.Equal(first.OccurredAt, read.OccurredAt);
        Assert.Equal("corr-1", read.CorrelationId);
        Assert.Equal("cause-1", read.CausationId);
        Assert.Equal("""{"a":1}""", read.Data);
        Assert.True(read.RecordedAt > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task Reads_page_by_version_range()
    {
        await Store.AppendAsync("paged", 0, [.. Enumerable.Range(1, 25).Select(n => Event(n))], cancellationToken: Cancel);

        var page = await Store.ReadEventsAsync("paged", 11, 10, Cancel);
        var tail = await Store.ReadEventsAsync("paged", 21, 10, Cancel);
        var beyond = await Store.ReadEventsAsync("paged", 26, 10, Cancel);

        Assert.Equal(Enumerable.Range(11, 10), page.Select(e => e.Version));
        Assert.Equal(Enumerable.Range(21, 5), tail.Select(e => e.Version));
        Assert.Empty(beyond);
    }

    [Fact]
    public async Task A_conflicting_append_leaves_the_partition_exactly_as_it_was()
    {
        await Store.AppendAsync("conflict", 0, [Event(1), Event(2)], cancellationToken: Cancel);
        var before = await RowsAsync("conflict");

        var conflict = await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("conflict", 1, [Event(10), Event(11), Event(12)],
                idempotency: new IdempotencyRecord("key-1", "hash", 4), cancellationToken: Cancel));

        Assert.Equal(1, conflict.ExpectedVersion);
        Assert.Equal(before, await RowsAsync("conflict"));
    }

    [Fact]
    public async Task A_unique_key_is_recorded_once_and_found_by_its_kind_and_key()
    {
        var (first, second) = (Event(1), Event(2));
        await Store.AppendAsync("unique", 0, [first, second], uniqueKeys: [new UniqueKeyRecord("refund", "r/1", "2.50")], cancellationToken: Cancel);
        var before = await RowsAsync("unique");

        // Recording the key again fails as a conflict and writes nothing, whatever else the append holds.
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("unique", 2, [Event(3)], uniqueKeys: [new UniqueKeyRecord("refund", "r/1", "9")], cancellationToken: Cancel));
        Assert.Equal(before, await RowsAsync("unique"));

        // The row names the append's last event: what tells it from a row that outlived its events.
        var recorded = await Store.FindUniqueKeyAsync("unique", "refund", "r/1", Cancel);
        Assert.Equal(("2.50", 2, second.EventId), (recorded?.Value, recorded?.Version, recorded?.EventId));
        Assert.Null(await Store.FindUniqueKeyAsync("unique", "payment", "r/1", Cancel));
        Assert.Null(await Store.FindUniqueKeyAsync("unique", "refund", "r/2", Cancel));

        // The key's row is outside every range a load reads.
        var slice = await Store.LoadLatestAsync("unique", Cancel);
        Assert.Equal([1, 2], slice.Events.Select(e => e.Version));
        Assert.Null(slice.Snapshot);
    }

    [Fact]
    public async Task A_second_insert_of_a_new_stream_conflicts()
    {
        await Store.AppendAsync("new-stream", 0, [Event(1)], cancellationToken: Cancel);

        var before = await RowsAsync("new-stream");

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Store.AppendAsync("new-stream", 0, [Event(1)], cancellationToken: Cancel));
        Assert.Equal(before, await RowsAsync("new-stream"));
        Assert.Single(await Store.ReadEventsAsync("new-stream", 1, 10, Cancel));
    }

    [Fact]
    public async Task Retrying_an_append_that_already_landed_writes_nothing_and_succeeds()
    {
        var events = new[] { Event(1), Event(2) };
        await Store.AppendAsync("retried", 0, events, cancellationToken: Cancel);
        var before = await RowsAsync("retried");

        // The same append again, as the SDK's retry does after a lost response: same event ids.
        await Store.AppendAsync("retried", 0, events, cancellationToken: Cancel);

        Assert.Equal(before, await RowsAsync("retried"));
    }

    [Fact]
    public async Task A_reused_idempotency_key_conflicts_and_writes_nothing()
    {
        var first = Event(1);
        await Store.AppendAsync("idem", 0, [first], idempotency: new IdempotencyRecord("key-a", "hash-1", 1), cancellationToken: Cancel);
        var before = await RowsAsync("idem");

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("idem", 1, [Event(2)], idempotency: new IdempotencyRecord("key-a", "hash-2", 2), cancellationToken: Cancel));

        Assert.Equal(before, await RowsAsync("idem"));
        var record = await Store.FindIdempotencyRecordAsync("idem", "key-a", Cancel);
        Assert.Equal(new IdempotencyRecord("key-a", "hash-1", 1, EventId: first.EventId), record! with { ETag = null });
        Assert.True(await Store.HoldsEventAsync("idem", 1, first.EventId, Cancel));
        Assert.False(await Store.HoldsEventAsync("idem", 1, Guid.NewGuid(), Cancel));
        Assert.False(await Store.HoldsEventAsync("idem", 2, first.EventId, Cancel));
        Assert.Null(await Store.FindIdempotencyRecordAsync("idem", "key-b", Cancel));
    }

    [Fact]
    public async Task A_stale_idempotency_record_is_removed_unless_written_since()
    {
        await Store.AppendAsync("stale-record", 0, [Event(1)], idempotency: new IdempotencyRecord("key-a", "hash-1", 1), cancellationToken: Cancel);
        var read = await Store.FindIdempotencyRecordAsync("stale-record", "key-a", Cancel);
        Assert.NotNull(read?.ETag);

        // Written since it was read (the row's ETag moved on): left as it is.
        var row = await Table.GetEntityAsync<TableEntity>(KeyEncoding.Encode("stale-record"), KeyEncoding.IdempotencyRowKey("key-a"), cancellationToken: Cancel);
        await Table.UpdateEntityAsync(row.Value, row.Value.ETag, TableUpdateMode.Replace, Cancel);
        var before = await RowsAsync("stale-record");
        Assert.False(await Store.RemoveStaleIdempotencyRecordAsync("stale-record", read!, Cancel));
        Assert.Equal(before, await RowsAsync("stale-record"));

        // As read: removed, and only it; removing it again finds it gone, which counts as removed.
        var current = await Store.FindIdempotencyRecordAsync("stale-record", "key-a", Cancel);
        Assert.True(await Store.RemoveStaleIdempotencyRecordAsync("stale-record", current!, Cancel));
        Assert.Null(await Store.FindIdempotencyRecordAsync("stale-record", "key-a", Cancel));
        Assert.Equal(before.Count - 1, (await RowsAsync("stale-record")).Count);
        Assert.True(await Store.RemoveStaleIdempotencyRecordAsync("stale-record", current!, Cancel));
    }

    [Fact]
    public async Task A_stale_unique_key_row_is_removed_unless_written_since()
    {
        await Store.AppendAsync("stale-unique", 0, [Event(1)], uniqueKeys: [new UniqueKeyRecord("refund", "r-1", "1")], cancellationToken: Cancel);
        var read = await Store.FindUniqueKeyAsync("stale-unique", "refund", "r-1", Cancel);

        var row = await Table.GetEntityAsync<TableEntity>(KeyEncoding.Encode("stale-unique"), KeyEncoding.UniqueKeyRowKey("refund", "r-1"), cancellationToken: Cancel);
        await Table.UpdateEntityAsync(row.Value, row.Value.ETag, TableUpdateMode.Replace, Cancel);
        var before = await RowsAsync("stale-unique");
        Assert.False(await Store.RemoveStaleUniqueKeyAsync("stale-unique", "refund", "r-1", read!, Cancel));
        Assert.Equal(before, await RowsAsync("stale-unique"));

        var current = await Store.FindUniqueKeyAsync("stale-unique", "refund", "r-1", Cancel);
        Assert.True(await Store.RemoveStaleUniqueKeyAsync("stale-unique", "refund", "r-1", current!, Cancel));
        Assert.Null(await Store.FindUniqueKeyAsync("stale-unique", "refund", "r-1", Cancel));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.RemoveStaleUniqueKeyAsync("stale-unique", "refund", "r-1", current! with { ETag = default }, Cancel));
    }

    [Fact]
    public async Task A_200_KiB_payload_round_trips()
    {
        var data = "\"" + string.Concat(Enumerable.Range(0, 200 * 1024 / 8).Select(i => $"{i % 10_000_000:D7}é")) + "\"";

        await Store.AppendAsync("large", 0, [Event(1, data)], cancellationToken: Cancel);

        Assert.Equal(data, Assert.Single(await Store.ReadEventsAsync("large", 1, 1, Cancel)).Data);
    }

    [Fact]
    public async Task A_2_MiB_payload_is_refused_and_nothing_is_written()
    {
        await Store.AppendAsync("too-large", 0, [Event(1)], cancellationToken: Cancel);
        var before = await RowsAsync("too-large");

        var refused = await Assert.ThrowsAsync<EventTooLargeException>(() =>
            Store.AppendAsync("too-large", 1, [Event(2), Event(3, new string('x', 2 * 1024 * 1024))], cancellationToken: Cancel));

        Assert.Equal(TableLimits.MaxEntityBytes, refused.Limit);
        Assert.True(refused.Size > TableLimits.MaxEntityBytes);
        Assert.Equal(before, await RowsAsync("too-large"));
    }

    [Fact]
    public async Task More_rows_than_one_transaction_holds_are_refused_and_nothing_is_written()
    {
        // As many events as a transaction holds rows: with the stream's head row, one too many.
        var events = Enumerable.Range(1, TableLimits.MaxEntitiesPerTransaction).Select(n => Event(n)).ToArray();

        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync("too-many", 0, events, cancellationToken: Cancel));

        Assert.Empty(await RowsAsync("too-many"));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("-")]
    [InlineData("_")]
    [InlineData("a.b.")]
    [InlineData("A-z_0.9")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123")]
    public async Task Odd_but_legal_ids_round_trip(string id)
    {
        await Store.AppendAsync(id, 0, [Event(1)], idempotency: new IdempotencyRecord("k." + id, "h", 1), cancellationToken: Cancel);
        await Store.AppendAsync(id, 1, [Event(2)], cancellationToken: Cancel);

        Assert.Equal([1, 2], (await Store.LoadLatestAsync(id, Cancel)).Events.Select(e => e.Version));
        Assert.NotNull(await Store.FindIdempotencyRecordAsync(id, "k." + id, Cancel));
        Assert.Empty((await Store.LoadLatestAsync(id + "x", Cancel)).Events);
    }
}
