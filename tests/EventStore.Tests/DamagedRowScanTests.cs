using Azure;
using Azure.Data.Tables;
using OrderFlow.Grains.EventStore;
using OrderFlow.Testing;

namespace OrderFlow.EventStore.Tests;

/// <summary>
/// The scan a rebuild reads reports a row it cannot read and goes on: a row damaged in storage (a
/// payload chunk gone, a chunk count beyond any row, a PartitionKey that does not decode) ended the
/// scan, and with it every rebuild for as long as the row was there.
/// </summary>
public sealed class DamagedRowScanTests(AzuriteFixture azurite) : EventStoreTestBase(azurite)
{
    [Theory]
    [InlineData("chunk missing")]
    [InlineData("chunk count beyond a row")]
    [InlineData("key that does not decode")]
    public async Task A_damaged_row_is_reported_and_the_scan_reads_the_streams_after_it(string damage)
    {
        await Store.AppendAsync("a-good", 0, [Event(1)], cancellationToken: Cancel);
        await Store.AppendAsync("m-damaged", 0, [Event(1, "\"" + new string('x', 40_000) + "\"")], cancellationToken: Cancel);
        await Store.AppendAsync("z-good", 0, [Event(1)], cancellationToken: Cancel);
        var row = (await Table.GetEntityAsync<TableEntity>(KeyEncoding.Encode("m-damaged"), KeyEncoding.EventRowKey(1), cancellationToken: Cancel)).Value;
        var expectedStream = "m-damaged";
        switch (damage)
        {
            case "chunk missing":
                row.Remove("Data1"); // as a hand edit, or a partial restore, would
                await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, Cancel);
                break;
            case "chunk count beyond a row":
                row[ChunkedPayload.CountProperty] = int.MaxValue;
                await Table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, Cancel);
                break;
            default:
                await Table.DeleteEntityAsync(row, ETag.All, Cancel);
                row.PartitionKey = expectedStream = "m~ZZ"; // '~' must be followed by two hex digits
                await Table.AddEntityAsync(row, Cancel);
                break;
        }

        var read = new List<(string, int)>();
        var unreadable = new List<(string, int)>();
        await foreach (var (stream, stored) in Store.ScanAllAsync((stream, version, _) => unreadable.Add((stream, version)), Cancel))
        {
            read.Add((stream, stored.Version));
        }

        Assert.Equal([("a-good", 1), ("z-good", 1)], read);
        Assert.Equal([(expectedStream, 1)], unreadable);
    }
}
