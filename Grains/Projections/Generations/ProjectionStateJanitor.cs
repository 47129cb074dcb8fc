using Azure.Data.Tables;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.EventStore;
using OrderFlow.Grains.Projections.Storage;
using OrderFlow.Grains.Statistics;
using Orleans.Configuration;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>
/// Deletes the stored state of a projection generation that no longer serves. A generation's rows
/// are a few exact partitions (<see cref="ProjectionStateKeys"/>), deleted a transaction of up to
/// <see cref="TableLimits.MaxEntitiesPerTransaction"/> rows at a time; rows of earlier layouts are
/// a few exact partitions per grain type in layouts 5 and 6, and one exact PartitionKey and one
/// PartitionKey range per grain type where Orleans' Azure Table grain storage wrote them until
/// layout 4 ("{service id}_{grain id}" with '/' written as '_', and a projection's grain id is
/// "{type}/{generation}" or "{type}/{generation}/{rest}"; the service id is not encoded there, as
/// it is in the later layouts). None needs a scan of the table.
/// </summary>
public sealed class ProjectionStateJanitor(
    TableServiceClient service,
    IOptions<StatisticsOptions> statistics,
    IOptions<ClusterOptions> cluster,
    ILogger<ProjectionStateJanitor> logger)
{
    /// <summary>Deletes every stored row of <paramref name="generation"/>; returns how many there were.</summary>
    public async Task<int> DeleteGenerationAsync(int generation, CancellationToken cancellationToken = default)
    {
        var table = service.GetTableClient(statistics.Value.TableName);
        var deleted = 0;
        var types = ProjectionRegistry.All.Select(projection => projection.GrainType).ToList();
        var partitions = ProjectionStateKeys.PartitionsOf(cluster.Value.ServiceId, generation)
            .Concat(types.SelectMany(type => ProjectionStateKeys.PartitionsBeforeLayout7Of(cluster.Value.ServiceId, type, generation)));
        foreach (var partition in partitions)
        {
            deleted += await DeleteAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), cancellationToken);
        }

        foreach (var type in types)
        {
            var legacy = ProjectionStateKeys.LegacyPartitionKey(cluster.Value.ServiceId, FormattableString.Invariant($"{type}/{generation}"));
            deleted += await DeleteAsync(
                table,
                TableClient.CreateQueryFilter($"PartitionKey eq {legacy} or (PartitionKey ge {legacy + "_"} and PartitionKey lt {legacy + "`"})"), // '`' follows '_'
                cancellationToken);
        }

        logger.LogInformation("Deleted {Rows} stored projection states of generation {Generation}.", deleted, generation);
        return deleted;
    }

    /// <summary>Deletes the rows <paramref name="filter"/> selects, by partition in transactions; returns how many, less those deleted meanwhile.</summary>
    /// <remarks>
    /// Page by page: a generation of millions of rows (customers' snapshots, journal and spill rows)
    /// is never held in memory at once, and each page's rows are gone before the next is read (a
    /// continuation names where the query goes on, which deleting the rows before it leaves as it is).
    /// </remarks>
    private static async Task<int> DeleteAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await foreach (var page in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).AsPages())
        {
            foreach (var partition in page.Values.GroupBy(row => row.PartitionKey, StringComparer.Ordinal))
            {
                foreach (var chunk in partition.Chunk(TableLimits.MaxEntitiesPerTransaction))
                {
                    deleted += await TableRowDeletion.DeleteGroupAsync(table, [.. chunk.Select(row => new RowToDelete(row.PartitionKey, row.RowKey, ETag.All))], leftOut: null, cancellationToken);
                }
            }
        }

        return deleted;
    }
}
