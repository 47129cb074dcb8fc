using Azure;
using Azure.Data.Tables;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>A grain's state row to add, replace or delete, waiting for its partition's next transaction, with its caller's outcome.</summary>
/// <param name="fence">
/// A row of the same partition the change is conditional on (see <see cref="Fence"/>); its ETag is <paramref name="fenceETag"/>.
/// </param>
internal sealed class PendingRowChange(
    TableTransactionActionType kind, TableEntity entity, ETag etag, int estimatedBytes, string grain, TableEntity? fence = null, ETag fenceETag = default)
{
    public TableTransactionActionType Kind { get; } = kind;

    public TableEntity Entity { get; } = entity;

    /// <summary>The row's ETag as its grain read or last wrote it (none for an add).</summary>
    public ETag ETag { get; } = etag;

    /// <summary>What the change adds to a transaction's request body, within <see cref="EventStore.TableLimits.MaxTransactionBytes"/>.</summary>
    public int EstimatedBytes { get; } = estimatedBytes + (fence is null ? 0 : 2 * (fence.PartitionKey.Length + fence.RowKey.Length) + 1024);

    /// <summary>The grain and state the row holds, for messages.</summary>
    public string Grain { get; } = grain;

    /// <summary>
    /// A row the change is conditional on (a journal row's snapshot): merged, conditional on its ETag,
    /// in the same transaction, so that the change lands only while that row is as its writer last
    /// saw it. The outcome is then that row's new ETag.
    /// </summary>
    public TableEntity? Fence { get; } = fence;

    /// <summary>The entities the change takes of a transaction's <see cref="EventStore.TableLimits.MaxEntitiesPerTransaction"/>.</summary>
    public int Entities => Fence is null ? 1 : 2;

    /// <summary>The row's new ETag (none once deleted), or why the change failed.</summary>
    public TaskCompletionSource<ETag?> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The change's actions, in order: its own row's, then its fence's.</summary>
    public IEnumerable<TableTransactionAction> Actions
    {
        get
        {
            yield return new(Kind, Entity, ETag);
            if (Fence is not null)
            {
                yield return new(TableTransactionActionType.UpdateMerge, Fence, fenceETag);
            }
        }
    }
}
