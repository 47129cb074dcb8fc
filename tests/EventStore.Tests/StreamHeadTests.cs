using Azure;
using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>
/// The head row every append replaces, conditional on the ETag its writer saw: an append succeeds
/// only if it follows the version storage really holds, also when storage lost writes the writer
/// had seen (a restore, a failover to an earlier recovery point).
/// </summary>
public sealed class StreamHeadTests(AzuriteFixture azurite) : EventStoreTestBase(azurite)
{
    [Fact]
    public async Task Each_append_returns_the_head_it_left_and_a_load_reads_it()
    {
        var first = await Store.AppendAsync("heads", 0, [Event(1), Event(2)], cancellationToken: Cancel);
        var second = await Store.AppendAsync("heads", 2, [Event(3)], head: ExpectedHead.Of(first), cancellationToken: Cancel);

        Assert.Equal(2, first!.Version);
        Assert.Equal(3, second!.Version);
        Assert.NotEqual(first.ETag, second.ETag);
        var loaded = await Store.LoadLatestAsync("heads", Cancel);
        Assert.Equal(second, loaded.Head);
        Assert.Equal(second, await Store.ReadHeadAsync("heads", Cancel));
    }

    [Fact]
    public async Task An_append_with_a_stale_head_conflicts_and_leaves_storage_untouched()
    {
        var first = await Store.AppendAsync("stale", 0, [Event(1)], cancellationToken: Cancel);
        var second = await Store.AppendAsync("stale", 1, [Event(2)], head: ExpectedHead.Of(first), cancellationToken: Cancel);
        var before = await RowsAsync("stale");

        // A writer that last saw version 1 appends after version 2 (the row it would insert is free).
        var conflict = await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("stale", 2, [Event(3)], idempotency: new IdempotencyRecord("k", "h", 3), head: ExpectedHead.Of(first), cancellationToken: Cancel));

        Assert.Equal(2, conflict.ExpectedVersion);
        Assert.Equal(before, await RowsAsync("stale"));
        Assert.Equal(second, await Store.ReadHeadAsync("stale", Cancel));
    }

    /// <summary>
    /// The bug: storage lost its last writes and a writer that had seen them appended after them,
    /// leaving a log with a gap. Here with the head the writer last wrote, and with a writer that
    /// read nothing (the store checks the head's version for it).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_append_after_writes_storage_lost_conflicts_and_leaves_storage_untouched(bool writerKnowsTheHead)
    {
        var id = "lost-" + writerKnowsTheHead;
        var head = await Store.AppendAsync(id, 0, [Event(1), Event(2)], cancellationToken: Cancel);
        var saved = await EntitiesAsync(id);
        head = await Store.AppendAsync(id, 2, [Event(3)], head: ExpectedHead.Of(head), cancellationToken: Cancel);
        head = await Store.AppendAsync(id, 3, [Event(4)], head: ExpectedHead.Of(head), cancellationToken: Cancel);

        await RestoreAsync(id, saved);
        var before = await RowsAsync(id);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync(id, 4, [Event(5)], head: writerKnowsTheHead ? ExpectedHead.Of(head) : ExpectedHead.Unknown, cancellationToken: Cancel));

        Assert.Equal(before, await RowsAsync(id));
        var reloaded = await Store.LoadLatestAsync(id, Cancel);
        Assert.Equal(2, reloaded.Version);

        // Reloaded, the writer appends after what storage holds: no gap.
        await Store.AppendAsync(id, reloaded.Version, [Event(3)], head: ExpectedHead.Of(reloaded.Head), cancellationToken: Cancel);
        Assert.Equal([1, 2, 3], (await Store.ReadEventsAsync(id, 1, 10, Cancel)).Select(e => e.Version));
    }

    [Fact]
    public async Task A_stream_lost_whole_refuses_an_append_after_it_and_accepts_a_new_start()
    {
        var head = await Store.AppendAsync("gone", 0, [Event(1)], cancellationToken: Cancel);
        await RestoreAsync("gone", []);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("gone", 1, [Event(2)], head: ExpectedHead.Of(head), cancellationToken: Cancel));
        Assert.Empty(await RowsAsync("gone"));

        var loaded = await Store.LoadLatestAsync("gone", Cancel);
        Assert.Null(loaded.Head);
        await Store.AppendAsync("gone", 0, [Event(1)], head: ExpectedHead.Of(loaded.Head), cancellationToken: Cancel);
        Assert.Equal(1, (await Store.ReadHeadAsync("gone", Cancel))!.Version);
    }

    [Fact]
    public async Task A_stream_written_before_heads_existed_gets_one_with_its_first_append()
    {
        await Store.AppendAsync("legacy", 0, [Event(1), Event(2)], cancellationToken: Cancel);
        await Table.DeleteEntityAsync(KeyEncoding.Encode("legacy"), TableEventStore.HeadRowKey, ETag.All, Cancel);

        var loaded = await Store.LoadLatestAsync("legacy", Cancel);
        Assert.Equal((2, null), (loaded.Version, loaded.Head));

        // Two writers that both loaded it: the first inserts the head, the other conflicts and writes nothing.
        var head = await Store.AppendAsync("legacy", 2, [Event(3)], head: ExpectedHead.Of(loaded.Head), cancellationToken: Cancel);
        var before = await RowsAsync("legacy");
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("legacy", 2, [Event(30)], head: ExpectedHead.Of(loaded.Head), cancellationToken: Cancel));

        Assert.Equal(before, await RowsAsync("legacy"));
        Assert.Equal(3, head!.Version);
        Assert.Equal(head, (await Store.LoadLatestAsync("legacy", Cancel)).Head);

        // So is a writer that did not read: there is a head now, one version behind it.
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => Store.AppendAsync("legacy", 2, [Event(30)], cancellationToken: Cancel));
        await Store.AppendAsync("legacy", 3, [Event(4)], cancellationToken: Cancel);
        Assert.Equal([1, 2, 3, 4], (await Store.ReadEventsAsync("legacy", 1, 10, Cancel)).Select(e => e.Version));
    }

    [Fact]
    public async Task A_stream_written_before_heads_existed_that_lost_its_last_events_refuses_an_append_after_them()
    {
        await Store.AppendAsync("legacy-lost", 0, [Event(1), Event(2), Event(3)], cancellationToken: Cancel);
        await Table.DeleteEntityAsync(KeyEncoding.Encode("legacy-lost"), TableEventStore.HeadRowKey, ETag.All, Cancel);
        var loaded = await Store.LoadLatestAsync("legacy-lost", Cancel);

        // Storage loses version 3 (written before heads existed); a writer that had seen it appends version 4.
        await Table.DeleteEntityAsync(KeyEncoding.Encode("legacy-lost"), KeyEncoding.EventRowKey(3), ETag.All, Cancel);
        var before = await RowsAsync("legacy-lost");
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("legacy-lost", 3, [Event(4)], head: ExpectedHead.Of(loaded.Head), cancellationToken: Cancel));
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.AppendAsync("legacy-lost", 3, [Event(4)], cancellationToken: Cancel));

        Assert.Equal(before, await RowsAsync("legacy-lost"));
        Assert.Equal([1, 2], (await Store.ReadEventsAsync("legacy-lost", 1, 10, Cancel)).Select(e => e.Version));

        // Appending after what storage holds works, and leaves a head.
        var head = await Store.AppendAsync("legacy-lost", 2, [Event(3)], head: ExpectedHead.None, cancellationToken: Cancel);
        Assert.Equal(3, head!.Version);
        Assert.Equal([1, 2, 3], (await Store.ReadEventsAsync("legacy-lost", 1, 10, Cancel)).Select(e => e.Version));
    }

    [Fact]
    public async Task The_head_never_appears_among_events()
    {
        await Store.AppendAsync("hidden", 0, [Event(1), Event(2)], cancellationToken: Cancel);
        await Store.AppendAsync("hidden", 2, [Event(3)], new Snapshot(3, "S", 1, T0.AddMinutes(3), "{}"),
            new IdempotencyRecord("key", "hash", 3), cancellationToken: Cancel);
        await Store.AppendAsync("hidden", 3, [Event(4)], cancellationToken: Cancel);
        Assert.Contains(await RowsAsync("hidden"), row => row.Contains("RowKey=" + TableEventStore.HeadRowKey + "|", StringComparison.Ordinal));

        Assert.Equal([1, 2, 3, 4], (await Store.ReadEventsAsync("hidden", 1, 100, Cancel)).Select(e => e.Version));
        Assert.Equal([4], (await Store.LoadLatestAsync("hidden", Cancel)).Events.Select(e => e.Version));
        Assert.Equal([4], (await Store.LoadAtVersionAsync("hidden", 4, Cancel)).Events.Select(e => e.Version));
        Assert.Equal([4], (await Store.LoadAsOfAsync("hidden", T0.AddDays(1), Cancel)).Events.Select(e => e.Version));

        // The scan a rebuild reads: this table holds only this stream.
        var scanned = new List<(string, int)>();
        await foreach (var (stream, stored) in Store.ScanAllAsync(cancellationToken: Cancel))
        {
            scanned.Add((stream, stored.Version));
        }

        Assert.Equal([("hidden", 1), ("hidden", 2), ("hidden", 3), ("hidden", 4)], scanned);
    }

    [Fact]
    public async Task A_retried_append_whose_first_attempt_landed_is_recognised_and_returns_the_head()
    {
        var head = await Store.AppendAsync("retry", 0, [Event(1)], cancellationToken: Cancel);
        var events = new[] { Event(2), Event(3) };
        var landed = await Store.AppendAsync("retry", 1, events, head: ExpectedHead.Of(head), cancellationToken: Cancel);
        var before = await RowsAsync("retry");

        // The SDK sends the request again after a lost answer: the head's ETag is no longer the one sent.
        var retried = await Store.AppendAsync("retry", 1, events, head: ExpectedHead.Of(head), cancellationToken: Cancel);

        Assert.Equal(landed, retried);
        Assert.Equal(before, await RowsAsync("retry"));

        // If another append followed before the retry, the outcome is still success, the head unknown.
        await Store.AppendAsync("retry", 3, [Event(4)], head: ExpectedHead.Of(landed), cancellationToken: Cancel);
        Assert.Null(await Store.AppendAsync("retry", 1, events, head: ExpectedHead.Of(head), cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_head_that_disagrees_with_the_events_is_overruled_by_them()
    {
        await Store.AppendAsync("disagree", 0, [Event(1), Event(2)], cancellationToken: Cancel);
        var partition = KeyEncoding.Encode("disagree");
        var stored = (await Table.GetEntityAsync<TableEntity>(partition, TableEventStore.HeadRowKey, cancellationToken: Cancel)).Value;
        stored["Version"] = 7;
        await Table.UpdateEntityAsync(stored, stored.ETag, TableUpdateMode.Replace, Cancel);

        var loaded = await Store.LoadLatestAsync("disagree", Cancel);
        Assert.Equal(2, loaded.Version);
        var head = await Store.AppendAsync("disagree", loaded.Version, [Event(3)], head: ExpectedHead.Of(loaded.Head), cancellationToken: Cancel);

        Assert.Equal(3, head!.Version);
        Assert.Equal([1, 2, 3], (await Store.ReadEventsAsync("disagree", 1, 10, Cancel)).Select(e => e.Version));
    }

    /// <summary>Every row of the stream's partition, as stored.</summary>
    private async Task<List<TableEntity>> EntitiesAsync(string streamId)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {KeyEncoding.Encode(streamId)}");
        var rows = new List<TableEntity>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(filter, cancellationToken: Cancel))
        {
            rows.Add(entity);
        }

        return rows;
    }

    /// <summary>Puts the partition back as <paramref name="saved"/> had it, as a restore of the table would (rows get new ETags).</summary>
    private async Task RestoreAsync(string streamId, List<TableEntity> saved)
    {
        var keep = saved.Select(e => e.RowKey).ToHashSet(StringComparer.Ordinal);
        foreach (var row in await EntitiesAsync(streamId))
        {
            if (!keep.Contains(row.RowKey))
            {
                await Table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, Cancel);
            }
        }

        foreach (var row in saved)
        {
            await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, Cancel);
        }
    }
}
