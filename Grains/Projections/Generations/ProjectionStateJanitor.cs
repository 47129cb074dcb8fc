using Azure.Data.Tables;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderFlow.Grains.Statistics;
using Orleans.Configuration;

namespace OrderFlow.Grains.Projections.Generations;

/// <summary>
/// Deletes the stored state of a projection generation that no longer serves. Orleans' Azure Table
/// grain storage keys a grain's state by "{service id}_{grain id}" with '/', '\', '#' and '?'
/// written as '_' (<c>AzureTableStorage.GetKeyString</c>), and a projection's grain id is
/// "{type}/{generation}" or "{type}/{generation}/{rest}": so a generation's rows are one exact
/// PartitionKey and one PartitionKey range per grain type, found without scanning the table.
/// A test checks this against the real storage provider.
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
        foreach (var type in ProjectionRegistry.All.Select(projection => projection.GrainType))
        {
            var key = Sanitize(FormattableString.Invariant($"{cluster.Value.ServiceId}_{type}/{generation}"));
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {key} or (PartitionKey ge {key + "_"} and PartitionKey lt {key + "`"})"); // '`' follows '_'
            await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            {
                try
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                    deleted++;
                }
                catch (RequestFailedException failed) when (failed.Status == 404)
                {
                    // deleted meanwhile
                }
            }
        }

        logger.LogInformation("Deleted {Rows} stored projection states of generation {Generation}.", deleted, generation);
        return deleted;
    }

    /// <summary>The characters Orleans' Azure Table grain storage replaces in keys.</summary>
    private static string Sanitize(string key) => key.Replace('/', '_').Replace('\\', '_').Replace('#', '_').Replace('?', '_');
}
