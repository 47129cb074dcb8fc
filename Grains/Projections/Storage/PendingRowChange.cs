using Azure;
using Azure.Data.Tables;

namespace OrderFlow.Grains.Projections.Storage;

/// <summary>A grain's state row to add, replace or delete, waiting for its partition's next transaction, with its caller's outcome.</summary>
internal sealed class PendingRowChange(TableTransactionActionType kind, TableEntity entity, ETag etag, int estimatedBytes, string grain)
{
    public TableTransactionActionType Kind { get; } = kind;

    public TableEntity Entity { get; } = entity;

    /// <summary>The row's ETag as its grain read or last wrote it (none for an add).</summary>
    public ETag ETag { get; } = etag;

    /// <summary>What the change adds to a transaction's request body, within <see cref="EventStore.TableLimits.MaxTransactionBytes"/>.</summary>
    public int EstimatedBytes { get; } = estimatedBytes;

    /// <summary>The grain and state the row holds, for messages.</summary>
    public string Grain { get; } = grain;

    /// <summary>The row's new ETag (none once deleted), or why the change failed.</summary>
    public TaskCompletionSource<ETag?> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TableTransactionAction Action => new(Kind, Entity, ETag);
}
