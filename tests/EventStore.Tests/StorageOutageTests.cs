using OrderFlow.Grains.EventStore;
using OrderFlow.Storage;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

public sealed class StorageOutageTests
{
    [Fact]
    public async Task Unreachable_storage_is_reported_as_unavailable_for_reads_and_writes()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var azurite = await Azurite.StartNewAsync(cancellationToken: cancel);
        var store = EventStoreTestBase.NewStore(azurite.ConnectionString, TableNames.Unique("outage"));
        await store.AppendAsync("s", 0, [new EventToAppend(Guid.NewGuid(), "T", 1, DateTimeOffset.UtcNow, null, null, "{}")], cancellationToken: cancel);

        await azurite.StopAsync();

        await Assert.ThrowsAsync<StorageUnavailableException>(() =>
            store.AppendAsync("s", 1, [new EventToAppend(Guid.NewGuid(), "T", 1, DateTimeOffset.UtcNow, null, null, "{}")], cancellationToken: cancel));
        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.LoadLatestAsync("s", cancel));
        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.FindIdempotencyRecordAsync("s", "k", cancel));
        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.PingAsync(cancel));
    }
}
