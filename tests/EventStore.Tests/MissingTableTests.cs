using OrderFlow.Storage;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>
/// The events table deleted while the store runs (an operator's mistake, a storage account
/// restored without it): what storage answers "table not found" is refused as unavailable
/// (the API's 503), not passed on as an unexpected error (a 500), and the store does not quietly
/// create an empty log in its place.
/// </summary>
/// <remarks>
/// Azure answers every operation on a missing table with 404 TableNotFound. Azurite does so only
/// for some (a conditional replace, an unfiltered query); it answers a filtered query with no rows
/// and accepts a transaction of inserts, so only those are checked here. A point read that finds
/// no table reads as "no such row" in the SDK, so an idempotency lookup finds no record and the
/// append that follows is refused.
/// </remarks>
public sealed class MissingTableTests(AzuriteFixture azurite) : EventStoreTestBase(azurite)
{
    [Fact]
    public async Task A_deleted_events_table_makes_reads_and_writes_unavailable_and_is_not_recreated()
    {
        await Store.AppendAsync("s", 0, [Event(1)], cancellationToken: Cancel);
        await Table.DeleteAsync(Cancel);

        var append = await Assert.ThrowsAsync<StorageUnavailableException>(() => Store.AppendAsync("s", 1, [Event(2)], cancellationToken: Cancel));
        Assert.False(append.WriteOutcomeUnknown);
        Assert.Contains("does not exist", append.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => Store.LoadLatestAsync("s", Cancel));

        // Still gone: a query of a missing table is answered 404.
        var gone = await Assert.ThrowsAsync<Azure.RequestFailedException>(async () =>
        {
            await foreach (var _ in Table.QueryAsync<Azure.Data.Tables.TableEntity>(maxPerPage: 1, cancellationToken: Cancel))
            {
            }
        });
        Assert.Equal(404, gone.Status);
    }
}
