using Azure;
using Azure.Data.Tables;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>Every row of some tables, with its ETag: two reads compare equal only if nothing was written in between.</summary>
public static class TableRows
{
    public static async Task<SortedDictionary<string, string>> ReadAsync(string connectionString, IEnumerable<string> tables)
    {
        var service = new TableServiceClient(connectionString);
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in tables)
        {
            try
            {
                await foreach (var entity in service.GetTableClient(name).QueryAsync<TableEntity>(cancellationToken: TestContext.Current.CancellationToken))
                {
                    rows[$"{name} | {entity.PartitionKey} | {entity.RowKey}"] = entity.ETag.ToString();
                }
            }
            catch (RequestFailedException missing) when (missing.Status == 404)
            {
                // A table nobody wrote to yet has no rows.
            }
        }

        return rows;
    }

    /// <summary>What changed from <paramref name="before"/> to <paramref name="after"/>, one line per row.</summary>
    public static IReadOnlyList<string> Differences(SortedDictionary<string, string> before, SortedDictionary<string, string> after) =>
    [
        .. after.Where(row => !before.TryGetValue(row.Key, out var etag) || etag != row.Value).Select(row => "written: " + row.Key),
        .. before.Keys.Where(key => !after.ContainsKey(key)).Select(key => "deleted: " + key),
    ];
}
