using Azure.Data.Tables;
using CsCheck;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Generations;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics;
using OrderFlow.Testing;
using OrderFlow.Testing.Keys;
using Orleans.Runtime;

namespace OrderFlow.Statistics.Tests;

/// <summary>
/// Every key the one encoder makes is legal in real table storage: written as PartitionKey and
/// RowKey, and as the RowKey the statistics grain storage makes of a customer's grain key, it is
/// read back by a point read and by a query, unchanged; different ids never meet in one row.
/// </summary>
public sealed class StorageKeyTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Every_encoded_key_is_written_and_read_back_by_point_read_and_by_query()
    {
        var ct = TestContext.Current.CancellationToken;
        var table = new TableClient(azurite.ConnectionString, TableNames.Unique("keys"));
        await table.CreateIfNotExistsAsync(ct);
        var idsByKey = new Dictionary<string, string>(StringComparer.Ordinal);

        await StorageKeyIds.Any.SampleAsync(async id =>
        {
            // The customer's grain state row, as the statistics grain storage keys it, for any id.
            var grain = GrainId.Create(ProjectionGrainTypes.Customer, StatisticsKeys.Customer(1, id));
            var statePartition = ProjectionStateKeys.PartitionKey("orderflow", grain);
            var grainStorageKey = ProjectionStateKeys.RowKey(grain, "customer");
            var rows = new List<(string PartitionKey, string RowKey)> { (statePartition, grainStorageKey) };

            // The key as the event log and the change index use it; an id too long for it is refused before storage (Domain.Tests checks which).
            string? key = null;
            try
            {
                key = KeyEncoding.Encode(id);
                rows.Add((key, key));
                rows.Add((statePartition, KeyEncoding.ChangeRowKey(id, 1)));
            }
            catch (ArgumentException)
            {
            }

            lock (idsByKey)
            {
                foreach (var each in new[] { key, grainStorageKey })
                {
                    Assert.True(each is null || idsByKey.TryAdd(each, id) || idsByKey[each] == id, $"Two ids share key {each}.");
                }
            }

            foreach (var (partitionKey, rowKey) in rows)
            {
                await table.UpsertEntityAsync(new TableEntity(partitionKey, rowKey) { ["Length"] = id.Length }, TableUpdateMode.Replace, ct);
                var read = (await table.GetEntityAsync<TableEntity>(partitionKey, rowKey, cancellationToken: ct)).Value;
                Assert.Equal((partitionKey, rowKey), (read.PartitionKey, read.RowKey));
                var found = new List<TableEntity>();
                await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey eq {rowKey}"), cancellationToken: ct))
                {
                    found.Add(row);
                }

                var only = Assert.Single(found);
                Assert.Equal((partitionKey, rowKey, id.Length), (only.PartitionKey, only.RowKey, only.GetInt32("Length")));
            }

            Assert.True(key is null || KeyEncoding.Decode(key) == id);
        }, iter: 400, threads: 4);
    }
}
