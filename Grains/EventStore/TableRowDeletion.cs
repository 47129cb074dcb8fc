using Azure;
using Azure.Data.Tables;

namespace OrderFlow.Grains.EventStore;

/// <summary>A row to delete, conditional on <paramref name="ETag"/> (<see cref="ETag.All"/>: whatever it holds now).</summary>
public readonly record struct RowToDelete(string PartitionKey, string RowKey, ETag ETag);

/// <summary>
/// Deletes rows of one partition in one transaction, where the rows that are gone (404) or were
/// written since they were read (412) must not stop the others: such a row fails the transaction,
/// so it is left out and the rest go in another (one by one when storage does not say which row).
/// </summary>
public static class TableRowDeletion
{
    /// <summary>
    /// Deletes <paramref name="group"/> (one partition, at most <see cref="TableLimits.MaxEntitiesPerTransaction"/>
    /// rows); <paramref name="leftOut"/> hears of each row left as it is. Returns how many were deleted.
    /// </summary>
    public static async Task<int> DeleteGroupAsync(TableClient table, IReadOnlyCollection<RowToDelete> group, Action<RowToDelete>? leftOut, CancellationToken cancellationToken)
    {
        var remaining = group.ToList();
        while (remaining.Count > 0)
        {
            try
            {
                await table.SubmitTransactionAsync(
                    remaining.Select(row => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(row.PartitionKey, row.RowKey), row.ETag)), cancellationToken);
                return remaining.Count;
            }
            catch (TableTransactionFailedException failed) when (failed.Status is 404 or 412)
            {
                if (failed.FailedTransactionActionIndex is not { } index || index < 0 || index >= remaining.Count)
                {
                    return await DeleteOneByOneAsync(table, remaining, leftOut, cancellationToken);
                }

                leftOut?.Invoke(remaining[index]);
                remaining.RemoveAt(index);
            }
        }

        return 0;
    }

    private static async Task<int> DeleteOneByOneAsync(TableClient table, List<RowToDelete> rows, Action<RowToDelete>? leftOut, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var row in rows)
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                deleted++;
            }
            catch (RequestFailedException failed) when (failed.Status is 404 or 412)
            {
                leftOut?.Invoke(row);
            }
        }

        return deleted;
    }
}
